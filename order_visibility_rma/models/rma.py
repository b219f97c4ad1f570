# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.exceptions import UserError

# Orders whose RMAs changed in this transaction (cr.precommit.data).
RMA_ORDERS_KEY = "order_visibility_rma.orders"


class Rma(models.Model):
    _inherit = "rma"

    def _visibility_orders(self):
        """The sale orders of these RMAs: the order of the delivery each returns."""
        return self.sudo().move_id.sale_line_id.order_id

    def write(self, vals):
        res = super().write(vals)
        if "state" in vals or "refund_id" in vals:
            self._schedule_visibility()
        return res

    def _schedule_visibility(self):
        """Confirmed, received, refunded, replaced, back to draft: the
        returns lifecycle of the order reads its RMAs again in this
        transaction's pass (marked here, so that a pass without RMA news
        costs no query to find RMAs)."""
        orders = self._visibility_orders()
        self.env.cr.precommit.data.setdefault(RMA_ORDERS_KEY, set()).update(orders.ids)
        self.env["order.visibility"]._schedule_recompute(orders, "stock_updated")

    def action_confirm(self):
        # A new RMA of an order whose return waits for, or was refused, its
        # authorization is not confirmed (as a return transfer is not received).
        for rma in self.filtered(lambda r: r.state == "draft"):
            reason = rma._return_blocked_reason()
            if reason:
                raise UserError(self.env._("%(rma)s cannot be confirmed: %(reason)s.", rma=rma.name, reason=reason))
        return super().action_confirm()

    def _return_blocked_reason(self):
        """Why the order of this RMA may not take goods back yet (the core's
        return authorization), or None."""
        self.ensure_one()
        visibility = self._visibility_orders().visibility_ids[:1]
        return visibility._return_blocked_reason() if visibility else None
