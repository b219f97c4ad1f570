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
        return super().button_validate()
