# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.order_visibility.tools.constants import OPEN_CONFIRMED_STAGES, PRIORITIES, SEVERITIES
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

PERIODS = (7, 14, 30)
DEFAULT_PERIOD = 14
QUEUE_ORDERS = {
    "severity": "severity_rank desc, opened_at asc, id",
    "opened_at": "opened_at asc, id",
    "order": "sale_order_id desc, id",
    "owner": "owner_id, severity_rank desc, id",
}
FILTER_KEYS = {"company_ids", "warehouse_id", "team_id", "priority", "period", "queue_order", "queue_severity"}
# Filters of the order stored on exceptions and transitions (related fields
# of this addon), so the control tower filters them without a join:
# {filter key: (field, column type)}.
DENORMALISED_FILTERS = {
    "warehouse_id": ("warehouse_id", "int4"),
    "team_id": ("team_id", "int4"),
    "priority": ("customer_priority", "varchar"),
}
# The columns of the control tower's filters (and of the multi-company
# record rules) on the order, the exception and the transition tables:
# included in the indexes the figures are counted from (index-only scans).
ORDER_FILTER_COLUMNS = "company_id, warehouse_id, team_id, customer_priority"


def prefill_order_columns(model):
    """Create the columns of the denormalised filters on ``model``'s table
    (a model with ``visibility_id``) and fill them from the orders in one
    UPDATE, before the ORM would otherwise recompute the new related fields
    record by record (installing on a database of many orders)."""
    cr = model.env.cr
    missing = [
        (name, column_type)
        for name, column_type in DENORMALISED_FILTERS.values()
        if not column_exists(cr, model._table, name)
    ]
    if not missing or not column_exists(cr, model._table, "visibility_id"):
        return
    for name, column_type in missing:
        create_column(cr, model._table, name, column_type)
    cr.execute(
        SQL(
            "UPDATE %s AS record SET %s FROM order_visibility visibility WHERE visibility.id = record.visibility_id",
            SQL.identifier(model._table),
            SQL(", ").join(
                SQL("%s = %s", SQL.identifier(name), SQL.identifier("visibility", name)) for name, _type in missing
            ),
        )
    )


class OrderVisibilityControlTower(models.AbstractModel):
    """The control tower's report: every figure of the dashboard in one call,
    each with the domain of its drill-down.

    Nothing is stored: the figures are counted over the ORM's queries of the
    business models, with the caller's rights. Integrators call
    ``order.visibility.get_control_tower_data``, which delegates here.
    """

    _name = "order.visibility.control.tower"
    _description = "Order Visibility Control Tower"

    @api.model
    def _get_data(self, filters=None):
        """Every figure of the control tower, for the current user.

        ``filters`` (all optional): ``company_ids`` (within the allowed
        companies), ``warehouse_id``, ``team_id``, ``priority`` (customer
        priority code), ``period`` (days of the trends: 7, 14 or 30),
        ``queue_order`` and ``queue_severity`` (exception queue).

        Everything is read with the user's rights (record rules, allowed
        companies); each figure comes with the domain that gives it, so a
        drill-down list shows exactly as many records. The number of queries
        does not depend on the number of orders.
        """
        filters = self._parse_filters(filters or {})
        now = fields.Datetime.now()
        Visibility = self.env["order.visibility"]
        Exception_ = self.env["order.visibility.exception"]
        base = self._filters_domain(filters, "")
        exception_base = self._filters_domain(filters, "visibility_id.", denormalised=True)
        open_exceptions = [*exception_base, ("state", "!=", "resolved")]
        since = now - timedelta(days=filters["period"])

        threshold = Visibility._param("order_visibility.at_risk_threshold")
        at_risk_domain = [
            *base,
            ("stage", "in", (*OPEN_CONFIRMED_STAGES, "pending_approval")),
            ("is_at_risk", "=", True),
        ]
        late_domain = [*base, ("is_late", "=", True)]
        sla_domain = [*open_exceptions, ("is_overdue", "=", True)]
        unacknowledged_domain = [*exception_base, ("state", "=", "open")]

        order_figures, late_count, at_risk_count = self._order_figures(base, filters, now, threshold)
        counts = {stage: row["count"] for stage, row in order_figures.items()}
        stages = [
            {"stage": code, "label": label, "count": counts.get(code, 0), "domain": [*base, ("stage", "=", code)]}
            for code, label in Visibility._fields["stage"]._description_selection(self.env)
        ]
        exception_figures = self._exception_figures(open_exceptions, now)
        severity_labels = dict(Exception_._fields["severity"]._description_selection(self.env))
        exceptions_by_severity = {code: exception_figures.get(code, {}).get("open", 0) for code, _label in SEVERITIES}

        def total(figures, key):
            return sum(row[key] for row in figures.values())

        tiles = {
            "at_risk": {"count": at_risk_count, "domain": at_risk_domain},
            "late": {"count": late_count, "domain": late_domain},
            "sla_breaches": {"count": total(exception_figures, "overdue"), "domain": sla_domain},
            "open_exceptions": {"count": sum(exceptions_by_severity.values()), "domain": open_exceptions},
            "unacknowledged": {"count": total(exception_figures, "unacknowledged"), "domain": unacknowledged_domain},
        }
        queue_total = (
            exceptions_by_severity[filters["queue_severity"]]
            if filters["queue_severity"]
            else tiles["open_exceptions"]["count"]
        )
        return {
            "filters": filters,
            "generated_at": fields.Datetime.to_string(now),
            "at_risk_threshold": threshold,
            "stages": stages,
            "exceptions_by_severity": exceptions_by_severity,
            "severities": [
                {
                    "severity": code,
                    "label": severity_labels[code],
                    "count": exceptions_by_severity[code],
                    "domain": [*open_exceptions, ("severity", "=", code)],
                }
                for code, _label in reversed(SEVERITIES)
            ],
            "tiles": tiles,
            "aging": self._stage_aging(base, now, order_figures),
            "queue": self._exception_queue(open_exceptions, filters, queue_total),
            "throughput": self._throughput(filters, since, now),
            "exception_trend": self._exception_trend(exception_base, since, now),
            "top_at_risk": self._top_at_risk(at_risk_domain),
            "automation": self._automation_health(filters, since),
            "service_levels": self._service_levels(base, filters, now),
            "webhooks": Visibility._control_tower_webhook_health(filters, now),
            "options": self._filter_options(),
            "rights": {
                "manager": self.env.user.has_group("order_visibility.group_order_visibility_manager"),
                "system": self.env.user.has_group("base.group_system"),
            },
        }

    @api.model
    def _parse_filters(self, filters):
        if not isinstance(filters, dict) or set(filters) - FILTER_KEYS:
            raise UserError(
                self.env._(
                    "Unknown control tower filter: %(keys)s.",
                    keys=", ".join(sorted(set(filters) - FILTER_KEYS)) if isinstance(filters, dict) else filters,
                )
            )

        def as_id(key):
            value = filters.get(key) or False
            if value is not False and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                raise UserError(self.env._("The control tower filter %(key)s must be a record id.", key=key))
            return value

        company_ids = filters.get("company_ids") or []
        if not isinstance(company_ids, list) or not all(isinstance(c, int) for c in company_ids):
            raise UserError(self.env._("The control tower filter company_ids must be a list of company ids."))
        allowed = set(self.env.companies.ids)
        if set(company_ids) - allowed:
            raise UserError(self.env._("You can only filter on the companies you are working in."))
        priority = filters.get("priority") or False
        if priority and priority not in dict(PRIORITIES):
            raise UserError(self.env._("Unknown customer priority: %(priority)s.", priority=priority))
        period = filters.get("period") or DEFAULT_PERIOD
        if period not in PERIODS:
            raise UserError(
                self.env._("The period must be one of %(periods)s days.", periods=", ".join(map(str, PERIODS)))
            )
        queue_order = filters.get("queue_order") or "severity"
        if queue_order not in QUEUE_ORDERS:
            raise UserError(self.env._("The exception queue cannot be sorted by %(order)s.", order=queue_order))
        queue_severity = filters.get("queue_severity") or False
        if queue_severity and queue_severity not in dict(SEVERITIES):
            raise UserError(self.env._("Unknown severity: %(severity)s.", severity=queue_severity))
        return {
            "company_ids": company_ids,
            "warehouse_id": as_id("warehouse_id"),
            "team_id": as_id("team_id"),
            "priority": priority,
            "period": period,
            "queue_order": queue_order,
            "queue_severity": queue_severity,
        }

    @api.model
    def _count_sql(self, model, domain, *conditions):
        """The number of ``model``'s records of ``domain`` the user may read
        (the ORM's query: record rules and allowed companies) that meet
        ``conditions`` (each a function of the query's table giving SQL), as
        SQL to put in a query: a scalar subquery, ``0`` when the domain
        selects nothing."""
        query = self.env[model]._search(domain)
        if query.is_empty():
            return SQL("0")
        for condition in conditions:
            query.add_where(condition(query.table))
        return SQL("(%s)", query.select(SQL("COUNT(*)")))

    @api.model
    def _denormalised_fields(self):
        return [name for name, _type in DENORMALISED_FILTERS.values()]

    @api.model
    def _filters_domain(self, filters, prefix, denormalised=False):
        """The filters as a domain on order.visibility (``prefix`` "") or on a
        model that points to it (``prefix`` "visibility_id.").

        ``denormalised``: the model stores the order's warehouse, sales team
        and customer priority itself (exceptions and transitions,
        ``DENORMALISED_FILTERS``): filter on its own columns, the same
        records without a join."""
        domain = []
        if filters["company_ids"]:
            # Exceptions, approvals and transitions store the company themselves.
            domain.append(("company_id", "in", filters["company_ids"]))
        for key, (name, _type) in DENORMALISED_FILTERS.items():
            if filters[key]:
                domain.append((name if denormalised else f"{prefix}{name}", "=", filters[key]))
        return domain

    @api.model
    def _filter_options(self):
        """Choices of the filters: what the user's orders use."""
        # Users of Order Visibility may have no Inventory or Sales rights:
        # the names of the warehouses and teams of their companies are all
        # they get (small tables, not a scan of the orders).
        companies = self.env.companies.ids
        warehouses = self.env["stock.warehouse"].sudo().search_fetch([("company_id", "in", companies)], ["name"])
        teams = self.env["crm.team"].sudo().search_fetch([("company_id", "in", [*companies, False])], ["name"])
        return {
            "companies": [{"id": c.id, "name": c.name} for c in self.env.companies],
            "warehouses": [{"id": w.id, "name": w.name} for w in warehouses],
            "teams": [{"id": t.id, "name": t.name} for t in teams],
            "priorities": [
                {"id": code, "name": label}
                for code, label in self.env["order.visibility"]
                ._fields["customer_priority"]
                ._description_selection(self.env)
            ],
            "periods": list(PERIODS),
        }
