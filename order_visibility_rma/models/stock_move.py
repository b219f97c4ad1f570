# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.exceptions import UserError


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_done(self, cancel_backorder=False):
        # The reception of an RMA waits for its authorization like a return
        # transfer does (the core checks those in stock.picking.button_validate);
        # here, so that a reception validated on confirmation is held too.
        pending = self.filtered(lambda m: m.state not in ("done", "cancel"))
        for rma in pending.sudo().rma_receiver_ids:
            reason = rma._return_blocked_reason()
            if reason:
                raise UserError(self.env._("%(rma)s cannot be received: %(reason)s.", rma=rma.name, reason=reason))
        return super()._action_done(cancel_backorder=cancel_backorder)
