# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict
from datetime import datetime, timedelta

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


class OrderVisibility(models.Model):
    _inherit = "order.visibility"

    # The aging drill-downs filter on stage and stage_since.
    _stage_since_idx = models.Index("(stage, stage_since)")
    # Top at-risk orders: the first rows of this index, not a sort of every open order.
    _top_at_risk_idx = models.Index(
        "(risk_score DESC, promised_date, id) WHERE stage IN "
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
        exception_base = self._control_tower_domain(filters, "visibility_id.")
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

        order_figures = self._control_tower_order_figures(base, now, threshold)
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
            "at_risk": {"count": total(order_figures, "at_risk"), "domain": at_risk_domain},
            "late": {"count": total(order_figures, "late"), "domain": late_domain},
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
    def _control_tower_domain(self, filters, prefix):
        """The filters as a domain on order.visibility (``prefix`` "") or on a
        model that points to it (``prefix`` "visibility_id.")."""
        domain = []
        if filters["company_ids"]:
            # Exceptions, approvals and transitions store the company themselves.
            domain.append(("company_id", "in", filters["company_ids"]))
        if filters["warehouse_id"]:
            domain.append((f"{prefix}warehouse_id", "=", filters["warehouse_id"]))
        if filters["team_id"]:
            domain.append((f"{prefix}team_id", "=", filters["team_id"]))
        if filters["priority"]:
            domain.append((f"{prefix}customer_priority", "=", filters["priority"]))
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
        """{stage: {count, late, at_risk, aging buckets...}} in one scan of the
        visibility records the user may read.

        One grouped query with FILTER clauses instead of one query per tile:
        the same conditions as the domains returned with the figures (the
        drill-downs), over the ORM's query (``_search``: record rules and
        allowed companies applied).
        """
        self.flush_model(["stage", "stage_since", "promised_date", "risk_score", "company_id"])
        query = self._search(base)
        if query.is_empty():
            return {}

        def column(name):
            return SQL.identifier(query.table, name)

        aggregates = [
            SQL("COUNT(*)"),
            SQL(
                "COUNT(*) FILTER (WHERE %s < %s AND %s IN %s)",
                column("promised_date"),
                now,
                column("stage"),
                OPEN_CONFIRMED_STAGES,
            ),
            SQL(
                "COUNT(*) FILTER (WHERE %s >= %s AND %s IN %s)",
                column("risk_score"),
                threshold,
                column("stage"),
                (*OPEN_CONFIRMED_STAGES, "pending_approval"),
            ),
        ]
        for _key, low, high in AGING_BUCKETS:
            conditions = [SQL("%s NOT IN %s", column("stage"), CLOSED_STAGES)]
            if low:
                conditions.append(SQL("%s < %s", column("stage_since"), now - timedelta(days=low)))
            if high is not None:
                conditions.append(SQL("%s >= %s", column("stage_since"), now - timedelta(days=high)))
            aggregates.append(SQL("COUNT(*) FILTER (WHERE %s)", SQL(" AND ").join(conditions)))
        self.env.cr.execute(
            SQL(
                "%s GROUP BY %s",
                query.select(column("stage"), *aggregates),
                column("stage"),
            )
        )
        keys = ["count", "late", "at_risk", *(key for key, _low, _high in AGING_BUCKETS)]
        return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in self.env.cr.fetchall()}

    @api.model
    def _control_tower_exception_figures(self, open_exceptions, now):
        """{severity: {open, unacknowledged, overdue}} of the open exceptions
        the user may read, in one query (same conditions as the domains
        ``state = open`` and ``is_overdue``)."""
        Exception_ = self.env["order.visibility.exception"]
        Exception_.flush_model(["severity", "state", "opened_at", "type_id", "company_id"])
        self.env["order.visibility.exception.type"].flush_model(["escalation_hours"])
        query = Exception_._search(open_exceptions)
        if query.is_empty():
            return {}
        types = query.join(query.table, "type_id", "order_visibility_exception_type", "id", "type")

        def column(name):
            return SQL.identifier(query.table, name)

        hours = SQL.identifier(types, "escalation_hours")
        self.env.cr.execute(
            SQL(
                "%s GROUP BY %s",
                query.select(
                    column("severity"),
                    SQL("COUNT(*)"),
                    SQL("COUNT(*) FILTER (WHERE %s = 'open')", column("state")),
                    SQL(
                        "COUNT(*) FILTER (WHERE %s = 'open' AND %s > 0 AND %s + %s * interval '1 hour' < %s)",
                        column("state"),
                        hours,
                        column("opened_at"),
                        hours,
                        now,
                    ),
                ),
                column("severity"),
            )
        )
        return {row[0]: {"open": row[1], "unacknowledged": row[2], "overdue": row[3]} for row in self.env.cr.fetchall()}

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
        # Searched, not computed per record: the same queries however many rows.
        overdue = set(Exception_.search([("id", "in", records.ids), ("is_overdue", "=", True)]).ids)
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
            *self._control_tower_domain(filters, "visibility_id."),
            ("changed_at", ">=", fields.Datetime.to_string(since)),
        ]
        confirmed_domain = [
            *base,
            ("from_stage", "in", ("draft", "pending_approval")),
            ("to_stage", "not in", PRE_CONFIRMATION_STAGES),
        ]
        shipped_domain = [
            *base,
            ("from_stage", "in", TO_SHIP_STAGES),
            ("to_stage", "not in", (*TO_SHIP_STAGES, "cancelled")),
        ]
        # One query for both series: the day as _read_group groups it (the
        # user's time zone), a FILTER per series (the conditions of the domains).
        Transition = self.env["order.visibility.transition"]
        Transition.flush_model(["changed_at", "from_stage", "to_stage", "company_id"])
        query = Transition._search(base)
        confirmed, shipped = {}, {}
        if not query.is_empty():
            day = Transition._read_group_groupby(query.table, "changed_at:day", query)
            from_stage = SQL.identifier(query.table, "from_stage")
            to_stage = SQL.identifier(query.table, "to_stage")
            self.env.cr.execute(
                SQL(
                    "%s GROUP BY 1",
                    query.select(
                        day,
                        SQL(
                            "COUNT(*) FILTER (WHERE %s IN %s AND %s NOT IN %s)",
                            from_stage,
                            ("draft", "pending_approval"),
                            to_stage,
                            PRE_CONFIRMATION_STAGES,
                        ),
                        SQL(
                            "COUNT(*) FILTER (WHERE %s IN %s AND %s NOT IN %s)",
                            from_stage,
                            TO_SHIP_STAGES,
                            to_stage,
                            (*TO_SHIP_STAGES, "cancelled"),
                        ),
                    ),
                )
            )
            for moment, confirmed_count, shipped_count in self.env.cr.fetchall():
                date = moment.date() if isinstance(moment, datetime) else moment
                confirmed[date], shipped[date] = confirmed_count, shipped_count
        days = self._control_tower_days(since, now)
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
        opened = self._day_counts("order.visibility.exception", opened_domain, "opened_at")
        resolved = self._day_counts("order.visibility.exception", resolved_domain, "resolved_at")
        days = self._control_tower_days(since, now)
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
        crons = {code: self.env.ref(xmlid, raise_if_not_found=False) for code, xmlid in WATCHED_CRONS.items()}
        crons = {code: cron.sudo() for code, cron in crons.items() if cron}
        item_failures = {
            "exception_sweep": int(params.get_param("order_visibility.last_sweep_failures") or 0),
            "reconcile": int(params.get_param("order_visibility.last_reconcile_failures") or 0),
        }
        last_runs = self.env["order.visibility.cron.run"].sudo()._last_runs()
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
                    "last_error": run["error"] if run and run["failed"] else "",
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
