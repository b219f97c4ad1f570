# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""When the time-based checks of each order can next change their answer
(``next_check_at``): the exception sweep visits the orders due and the
orders that changed, not every open order (docs/dev/architecture.md)."""

from collections import defaultdict
from datetime import datetime, time, timedelta

from odoo import fields, models
from odoo.tools import SQL

from ..tools.constants import BATCH_SIZE, OPEN_CONFIRMED_STAGES, TO_SHIP_STAGES

# Where the risk score changes band: the slack in days, rounded to 0.1,
# falls under 3, under 1, under 0 (see _risk_factors).
RISK_SLACK_EDGES_DAYS = (2.95, 0.95, -0.05)
# Stages in which the risk score reads the slack (see _risk_factors).
SLACK_STAGES = (*TO_SHIP_STAGES, "pending_approval", "confirmed")
WAITING_STAGES = ("awaiting_stock", "partially_shipped")


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    next_check_at = fields.Datetime(
        readonly=True,
        copy=False,
        default=fields.Datetime.now,
        index="btree_not_null",
        help="When a time-based check of the order (late, stale, overdue, risk band...) can next change: "
        "the exception sweep visits the order then. Empty when none can.",
    )

    def _mark_due(self):
        """The orders of ``self`` changed: the next sweep visits them (those
        not due already). Written with the pass's other fields of the
        orders, in the same UPDATE at flush."""
        now = fields.Datetime.now()
        todo = self.filtered(lambda visibility: not visibility.next_check_at or visibility.next_check_at > now)
        todo._write_changed("next_check_at", dict.fromkeys(todo.ids, now))

    def _schedule_next_check(self, now, facts=None, ship_dates=None):
        """Write ``next_check_at`` of the orders of ``self`` as seen at ``now``
        (``_next_checks``), where it changed: one UPDATE per batch.

        ``facts``: the stage facts of the orders (``_stage_facts``), when the
        caller has them already; ``ship_dates``: see ``_next_checks``.
        """
        for start in range(0, len(self), BATCH_SIZE):
            batch = self[start : start + BATCH_SIZE]
            next_checks = batch._next_checks(now, facts, ship_dates)
            self._write_column(
                "next_check_at",
                {
                    visibility.id: next_checks[visibility.id] or None
                    for visibility in batch
                    if visibility.next_check_at != next_checks[visibility.id]
                },
            )

    def _next_checks(self, now, facts=None, ship_dates=None):
        """{visibility id: the earliest moment from ``now`` at which a
        time-based check of the order can change its answer, or False}.

        The checks: the promise passing its grace (late shipment), the stage
        older than the stale thresholds (quotation, order, not invoiced), a
        posted invoice falling due (payment overdue), a transfer or a credit
        hold waiting longer than the review threshold, a feeding purchase's
        planned date (supply delay), the slack crossing a band edge of the
        risk score, a return or a refund waiting too long. What changes by
        event (a stage, a margin, an invoice paid) makes the order due at
        once instead (``_mark_due``). ``ship_dates``: a
        dict filled with the dates the goods can leave ({visibility id:
        date}), for the risk score to reuse (``_update_risk``).
        """
        param = self._param
        grace = timedelta(hours=param("order_visibility.late_grace_hours"))
        stale_quotation = timedelta(days=param("order_visibility.stale_quotation_days"))
        stale_order = timedelta(days=param("order_visibility.stale_order_days"))
        invoice_lag = timedelta(days=param("order_visibility.invoice_lag_days"))
        transfer_wait = timedelta(hours=param("order_visibility.transfer_wait_hours"))
        return_days = param("order_visibility.return_receipt_days")
        refund_days = param("order_visibility.refund_days")
        candidates = defaultdict(list)

        def add(visibility_id, moment):
            if moment and moment >= now:
                candidates[visibility_id].append(moment)

        for visibility in self:
            stage, since = visibility.stage, visibility.stage_since
            if stage in TO_SHIP_STAGES and visibility.promised_date:
                add(visibility.id, visibility.promised_date + grace)
            if stage == "draft":
                add(visibility.id, since + stale_quotation)
            elif stage in OPEN_CONFIRMED_STAGES:
                add(visibility.id, since + stale_order)
            elif stage == "shipped":
                add(visibility.id, since + invoice_lag)
            if visibility.return_state_since:
                if return_days and visibility.return_state == "requested":
                    add(visibility.id, visibility.return_state_since + timedelta(days=return_days))
                elif refund_days and visibility.return_state == "received":
                    add(visibility.id, visibility.return_state_since + timedelta(days=refund_days))
        # Quotations have no invoice; a paid order has every invoice paid.
        invoiced = self.filtered(lambda v: v.stage not in ("draft", "paid"))
        for visibility_id, due in invoiced._invoice_due_dates(now):
            # Overdue from the day after the due date (see _detect_payment_overdue).
            add(visibility_id, datetime.combine(due + timedelta(days=1), time.min))
        self.filtered(lambda v: v.stage not in ("draft", "cancelled"))._add_fulfilment_review_checks(
            now, transfer_wait, add
        )
        slack = self.filtered(lambda v: v.stage in SLACK_STAGES)
        if slack:
            facts = facts if facts is not None and all(v.sale_order_id.id in facts for v in slack) else None
            facts = facts or slack._stage_facts()
            for visibility in slack:
                open_moves = facts[visibility.sale_order_id.id].open_moves
                if visibility.stage in WAITING_STAGES:
                    for line in self._feeding_purchase_lines(open_moves):
                        add(visibility.id, line.date_planned)
                if visibility.promised_date:
                    ship_date, drifts = visibility._expected_ship_date_and_drift(now, open_moves)
                    if ship_dates is not None:
                        ship_dates[visibility.id] = ship_date
                    if drifts:
                        # Slack = promise - ship date, and the ship date moves on with time.
                        for edge in RISK_SLACK_EDGES_DAYS:
                            add(visibility.id, visibility.promised_date - (ship_date - now) - timedelta(days=edge))
        return {visibility.id: min(candidates[visibility.id], default=False) for visibility in self}

    def _invoice_due_dates(self, now):
        """[(visibility id, due date)] of the posted, unpaid customer invoices
        of the orders of ``self`` not due yet: one query."""
        if not self:
            return []
        self.env["account.move"].flush_model(["move_type", "state", "payment_state", "invoice_date_due"])
        self.env["account.move.line"].flush_model(["move_id"])
        self.env["sale.order.line"].flush_model(["order_id", "invoice_lines"])
        self.flush_model(["sale_order_id"])
        return self.env.execute_query(
            SQL(
                """SELECT visibility.id, MIN(invoice.invoice_date_due)
                     FROM order_visibility visibility
                     JOIN sale_order_line line ON line.order_id = visibility.sale_order_id
                     JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = line.id
                     JOIN account_move_line item ON item.id = rel.invoice_line_id
                     JOIN account_move invoice ON invoice.id = item.move_id
                    WHERE visibility.id = ANY(%s)
                      AND invoice.move_type = 'out_invoice' AND invoice.state = 'posted'
                      AND invoice.payment_state IN ('not_paid', 'partial') AND invoice.invoice_date_due >= %s
                 GROUP BY visibility.id""",
                self.ids,
                fields.Date.context_today(self, now),
            )
        )

    def _add_fulfilment_review_checks(self, now, wait, add):
        """Open transfers and unresolved credit holds of the orders reaching
        the review threshold later (see _detect_fulfilment_review)."""
        orders = self.sale_order_id
        if not orders:
            return
        visibility_of = {visibility.sale_order_id.id: visibility.id for visibility in self}
        for picking in self.env["stock.picking"].search_fetch(
            [
                ("sale_id", "in", orders.ids),
                ("picking_type_code", "!=", "incoming"),
                ("state", "in", ("waiting", "confirmed", "assigned")),
                ("scheduled_date", ">=", now - wait),
            ],
            ["sale_id", "scheduled_date"],
        ):
            add(visibility_of[picking.sale_id.id], picking.scheduled_date + wait)
        for hold in self.env["order.visibility.exception"].search_fetch(
            [
                ("visibility_id", "in", self.ids),
                ("code", "=", "credit_hold"),
                ("state", "!=", "resolved"),
                ("opened_at", ">=", now - wait),
            ],
            ["visibility_id", "opened_at"],
        ):
            add(hold.visibility_id.id, hold.opened_at + wait)


class OrderVisibilityException(models.Model):
    _inherit = "order.visibility.exception"  # pylint: disable=consider-merging-classes-inherited

    def _notify_change(self, event):
        # An exception opened, escalated or resolved changes its order's risk
        # score: the next sweep refreshes it.
        self.visibility_id._mark_due()
        return super()._notify_change(event)


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    def _update_move_date_deadline(self, new_date):
        # The planned date moved: the orders the purchase feeds are due
        # (supply delay, risk).
        res = super()._update_move_date_deadline(new_date)
        moves = self.move_ids | self.move_dest_ids
        while dest := moves.move_dest_ids - moves:
            moves |= dest
        orders = moves.sale_line_id.order_id | moves.picking_id.sale_id
        if orders:
            self.env["order.visibility"].sudo().search([("sale_order_id", "in", orders.ids)])._mark_due()
        return res
