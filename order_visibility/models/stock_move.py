# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def write(self, vals):
        res = super().write(vals)
        if "state" in vals:
            orders = self.picking_id.sale_id | self.sale_line_id.order_id
            if orders:
                cause = {
                    "done": "goods moved",
                    "assigned": "stock reserved",
                    "partially_available": "stock partially reserved",
                    "confirmed": "waiting for stock",
                    "cancel": "move cancelled",
                }.get(vals["state"], "stock updated")
                self.env["order.visibility"]._schedule_recompute(orders, cause)
        return res
