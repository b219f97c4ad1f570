# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.order_visibility.tools.constants import CLOSED_STAGES, OPEN_CONFIRMED_STAGES, SEVERITIES, STAGES
from odoo.tools import SQL

from .order_visibility_control_tower import QUEUE_ORDERS
from .order_visibility_tally import RISK_STAGES

# Stage aging buckets: (key, lower bound in days, upper bound in days or None).
AGING_BUCKETS = [("0_1", 0, 1), ("1_3", 1, 3), ("3_7", 3, 7), ("7_plus", 7, None)]
QUEUE_LIMIT = 40
TOP_AT_RISK_LIMIT = 8


class OrderVisibilityControlTower(models.AbstractModel):
    _inherit = "order.visibility.control.tower"  # pylint: disable=consider-merging-classes-inherited

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
    def _order_figures(self, base, filters, now, threshold):
        """({stage: {count, aging buckets...}}, late, at risk) of the
        visibility records the user may read, in one query.

        Read from the running counts of ``order.visibility.tally`` when the
        user's record rules allow it (``_tally_where``): a few rows, however
        many orders and whatever state autovacuum left the table in.
        Otherwise counted from the records (``_order_figures_counted``).
        """
        Visibility = self.env["order.visibility"]
        Visibility.flush_model(["stage", "stage_since", "promised_date", "risk_score", "company_id"])
        Visibility.flush_model(self._denormalised_fields())
        if Visibility._search(base).is_empty():
            return {}, 0, 0
        # Aging bounds, newest first: stage_since >= now - 1 d, 3 d, 7 d.
        bounds = [now - timedelta(days=low) for _key, low, _high in AGING_BUCKETS[1:]]
        stages = [code for code, _label in STAGES]
        tally_where = self._tally_where("order.visibility", filters)
        if tally_where is not None:
            rows, late_count, at_risk_count = self._order_figures_tallied(
                tally_where, base, now, threshold, bounds=bounds, stages=stages
            )
        else:
            rows, late_count, at_risk_count = self._order_figures_counted(base, now, threshold, bounds, stages)
        figures = {}
        for stage, total, *recent in rows:
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
    def _order_figures_counted(self, base, now, threshold, bounds, stages):
        """([(stage, total, since each bound...)], late, at risk) counted
        from the records.

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

        def in_stage(table):
            return SQL("%s = ov_stage.code", SQL.identifier(table, "stage"))

        def since(bound):
            # Closed stages do not age: nothing to count.
            return lambda table: SQL(
                "%s >= %s AND ov_stage.code NOT IN %s", SQL.identifier(table, "stage_since"), bound, CLOSED_STAGES
            )

        def count(*conditions):
            return self._count_sql("order.visibility", base, *conditions)

        late = count(
            lambda table: SQL("%s IN %s", SQL.identifier(table, "stage"), OPEN_CONFIRMED_STAGES),
            lambda table: SQL("%s < %s", SQL.identifier(table, "promised_date"), now),
        )
        at_risk = count(
            lambda table: SQL("%s IN %s", SQL.identifier(table, "stage"), RISK_STAGES),
            lambda table: SQL("%s >= %s", SQL.identifier(table, "risk_score"), threshold),
        )
        # Per stage, range counts rather than a FILTER per order: measured
        # faster although the recent orders are visited again.
        per_stage = [count(in_stage), *(count(in_stage, since(bound)) for bound in bounds)]
        self.env.cr.execute(
            SQL(
                "SELECT ov_stage.code, %s, %s, %s FROM unnest(%s::varchar[]) AS ov_stage(code)",
                SQL(", ").join(per_stage),
                late,
                at_risk,
                stages,
            )
        )
        rows = self.env.cr.fetchall()
        late_count, at_risk_count = rows[0][-2:]  # the same on every row (one row per stage)
        return [row[:-2] for row in rows], late_count, at_risk_count

    @api.model
    def _exception_figures(self, open_exceptions, now):
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
    def _stage_aging(self, base, now, order_figures):
        """Open orders per stage and time in it (counted by ``_order_figures``)."""
        labels = dict(self.env["order.visibility"]._fields["stage"]._description_selection(self.env))
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
    def _exception_queue(self, open_exceptions, filters, total):
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
    def _top_at_risk(self, at_risk_domain):
        Visibility = self.env["order.visibility"]
        records = Visibility.search_fetch(
            at_risk_domain,
            ["sale_order_id", "partner_id", "stage", "risk_score", "risk_reasons", "promised_date"],
            order="risk_score desc, promised_date, id",
            limit=TOP_AT_RISK_LIMIT,
        )
        labels = dict(Visibility._fields["stage"]._description_selection(self.env))
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
