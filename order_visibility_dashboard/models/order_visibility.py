# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz

from odoo import SUPERUSER_ID, api, fields, models
from odoo.addons.order_visibility.models.order_visibility import (
    CLOSED_STAGES,
    OPEN_CONFIRMED_STAGES,
    PRIORITIES,
    STAGES,
    TO_SHIP_STAGES,
)
from odoo.addons.order_visibility.models.order_visibility_exception_type import SEVERITIES
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

from .ir_websocket import CONTROL_TOWER_SUBCHANNEL
from .order_visibility_cron_run import WATCHED_CRONS

NOTIFIED_KEY = "order_visibility_dashboard.pending_notices"
PERIODS = (7, 14, 30)
DEFAULT_PERIOD = 14
# Stage aging buckets: (key, lower bound in days, upper bound in days or None).
AGING_BUCKETS = [("0_1", 0, 1), ("1_3", 1, 3), ("3_7", 3, 7), ("7_plus", 7, None)]
QUEUE_LIMIT = 40
QUEUE_ORDERS = {
    "severity": "severity_rank desc, opened_at asc, id",
    "opened_at": "opened_at asc, id",
    "order": "sale_order_id desc, id",
    "owner": "owner_id, severity_rank desc, id",
}
TOP_AT_RISK_LIMIT = 8
FILTER_KEYS = {"company_ids", "warehouse_id", "team_id", "priority", "period", "queue_order", "queue_severity"}
PRE_CONFIRMATION_STAGES = ("draft", "pending_approval", "cancelled")
WEBHOOK_DELIVERY_MODEL = "order.visibility.webhook.delivery"
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
# The transitions the throughput counts: confirmed (left the quotation
# stages for a confirmed one) and shipped (left the stages where goods still
# have to leave, other than by being cancelled), as (from stages, excluded
# to stages).
CONFIRMED_TRANSITIONS = (("draft", "pending_approval"), PRE_CONFIRMATION_STAGES)
SHIPPED_TRANSITIONS = (TO_SHIP_STAGES, (*TO_SHIP_STAGES, "cancelled"))


def _sql_list(values):
    return "({})".format(", ".join(f"'{value}'" for value in values))


def transition_condition(series):
    """The condition of a throughput series, ``CONFIRMED_TRANSITIONS`` or
    ``SHIPPED_TRANSITIONS``, as the predicate of its partial index; the
    throughput query repeats it (``transition_condition_sql``), so the
    planner reads the series from that index alone."""
    from_stages, to_stages = series
    return f"from_stage IN {_sql_list(from_stages)} AND to_stage NOT IN {_sql_list(to_stages)}"


def transition_condition_sql(series, table):
    from_stages, to_stages = series
    return SQL(
        "%s IN %s AND %s NOT IN %s",
        SQL.identifier(table, "from_stage"),
        from_stages,
        SQL.identifier(table, "to_stage"),
        to_stages,
    )


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


class OrderVisibility(models.Model):
    _inherit = "order.visibility"

    # Orders per stage and aging bucket (index-only range counts per stage,
    # see _control_tower_order_figures); the aging drill-downs filter on
    # stage and stage_since too.
    _stage_since_idx = models.Index(f"(stage, stage_since) INCLUDE ({ORDER_FILTER_COLUMNS})")
    # Top at-risk orders: the first rows of this index, not a sort of every
    # open order; with the stage and the filters, the late and at-risk
    # counts read it alone.
    _top_at_risk_idx = models.Index(
        f"(risk_score DESC, promised_date, id) INCLUDE (stage, {ORDER_FILTER_COLUMNS}) WHERE stage IN "
        "('confirmed', 'credit_hold', 'awaiting_stock', 'ready_to_ship', 'partially_shipped', 'pending_approval')"
    )

    # ------------------------------------------------------------------
    # Live updates: one small bus notice per company and transaction
    # ------------------------------------------------------------------

    def _on_transitions(self, transitions):
        result = super()._on_transitions(transitions)
        self._notify_control_tower(transitions)
        return result

    @api.model
    def _notify_control_tower(self, records):
        """Tell the control towers of the companies of ``records`` (records
        with a ``company_id``) that figures changed, once the transaction
        commits.

        Costs no query in the user's transaction: the records are noted on
        it, and after commit one short transaction of its own reads their
        companies and sends one small notice per company over the bus,
        whatever the number of changes. A rolled back change notifies nobody.
        The notice carries no business data: each dashboard refetches what
        its user may read.
        """
        if not records:
            return
        data = self.env.cr.postcommit.data
        pending = data.get(NOTIFIED_KEY)
        if pending is None:
            pending = data[NOTIFIED_KEY] = defaultdict(set)
            registry = self.env.registry

            @self.env.cr.postcommit.add
            def send_control_tower_notices():
                with registry.cursor() as cr:
                    api.Environment(cr, SUPERUSER_ID, {})["order.visibility"]._send_control_tower_notices(pending)

        pending[records._name].update(records.ids)

    @api.model
    def _send_control_tower_notices(self, pending):
        """``pending``: {model name: record ids} of committed changes."""
        company_ids = set()
        for model, ids in pending.items():
            # Searched, not browsed: a record deleted since is simply skipped.
            records = self.env[model].sudo().search_fetch([("id", "in", list(ids))], ["company_id"])
            company_ids.update(records.company_id.ids)
        for company in self.env["res.company"].sudo().browse(sorted(company_ids)):
            self.env["bus.bus"]._sendone(
                (company, CONTROL_TOWER_SUBCHANNEL),
                "order_visibility_dashboard/changed",
                {"company_id": company.id},
            )

    # ------------------------------------------------------------------
    # Durations of the scheduled actions the control tower watches
    # ------------------------------------------------------------------

    @api.model
    def _cron_exception_sweep(self):
        return self.env["order.visibility.cron.run"]._record_run("exception_sweep", super()._cron_exception_sweep)

    @api.model
    def _cron_reconcile(self):
        return self.env["order.visibility.cron.run"]._record_run("reconcile", super()._cron_reconcile)

    # ------------------------------------------------------------------
    # The control tower's one aggregated call
    # ------------------------------------------------------------------

    @api.model
    def get_control_tower_data(self, filters=None):
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
        filters = self._parse_control_tower_filters(filters or {})
        now = fields.Datetime.now()
        Visibility = self.env["order.visibility"]
        Exception_ = self.env["order.visibility.exception"]
        base = self._control_tower_domain(filters, "")
        exception_base = self._control_tower_domain(filters, "visibility_id.", denormalised=True)
        open_exceptions = [*exception_base, ("state", "!=", "resolved")]
        since = now - timedelta(days=filters["period"])

        threshold = self._param("order_visibility.at_risk_threshold")
        at_risk_domain = [
            *base,
            ("stage", "in", (*OPEN_CONFIRMED_STAGES, "pending_approval")),
            ("is_at_risk", "=", True),
        ]
        late_domain = [*base, ("is_late", "=", True)]
        sla_domain = [*open_exceptions, ("is_overdue", "=", True)]
        unacknowledged_domain = [*exception_base, ("state", "=", "open")]

        order_figures, late_count, at_risk_count = self._control_tower_order_figures(base, now, threshold)
        counts = {stage: row["count"] for stage, row in order_figures.items()}
        stages = [
            {"stage": code, "label": label, "count": counts.get(code, 0), "domain": [*base, ("stage", "=", code)]}
            for code, label in Visibility._fields["stage"]._description_selection(self.env)
        ]
        exception_figures = self._control_tower_exception_figures(open_exceptions, now)
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
            "aging": self._control_tower_aging(base, now, order_figures),
            "queue": self._control_tower_queue(open_exceptions, filters, queue_total),
            "throughput": self._control_tower_throughput(filters, since, now),
            "exception_trend": self._control_tower_exception_trend(exception_base, since, now),
            "top_at_risk": self._control_tower_top_at_risk(at_risk_domain),
            "automation": self._control_tower_automation(filters, since),
            "webhooks": self._control_tower_webhooks(filters, now),
            "options": self._control_tower_options(),
            "rights": {
                "manager": self.env.user.has_group("order_visibility.group_order_visibility_manager"),
                "system": self.env.user.has_group("base.group_system"),
            },
        }

    @api.model
    def _parse_control_tower_filters(self, filters):
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
    def _denormalised_fields(self):
        return [name for name, _type in DENORMALISED_FILTERS.values()]

    @api.model
    def _control_tower_domain(self, filters, prefix, denormalised=False):
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
    def _aging_domains(self, base, now):
        """{bucket key: domain} of open orders by time in their stage: 0-1 d,
        1-3 d, 3-7 d, > 7 d. A bucket includes its upper edge: an order
        exactly one day in its stage is in 0-1 d."""
        domains = {}
        for key, low, high in AGING_BUCKETS:
            domain = [*base, ("stage", "not in", CLOSED_STAGES)]
            if low:
                domain.append(("stage_since", "<", fields.Datetime.to_string(now - timedelta(days=low))))
            if high is not None:
                domain.append(("stage_since", ">=", fields.Datetime.to_string(now - timedelta(days=high))))
            domains[key] = domain
        return domains

    @api.model
    def _control_tower_order_figures(self, base, now, threshold):
        """({stage: {count, aging buckets...}}, late, at risk) of the
        visibility records the user may read, in one query.

        The conditions are those of the domains returned with the figures
        (the drill-downs), over the ORM's query (``_search``: record rules
        and allowed companies applied), each counted by index range counts
        rather than by a grouped scan of every order:

        - per stage, its orders and those in it since each aging bound
          (index on stage and stage_since with the filters): the buckets
          are differences of these counts (stage_since is required, so an
          order older than the last bound is one of the rest);
        - late and at risk: the partial index of the open confirmed stages
          (and pending approval), by promised date and risk score.
        """
        self.flush_model(["stage", "stage_since", "promised_date", "risk_score", "company_id"])
        self.flush_model(self._denormalised_fields())
        query = self._search(base)
        if query.is_empty():
            return {}, 0, 0
        # Aging bounds, newest first: stage_since >= now - 1 d, 3 d, 7 d.
        bounds = [now - timedelta(days=low) for _key, low, _high in AGING_BUCKETS[1:]]

        def in_stage(table):
            return SQL("%s = ov_stage.code", SQL.identifier(table, "stage"))

        def since(bound):
            return lambda table: SQL("%s >= %s", SQL.identifier(table, "stage_since"), bound)

        def count(conditions):
            query = self._search(base)
            for condition in conditions:
                query.add_where(condition(query.table))
            return SQL("(%s)", query.select(SQL("COUNT(*)")))

        late = count(
            [
                lambda table: SQL("%s IN %s", SQL.identifier(table, "stage"), OPEN_CONFIRMED_STAGES),
                lambda table: SQL("%s < %s", SQL.identifier(table, "promised_date"), now),
            ]
        )
        at_risk = count(
            [
                lambda table: SQL(
                    "%s IN %s", SQL.identifier(table, "stage"), (*OPEN_CONFIRMED_STAGES, "pending_approval")
                ),
                lambda table: SQL("%s >= %s", SQL.identifier(table, "risk_score"), threshold),
            ]
        )
        # Per stage, range counts rather than a FILTER per order: measured
        # faster although the recent orders are visited again.
        per_stage = [count([in_stage]), *(count([in_stage, since(bound)]) for bound in bounds)]
        self.env.cr.execute(
            SQL(
                "SELECT ov_stage.code, %s, %s, %s FROM unnest(%s::varchar[]) AS ov_stage(code)",
                SQL(", ").join(per_stage),
                late,
                at_risk,
                [code for code, _label in STAGES],
            )
        )
        rows = self.env.cr.fetchall()
        late_count, at_risk_count = rows[0][-2:]  # the same on every row (one row per stage)
        figures = {}
        for stage, total, *recent, _late, _at_risk in rows:
            if not total:
                continue
            figures[stage] = {"count": total}
            if stage not in CLOSED_STAGES:
                # Cumulative counts since each bound -> the buckets.
                cumulative = [*recent, total]
                for index, (key, _low, _high) in enumerate(AGING_BUCKETS):
                    figures[stage][key] = cumulative[index] - (cumulative[index - 1] if index else 0)
        return figures, late_count, at_risk_count

    @api.model
    def _control_tower_exception_figures(self, open_exceptions, now):
        """{severity: {open, unacknowledged, overdue}} of the open exceptions
        the user may read, in one query (same conditions as the domains
        ``state = open`` and ``is_overdue``, over the ORM's query: record
        rules and allowed companies applied), by index range counts per
        severity (the partial index of the open exceptions by severity,
        state, type and opening date, with the filters)."""
        Exception_ = self.env["order.visibility.exception"]
        Exception_.flush_model(
            ["severity", "state", "opened_at", "type_id", "company_id", *self._denormalised_fields()]
        )
        self.env["order.visibility.exception.type"].flush_model(["escalation_hours"])
        if Exception_._search(open_exceptions).is_empty():
            return {}

        def count(*conditions, unacknowledged=False):
            query = Exception_._search(open_exceptions)
            query.add_where(SQL("%s = ov_severity.code", SQL.identifier(query.table, "severity")))
            for condition in conditions:
                query.add_where(condition(query.table))
            if unacknowledged:  # in the same pass: the open ones and those not acknowledged
                return query.select(SQL("COUNT(*)"), SQL("COUNT(*) FILTER (WHERE %s)", is_open(query.table)))
            return query.select(SQL("COUNT(*)"))

        def is_open(table):
            return SQL("%s = 'open'", SQL.identifier(table, "state"))

        # Overdue: per type with escalation hours, its open exceptions opened
        # before its deadline: ``opened_at + hours < now`` is ``opened_at <
        # now - hours``, a range of the index, the deadline computed once
        # per type (no deadline when hours <= 0, as in ``is_overdue``).
        overdue = SQL(
            "SELECT COALESCE(SUM(overdue.count), 0) FROM (SELECT id, %s - escalation_hours * interval '1 hour'"
            " AS deadline FROM order_visibility_exception_type WHERE escalation_hours > 0) AS ov_type"
            " CROSS JOIN LATERAL (%s) AS overdue(count)",
            now,
            count(
                is_open,
                lambda table: SQL("%s = ov_type.id", SQL.identifier(table, "type_id")),
                lambda table: SQL("%s < ov_type.deadline", SQL.identifier(table, "opened_at")),
            ),
        )
        self.env.cr.execute(
            SQL(
                "SELECT ov_severity.code, counts.*, (%s) FROM unnest(%s::varchar[]) AS ov_severity(code)"
                " CROSS JOIN LATERAL (%s) AS counts",
                overdue,
                [code for code, _label in SEVERITIES],
                count(unacknowledged=True),
            )
        )
        return {
            severity: {"open": total, "unacknowledged": unacknowledged, "overdue": overdue}
            for severity, total, unacknowledged, overdue in self.env.cr.fetchall()
            if total
        }

    @api.model
    def _control_tower_aging(self, base, now, order_figures):
        """Open orders per stage and time in it (counted by ``_control_tower_order_figures``)."""
        labels = dict(self._fields["stage"]._description_selection(self.env))
        domains = self._aging_domains(base, now)
        rows = []
        for code, _label in STAGES:
            if code in CLOSED_STAGES:
                continue
            figures = order_figures.get(code, {})
            rows.append(
                {
                    "stage": code,
                    "label": labels[code],
                    "buckets": {
                        key: {"count": figures.get(key, 0), "domain": [*domains[key], ("stage", "=", code)]}
                        for key, _low, _high in AGING_BUCKETS
                    },
                }
            )
        return {
            "buckets": [{"key": key, "label": self._aging_label(low, high)} for key, low, high in AGING_BUCKETS],
            "rows": rows,
        }

    def _aging_label(self, low, high):
        if high is None:
            return self.env._("> %(days)s d", days=low)
        return self.env._("%(low)s-%(high)s d", low=low, high=high)

    @api.model
    def _control_tower_queue(self, open_exceptions, filters, total):
        Exception_ = self.env["order.visibility.exception"]
        domain = list(open_exceptions)
        if filters["queue_severity"]:
            domain.append(("severity", "=", filters["queue_severity"]))
        records = Exception_.search_fetch(
            domain,
            ["name", "sale_order_id", "code", "type_id", "severity", "state", "owner_id", "opened_at", "detail"],
            order=QUEUE_ORDERS[filters["queue_order"]],
            limit=QUEUE_LIMIT,
        )
        severity_labels = dict(Exception_._fields["severity"]._description_selection(self.env))
        state_labels = dict(Exception_._fields["state"]._description_selection(self.env))
        # ``is_overdue``'s condition on the rows read (their types are read
        # for the labels anyway): no query of its own, however many rows.
        now = fields.Datetime.now()
        overdue = {
            e.id
            for e in records
            if e.state == "open"
            and e.type_id.escalation_hours > 0
            and e.opened_at + timedelta(hours=e.type_id.escalation_hours) < now
        }
        return {
            "total": total,
            "domain": domain,
            "records": [
                {
                    "id": e.id,
                    "order": e.sale_order_id.sudo().display_name,
                    "type": e.type_id.display_name,
                    "severity": e.severity,
                    "severity_label": severity_labels[e.severity],
                    "state": e.state,
                    "state_label": state_labels[e.state],
                    "owner": e.owner_id.sudo().display_name or "",
                    "owner_id": e.owner_id.id,
                    "opened_at": fields.Datetime.to_string(e.opened_at),
                    "detail": e.detail or "",
                    "overdue": e.id in overdue,
                }
                for e in records
            ],
        }

    @api.model
    def _control_tower_days(self, since, now):
        """The days of the period, in the user's time zone (as ``:day`` groups are)."""
        today = fields.Datetime.context_timestamp(self, now).date()
        first = fields.Datetime.context_timestamp(self, since).date()
        return [first + timedelta(days=n) for n in range((today - first).days + 1)]

    @api.model
    def _day_starts(self, days):
        """The UTC start of each of ``days`` and of the day after the last,
        in the time zone ``_read_group`` groups ``:day`` by (the context's,
        else UTC): a record is in day ``n`` when its datetime is in
        ``[starts[n], starts[n + 1])``."""
        tz_name = self.env.context.get("tz")
        tz = pytz.timezone(tz_name) if tz_name in pytz.all_timezones_set else pytz.utc
        starts = []
        for day in [*days, days[-1] + timedelta(days=1)]:
            midnight = datetime.combine(day, time.min)
            try:
                local = tz.localize(midnight, is_dst=None)
            except pytz.AmbiguousTimeError:
                local = tz.localize(midnight, is_dst=True)  # the first of the two midnights
            except pytz.NonExistentTimeError:
                local = tz.localize(midnight, is_dst=False)  # the day starts when the clocks jump
            starts.append(local.astimezone(pytz.utc).replace(tzinfo=None))
        return starts

    @api.model
    def _count_per_day(self, counts, days):
        """{day: [count of each of ``counts``]} for ``days``, in one query.

        ``counts``: [(query, datetime column)], ORM queries (``_search``:
        record rules and allowed companies applied). Each day's count is an
        index range count on the column (the day's bounds), not a grouping
        expression computed for every record of the period."""
        starts = self._day_starts(days)
        columns = []
        for query, column in counts:
            if query.is_empty():
                columns.append(SQL("0"))
                continue
            field = SQL.identifier(query.table, column)
            query.add_where(SQL("%s >= ov_day.start AND %s < ov_day.stop", field, field))
            columns.append(SQL("(%s)", query.select(SQL("COUNT(*)"))))
        self.env.cr.execute(
            SQL(
                "SELECT ov_day.start, %s FROM unnest(%s::timestamp[], %s::timestamp[]) AS ov_day(start, stop)",
                SQL(", ").join(columns),
                starts[:-1],
                starts[1:],
            )
        )
        day_of = dict(zip(starts, days, strict=False))
        return {day_of[start]: row for start, *row in self.env.cr.fetchall()}

    @api.model
    def _day_counts(self, model, domain, date_field):
        groups = self.env[model]._read_group(domain, [f"{date_field}:day"], ["__count"])
        return {(day.date() if isinstance(day, datetime) else day): count for day, count in groups if day}

    @api.model
    def _control_tower_throughput(self, filters, since, now):
        """Orders confirmed and shipped per day, from the stage transitions.

        Confirmed: an order left the quotation stages for a confirmed one.
        Shipped: an order left the stages where goods still have to leave
        (other than by being cancelled).
        """
        base = [
            *self._control_tower_domain(filters, "visibility_id.", denormalised=True),
            ("changed_at", ">=", fields.Datetime.to_string(since)),
        ]
        (confirmed_from, confirmed_not_to), (shipped_from, shipped_not_to) = CONFIRMED_TRANSITIONS, SHIPPED_TRANSITIONS
        confirmed_domain = [*base, ("from_stage", "in", confirmed_from), ("to_stage", "not in", confirmed_not_to)]
        shipped_domain = [*base, ("from_stage", "in", shipped_from), ("to_stage", "not in", shipped_not_to)]
        # One query for both series, counted per day (the days as
        # _read_group groups them) by an index range count on the partial
        # index of each series: no scan of the other transitions, no
        # grouping expression per transition. The conditions are the ones
        # of the domains, over the ORM's query (record rules and allowed
        # companies applied).
        Transition = self.env["order.visibility.transition"]
        Transition.flush_model(["changed_at", "from_stage", "to_stage", "company_id", *self._denormalised_fields()])
        queries = []
        for series in (CONFIRMED_TRANSITIONS, SHIPPED_TRANSITIONS):
            query = Transition._search(base)
            if not query.is_empty():
                query.add_where(transition_condition_sql(series, query.table))
            queries.append(query)
        days = self._control_tower_days(since, now)
        counts = self._count_per_day([(query, "changed_at") for query in queries], days)
        confirmed = {day: row[0] for day, row in counts.items()}
        shipped = {day: row[1] for day, row in counts.items()}
        return {
            "days": [fields.Date.to_string(day) for day in days],
            "confirmed": [confirmed.get(day, 0) for day in days],
            "shipped": [shipped.get(day, 0) for day in days],
            "confirmed_domain": confirmed_domain,
            "shipped_domain": shipped_domain,
        }

    @api.model
    def _control_tower_exception_trend(self, exception_base, since, now):
        since_str = fields.Datetime.to_string(since)
        opened_domain = [*exception_base, ("opened_at", ">=", since_str)]
        resolved_domain = [*exception_base, ("state", "=", "resolved"), ("resolved_at", ">=", since_str)]
        days = self._control_tower_days(since, now)
        Exception_ = self.env["order.visibility.exception"]
        Exception_.flush_model(["opened_at", "company_id", *self._denormalised_fields()])
        # Opened: every exception of the period, counted per day on the
        # index of opened_at. Resolved: few, grouped as usual.
        opened = {
            day: row[0]
            for day, row in self._count_per_day([(Exception_._search(opened_domain), "opened_at")], days).items()
        }
        resolved = self._day_counts("order.visibility.exception", resolved_domain, "resolved_at")
        return {
            "days": [fields.Date.to_string(day) for day in days],
            "opened": [opened.get(day, 0) for day in days],
            "resolved": [resolved.get(day, 0) for day in days],
            "opened_domain": opened_domain,
            "resolved_domain": resolved_domain,
        }

    @api.model
    def _control_tower_top_at_risk(self, at_risk_domain):
        records = self.search_fetch(
            at_risk_domain,
            ["sale_order_id", "partner_id", "stage", "risk_score", "risk_reasons", "promised_date"],
            order="risk_score desc, promised_date, id",
            limit=TOP_AT_RISK_LIMIT,
        )
        labels = dict(self._fields["stage"]._description_selection(self.env))
        return [
            {
                "id": v.id,
                "order": v.display_name,
                "customer": v.partner_id.sudo().display_name or "",
                "stage": labels[v.stage],
                "risk_score": v.risk_score,
                "explanation": v.risk_explanation or "",
                "promised_date": fields.Datetime.to_string(v.promised_date) if v.promised_date else False,
            }
            for v in records
        ]

    @api.model
    def _control_tower_automation(self, filters, since):
        """Health of the suite's scheduled work (read as the engine: scheduled
        actions are admin records, their health is everybody's concern)."""
        params = self.env["ir.config_parameter"].sudo()
        # The three jobs in one prefetch set: one existence check and one
        # read for all of them (not one env.ref and one read per job).
        cron_ids = {code: self.env["ir.model.data"]._xmlid_to_res_id(xmlid) for code, xmlid in WATCHED_CRONS.items()}
        existing = {
            cron.id: cron
            for cron in self.env["ir.cron"]
            .sudo()
            .browse([cron_id for cron_id in cron_ids.values() if cron_id])
            .exists()
        }
        crons = {code: existing[cron_id] for code, cron_id in cron_ids.items() if cron_id in existing}
        item_failures = {
            "exception_sweep": int(params.get_param("order_visibility.last_sweep_failures") or 0),
            "reconcile": int(params.get_param("order_visibility.last_reconcile_failures") or 0),
        }
        last_runs = self.env["order.visibility.cron.run"].sudo()._last_runs()
        # An error text can name records, values or paths: administrators
        # only (who may read the runs themselves); the others see that it failed.
        show_errors = self.env.user.has_group("order_visibility.group_order_visibility_admin")
        now = fields.Datetime.now()
        jobs = []
        for code, cron in crons.items():
            run = last_runs.get(code)
            failures = cron.failure_count + item_failures.get(code, 0) + (1 if run and run["failed"] else 0)
            # Late: due more than one interval ago and not run since.
            overdue = bool(cron.active and cron.nextcall and cron.nextcall < now - timedelta(hours=1))
            jobs.append(
                {
                    "code": code,
                    "cron_id": cron.id,
                    "name": cron.name,
                    "active": cron.active,
                    "lastcall": fields.Datetime.to_string(cron.lastcall) if cron.lastcall else False,
                    "nextcall": fields.Datetime.to_string(cron.nextcall) if cron.nextcall else False,
                    "duration_ms": run["duration_ms"] if run else None,
                    "job_failures": cron.failure_count,
                    "item_failures": item_failures.get(code, 0),
                    "last_error": run["error"] if show_errors and run and run["failed"] else "",
                    "failing": bool(failures) or not cron.active or overdue,
                    "overdue": overdue,
                }
            )
        drift_raw = params.get_param("order_visibility.last_drift")
        drift = int(drift_raw) if drift_raw not in (None, False, "") else None
        return {
            "jobs": jobs,
            "drift": drift,
            "approval_cycle_hours": self._control_tower_approval_cycle(filters, since),
            "failing": any(job["failing"] for job in jobs) or bool(drift),
        }

    @api.model
    def _control_tower_approval_cycle(self, filters, since):
        """Median hours from request to decision of the approvals decided in the period."""
        Approval = self.env["order.visibility.approval"]
        domain = [
            *self._control_tower_domain(filters, "visibility_id."),
            ("state", "in", ("approved", "rejected")),
            ("decided_at", ">=", fields.Datetime.to_string(since)),
        ]
        # _search applies the record rules and allowed companies; only the
        # aggregate is computed in SQL (the ORM has no median).
        query = Approval._search(domain)
        table = query.table
        self.env.cr.execute(
            query.select(
                SQL(
                    "percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %s - %s) / 3600.0), COUNT(*)",
                    SQL.identifier(table, "decided_at"),
                    SQL.identifier(table, "requested_at"),
                )
            )
        )
        median, count = self.env.cr.fetchone()
        return {"median_hours": round(median, 1) if median is not None else None, "count": count, "domain": domain}

    @api.model
    def _control_tower_webhooks(self, filters, now):
        """Delivery health of the last 24 h, only when the webhooks addon is installed."""
        if WEBHOOK_DELIVERY_MODEL not in self.env:
            return False
        Delivery = self.env[WEBHOOK_DELIVERY_MODEL]
        if not Delivery.has_access("read"):
            return False  # users who may not read deliveries get no tile, not an error
        company = [("company_id", "in", filters["company_ids"])] if filters["company_ids"] else []
        recent = [*company, ("create_date", ">=", fields.Datetime.to_string(now - timedelta(hours=24)))]
        counts = dict(Delivery._read_group(recent, ["state"], ["__count"]))
        # Backlog: not delivered yet and not given up (failed ones wait for a retry).
        pending_domain = [*company, ("state", "in", ("pending", "sending", "failed"))]
        query = Delivery._search([*recent, ("state", "=", "delivered"), ("last_latency_ms", "!=", False)])
        self.env.cr.execute(
            query.select(
                SQL(
                    "percentile_cont(0.95) WITHIN GROUP (ORDER BY %s)",
                    SQL.identifier(query.table, "last_latency_ms"),
                )
            )
        )
        p95 = self.env.cr.fetchone()[0]
        oldest = Delivery.search_fetch(pending_domain, ["create_date"], order="create_date asc, id", limit=1)
        return {
            "delivered": {"count": counts.get("delivered", 0), "domain": [*recent, ("state", "=", "delivered")]},
            "pending": {
                "count": counts.get("pending", 0) + counts.get("sending", 0),
                "domain": [*recent, ("state", "in", ("pending", "sending"))],
            },
            "failed": {"count": counts.get("failed", 0), "domain": [*recent, ("state", "=", "failed")]},
            "dead": {"count": counts.get("dead", 0), "domain": [*recent, ("state", "=", "dead")]},
            "backlog": {"count": Delivery.search_count(pending_domain), "domain": pending_domain},
            "p95_latency_ms": round(p95) if p95 is not None else None,
            "oldest_pending": fields.Datetime.to_string(oldest.create_date) if oldest else False,
            "oldest_pending_id": oldest.id,
        }

    @api.model
    def _control_tower_options(self):
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
                for code, label in self._fields["customer_priority"]._description_selection(self.env)
            ],
            "periods": list(PERIODS),
        }
