# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.exceptions import UserError


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def button_validate(self):
        # Validating is a write: refuse who may not, before reading any order as the engine.
        self.check_access("write")
        held = self.filtered(
            lambda p: (
                p.picking_type_code == "outgoing"
                and p.location_dest_id.usage == "customer"
                and p.sale_id.sudo().visibility_ids.credit_hold
            )
        )
        if held:
            raise UserError(
                self.env._(
                    "%(pickings)s cannot ship: the order is on credit hold. Request a release from the order.",
                    pickings=", ".join(held.mapped("name")),
                )
            )
        self._check_return_authorization()
        return super().button_validate()

    def _check_return_authorization(self):
        """A return from a customer waits for its authorization when one is
        asked (order.visibility.approval, reason return_authorization)."""
        returns = self.filtered(
            lambda p: p.location_id.usage == "customer" and p.move_ids.origin_returned_move_id and p.sale_id
        )
        for picking in returns:
            visibility = picking.sale_id.sudo().visibility_ids[:1]
            reason = visibility._return_blocked_reason() if visibility else None
            if reason:
                raise UserError(
                    self.env._("%(picking)s cannot be received: %(reason)s.", picking=picking.name, reason=reason)
                )
