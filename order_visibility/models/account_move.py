# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

from ..tools.constants import PAID_STATES


class AccountMove(models.Model):
    _inherit = "account.move"

    def _visibility_orders(self):
        return self.filtered(lambda m: m.move_type in ("out_invoice", "out_refund")).line_ids.sale_line_ids.order_id

    def write(self, vals):
        res = super().write(vals)
        if "state" in vals:
            cause = {"posted": "invoice_posted", "cancel": "invoice_cancelled", "draft": "invoice_reset_to_draft"}
            self.env["order.visibility"]._schedule_recompute(
                self._visibility_orders(), cause.get(vals["state"], "invoice_updated")
            )
        return res

    def _compute_payment_state(self):
        # payment_state is a stored compute: reconciling or un-reconciling a
        # payment, or a credit note, changes it without write(). The recompute
        # pass logs a transition only on a real change of stage.
        before = {move.id: move._origin.payment_state for move in self if move.id}
        res = super()._compute_payment_state()

        def cause_of(invoice):
            if invoice.payment_state in (*PAID_STATES, "partial"):
                return "payment_registered"
            if invoice.payment_state == "reversed":
                return "invoice_reversed"
            if before.get(invoice.id) in PAID_STATES:
                return "payment_removed"
            return "invoice_updated"

        posted = self.filtered(lambda m: m.id and m.state == "posted")
        for cause, invoices in posted.grouped(cause_of).items():
            self.env["order.visibility"]._schedule_recompute(invoices._visibility_orders(), cause)
        return res
