# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The risk score: how likely the order misses its promised date
(advisory, 0-100), and its reasons in the reader's language."""

import json
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

from ..tools.constants import TO_SHIP_STAGES

# Risk points of the open exceptions, by severity, and at most in all.
SEVERITY_POINTS = {"low": 2, "medium": 5, "high": 15, "critical": 25}
EXCEPTION_POINTS_CAP = 40
# Approved expedited freight buys back time.
EXPEDITED_POINTS = -20


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    def _update_risk(self, facts=None, ship_dates=None):
        """Write the advisory 0-100 score of missing the promised date and
        its reasons (``_risk_factors``), where they changed. ``ship_dates``:
        the dates the goods can leave when the caller has them already."""
        factors = self._risk_factors(facts, ship_dates) if ship_dates else self._risk_factors(facts)
        changed, changed_scores, changed_reasons = defaultdict(list), defaultdict(list), {}
        for visibility in self:
            score = self._risk_score(factors[visibility.id])
            reasons = [reason for _points, reason in factors[visibility.id]]
            if visibility.risk_score != score:
                changed_scores[score].append(visibility.id)
            if (visibility.risk_reasons or []) != reasons:
                changed_reasons[visibility.id] = reasons
            if visibility.risk_score != score or visibility.id in changed_reasons:
                changed[score, json.dumps(reasons)].append(visibility.id)
        if len(changed) <= 1:
            # A user's order: the score and its reasons in one write.
            for (score, reasons_json), ids in changed.items():
                self.browse(ids).write({"risk_score": score, "risk_reasons": json.loads(reasons_json)})
            return
        # A batch: the score through the ORM, one write per score (tracking,
        # the at-risk rule and is_at_risk follow it); the reasons carry
        # figures (days of slack) that differ from order to order.
        for score, ids in changed_scores.items():
            self.browse(ids).write({"risk_score": score})
        self.browse(list(changed_reasons))._write_changed("risk_reasons", changed_reasons)

    def _risk_factors(self, facts=None, ship_dates=None, cleared_codes=()):
        """{visibility id: [(points, [reason code, {figures}]), ...]}: what the
        risk score of each order is made of, in the order the points count
        (``_risk_score``). The one rule of the score: the record's score, the
        fulfilment forecast and other addons' factors all go through it.

        Slack between the promised date and the date the goods can leave
        (now when reserved; the latest incoming purchase or the vendor lead
        time when short), a blocked stage, open exceptions, approved expedited
        freight and the customer's priority. ``ship_dates`` ({visibility id:
        date the goods leave}) and ``cleared_codes`` (codes of exceptions left
        out) forecast a change not made yet; by default, the order as it is.
        Other addons append their factors (a carrier's delay).
        """
        now = fields.Datetime.now()
        ship_dates = ship_dates or {}
        if facts is None and any(visibility.id not in ship_dates for visibility in self):
            facts = self._stage_facts()
        open_severities = defaultdict(list)
        # The records count their open exceptions: none, nothing to read.
        with_exceptions = self.filtered("exception_count")
        for visibility, code, severity, count in self.env["order.visibility.exception"]._read_group(
            [("visibility_id", "in", with_exceptions.ids), ("state", "!=", "resolved")],
            ["visibility_id", "code", "severity"],
            ["__count"],
        ):
            if code not in cleared_codes:
                open_severities[visibility.id] += [severity] * count
        expedite_costs = self.env["order.visibility.approval"]._approved_expedite_costs(self)
        all_factors = {}
        for visibility in self:
            factors = all_factors[visibility.id] = []
            if visibility.stage in TO_SHIP_STAGES or visibility.stage in ("pending_approval", "confirmed"):
                ship_date = ship_dates.get(visibility.id) or visibility._expected_ship_date(
                    now, facts[visibility.sale_order_id.id].open_moves
                )
                promised = visibility.promised_date
                if promised and ship_date:
                    slack_days = round((promised - ship_date).total_seconds() / 86400.0, 1)
                    if slack_days < 0:
                        factors.append((60, ["late", {"days": -slack_days}]))
                    elif slack_days < 1:
                        factors.append((40, ["no_slack", {}]))
                    elif slack_days < 3:
                        factors.append((20, ["slack", {"days": slack_days}]))
                if visibility.stage in ("credit_hold", "pending_approval"):
                    factors.append((15, ["blocked", {"stage": visibility.stage}]))
            severities = open_severities[visibility.id]
            if severities:
                points = min(EXCEPTION_POINTS_CAP, sum(SEVERITY_POINTS[severity] for severity in severities))
                factors.append((points, ["exceptions", {"count": len(severities)}]))
            if visibility.id in expedite_costs and visibility.stage in TO_SHIP_STAGES:
                # Approved expedited freight buys back time.
                cost = {"cost": expedite_costs[visibility.id], "currency": visibility.currency_id.name}
                factors.append((EXPEDITED_POINTS, ["expedited", cost]))
            if self._risk_score(factors) and visibility.customer_priority in ("1", "2"):
                factors.append((5 * int(visibility.customer_priority), ["important_customer", {}]))
        return all_factors

    @api.model
    def _risk_score(self, factors):
        """The 0-100 score of ``factors`` (see ``_risk_factors``): their points
        in order, never below zero on the way, at most 100."""
        score = 0
        for points, _reason in factors:
            score = max(0, score + points)
        return min(100, score)

    @api.depends("risk_reasons")
    @api.depends_context("lang")
    def _compute_risk_explanation(self):
        stage_labels = dict(self._fields["stage"]._description_selection(self.env))
        for visibility in self:
            texts = [
                visibility._risk_reason_text(code, figures, stage_labels)
                for code, figures in visibility.risk_reasons or []
            ]
            visibility.risk_explanation = "; ".join(texts) if texts else self.env._("No risk factor found.")

    def _risk_reason_text(self, code, figures, stage_labels):
        """One reason of the risk score, in the reader's language."""
        if code == "late":
            return self.env._("can ship %(days).1f days after the promise", days=figures["days"])
        if code == "no_slack":
            return self.env._("less than a day of slack before the promise")
        if code == "slack":
            return self.env._("%(days).1f days of slack", days=figures["days"])
        if code == "blocked":
            return self.env._("blocked (%(stage)s)", stage=stage_labels.get(figures["stage"], figures["stage"]))
        if code == "exceptions":
            return self.env._("%(count)s open exception(s)", count=figures["count"])
        if code == "important_customer":
            return self.env._("important customer")
        if code == "expedited":
            return self.env._(
                "expedited freight approved (%(cost)s %(currency)s)",
                cost=f"{figures['cost']:,.2f}",
                currency=figures["currency"],
            )
        return code

    def _expected_ship_date(self, now, open_moves):
        """When the goods can leave: now if nothing is short, else the
        latest planned arrival of the purchases feeding the short moves,
        else now plus the longest vendor lead time of the short products."""
        return self._expected_ship_date_and_drift(now, open_moves)[0]

    def _expected_ship_date_and_drift(self, now, open_moves):
        """(``_expected_ship_date``, whether that date moves on with time):
        counted from now, the slack of the order shrinks as time passes; set
        by a purchase's planned arrival, it stays (see _next_checks)."""
        short = self._short_moves(open_moves)
        if not short:
            return now, True
        planned = self._feeding_purchase_lines(short).mapped("date_planned")
        if planned:
            return max(planned), False
        lead_days = max(
            (seller.delay for seller in short.product_id.seller_ids if seller.delay),
            default=0,
        )
        return now + timedelta(days=lead_days), True

    @api.model
    def _feeding_purchase_lines(self, moves):
        """The open purchase lines (confirmed, not fully received) that bring
        in goods for ``moves`` somewhere along their chains."""
        origins = self.env["stock.move"].browse(moves._rollup_move_origs()).with_prefetch(moves._prefetch_ids)
        return origins.purchase_line_id.filtered(
            lambda line: line.order_id.state == "purchase" and line.qty_received < line.product_qty
        )
