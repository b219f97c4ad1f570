# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _visibility_orders(self):
        return self.filtered(lambda m: m.move_type in ("out_invoice", "out_refund")).line_ids.sale_line_ids.order_id

    def write(self, vals):
        res = super().write(vals)
        if "state" in vals:
            cause = {"posted": "invoice posted", "cancel": "invoice cancelled", "draft": "invoice reset to draft"}
            self.env["order.visibility"]._schedule_recompute(
                self._visibility_orders(), cause.get(vals["state"], "invoice updated")
            )
        return res

    def _compute_payment_state(self):
        # payment_state is a stored compute: reconciliation changes it without
        # write(). The recompute pass logs a transition only on a real change.
        res = super()._compute_payment_state()
        invoices = self.filtered(lambda m: m.id and m.state == "posted")
        if invoices:
            self.env["order.visibility"]._schedule_recompute(invoices._visibility_orders(), "payment registered")
        return res
