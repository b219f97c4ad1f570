# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What users do on an order's record: recompute it, ask for a credit
release, open the sales order."""

from odoo import models
from odoo.exceptions import AccessError


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    def action_request_credit_release(self):
        """Ask an approver (not the requester, not the salesperson) to release the hold."""
        self.check_access("read")
        for visibility in self.filtered("credit_hold"):
            amount = visibility.sale_order_id.sudo()._visibility_untaxed_in_company_currency()
            self.env["order.visibility.approval"]._request(
                visibility,
                "credit_release",
                visibility.credit_hold_reason or self.env._("Credit hold"),
                values={"amount_company": amount, "margin_approved": visibility.margin_percent},
            )
        return True

    def action_recompute(self):
        """Recompute the stage of the selected orders now (managers)."""
        if not self.env.user.has_group("order_visibility.group_order_visibility_manager"):
            raise AccessError(self.env._("Only Order Visibility managers can recompute orders."))
        self._recompute_orders(self.sale_order_id, cause="manual")
        return True

    def message_post(self, **kwargs):
        message = super().message_post(**kwargs)
        self._log_customer_update_if_sent(message, kwargs.get("message_type"))
        return message

    def action_open_sale_order(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": self.sale_order_id.id,
            "view_mode": "form",
        }
