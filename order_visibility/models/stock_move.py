# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def write(self, vals):
        res = super().write(vals)
        if "state" in vals:
            # A receipt feeding a make-to-order delivery moves that order too.
            moves = self | self.move_dest_ids
            orders = moves.picking_id.sale_id | moves.sale_line_id.order_id
            if orders:
                cause = {
                    "done": "goods_moved",
                    "assigned": "stock_reserved",
                    "partially_available": "stock_partially_reserved",
                    "confirmed": "waiting_for_stock",
                    "cancel": "move_cancelled",
                }.get(vals["state"], "stock_updated")
                self.env["order.visibility"]._schedule_recompute(orders, cause)
        return res
