# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Dropship: an order whose goods go from the vendor straight to the
customer waits on the vendor (stage ``awaiting_stock``), first on the
request for quotation, then on the vendor's transfer; ``waiting_on`` names
the purchase orders and vendors. Told by the locations (from a supplier
location to a customer location) and by the purchase's operation type,
so the core needs no ``stock_dropshipping``."""

from odoo import api, fields, models


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    waiting_on = fields.Char(
        readonly=True,
        help="The purchase orders and vendors a dropship order waits on, as written when its stage was computed.",
    )

    @api.model
    def _vendor_moves(self, moves):
        """The open ``moves`` that go from a vendor straight to the customer (dropship)."""
        return moves.filtered(
            lambda m: m.location_id.usage == "supplier" and m.location_dest_id.usage == "customer"
        ).with_prefetch(moves._prefetch_ids)

    def _update_waiting_on(self, facts):
        """Name the purchases a dropship order awaiting stock waits on; clear it otherwise."""
        values = {}
        for visibility in self:
            order_facts = facts[visibility.sale_order_id.id]
            lines = self.env["purchase.order.line"]
            if visibility.stage == "awaiting_stock":
                lines = self._vendor_moves(order_facts.open_moves).purchase_line_id | lines.browse(
                    order_facts.vendor_lines
                )
            values[visibility.id] = (
                ", ".join(
                    self.env._("%(po)s from %(vendor)s", po=po.name, vendor=po.partner_id.display_name)
                    for po in lines.order_id.sorted("id")
                )
                or False
            )
        self._write_changed("waiting_on", values)
