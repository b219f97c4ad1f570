# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The margin of the order on its record (``sale.order._visibility_margins``)."""

from odoo import models


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    def _update_margins(self):
        margins = self.sale_order_id._visibility_margins()
        self._write_changed("margin_percent", {v.id: round(margins[v.sale_order_id.id], 2) for v in self})
