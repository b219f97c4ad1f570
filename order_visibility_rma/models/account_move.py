# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _visibility_orders(self):
        # An RMA's credit note has no sale order line (OCA rma alone): its
        # posting and payment move the order of the RMA.
        refunds = self.filtered(lambda m: m.move_type == "out_refund").sudo()
        return super()._visibility_orders() | refunds.line_ids.rma_id._visibility_orders()
