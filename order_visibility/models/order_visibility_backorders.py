# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Backorders: once a first delivery left, what is left to ship and since
when (docs/user/stages.md, Backorders). Written by the engine pass from the
facts it already read (the open moves of the orders) and one grouped query
for the date the first goods left; kits count in kits (Odoo's delivered
quantity of the kit line), multi-step routes by the step that leaves."""

from odoo import api, fields, models
from odoo.tools import SQL, float_compare


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    backorder_qty = fields.Float(
        string="Backorder Quantity",
        digits="Product Unit",
        readonly=True,
        help="Ordered goods not shipped yet once a first delivery left, in the units of the order's lines "
        "(a kit counts in kits). Zero unless the order is partially shipped.",
    )
    backorder_since = fields.Datetime(
        readonly=True,
        index="btree_not_null",
        help="When the first goods of a partially shipped order left: the age of its backorder.",
    )
    backorder_days = fields.Integer(
        string="Backorder Age (Days)",
        compute="_compute_backorder_days",
        help="Days since the first goods of a partially shipped order left.",
    )

    @api.depends("backorder_since")
    def _compute_backorder_days(self):
        now = fields.Datetime.now()
        for visibility in self:
            since = visibility.backorder_since
            visibility.backorder_days = (now - since).days if since else 0

    def _backorder_lines(self, facts):
        """{sale.order.line: quantity still to ship (line unit)} of a partially
        shipped order: the lines that still have an open move of any step
        (their rest follows), ordered minus delivered as Odoo counts it."""
        self.ensure_one()
        open_moves = facts[self.sale_order_id.id].open_moves
        lines = open_moves.sale_line_id | open_moves.move_dest_ids.sale_line_id
        remaining = {}
        for line in lines.sorted("id"):
            left = line.product_uom_qty - line.qty_delivered
            if float_compare(left, 0.0, precision_rounding=line.product_uom_id.rounding) > 0:
                remaining[line] = left
        return remaining

    def _first_shipment_dates(self):
        """{order id: when its first goods left} (done moves into a customer
        location, returns excluded), one grouped query."""
        self.env["stock.move"].flush_model(
            ["picking_id", "state", "location_dest_id", "origin_returned_move_id", "date"]
        )
        self.env["stock.picking"].flush_model(["sale_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT picking.sale_id, MIN(move.date)
                     FROM stock_move move
                     JOIN stock_picking picking ON picking.id = move.picking_id
                     JOIN stock_location dest ON dest.id = move.location_dest_id
                    WHERE picking.sale_id = ANY(%s) AND move.state = 'done'
                      AND dest.usage = 'customer' AND move.origin_returned_move_id IS NULL
                 GROUP BY picking.sale_id""",
                self.sale_order_id.ids,
            )
        )
        return dict(rows)

    def _update_backorders(self, facts):
        """Write what is left to ship and since when (partially shipped
        orders only; the others have no backorder)."""
        partial = self.filtered(lambda v: v.stage == "partially_shipped")
        first_dates = partial._first_shipment_dates() if partial else {}
        if partial:
            # Each order's open moves are their own recordset: read what
            # _backorder_lines needs for all of them at once, not per order.
            moves = self.env["stock.move"].union(*(facts[v.sale_order_id.id].open_moves for v in partial))
            lines = moves.sale_line_id | moves.move_dest_ids.sale_line_id
            lines.fetch(["product_uom_qty", "qty_delivered", "product_uom_id"])
            lines.product_uom_id.fetch(["rounding"])
        quantities, dates = {}, {}
        for visibility in self:
            if visibility.stage == "partially_shipped":
                quantities[visibility.id] = round(sum(visibility._backorder_lines(facts).values()), 6)
                dates[visibility.id] = first_dates.get(visibility.sale_order_id.id) or False
            else:
                quantities[visibility.id], dates[visibility.id] = 0.0, False
        self._write_changed("backorder_qty", quantities)
        self._write_changed("backorder_since", dates)

    def _backorder_summary(self):
        """What left and what follows, in the customer's words: ([(quantity,
        product)] shipped, [(quantity, product)] to follow) of a partially
        shipped order (line units, kits in kits, no internal reference)."""
        self.ensure_one()
        if self.stage != "partially_shipped":
            return [], []
        engine = self.sudo()
        remaining = engine._backorder_lines(engine._stage_facts())
        shipped = []
        for line in engine.sale_order_id.order_line.filtered(lambda li: li.qty_delivered > 0).sorted("id"):
            shipped.append((line.qty_delivered, line.product_id.with_context(display_default_code=False).display_name))
        to_follow = [
            (quantity, line.product_id.with_context(display_default_code=False).display_name)
            for line, quantity in remaining.items()
        ]
        return shipped, to_follow

    def _customer_update_sentences(self, facts):
        """A partially shipped order's update also says what left and what follows."""
        text = super()._customer_update_sentences(facts)
        shipped, to_follow = self._backorder_summary()
        if shipped and to_follow:
            text += " " + self.env._(
                "Already shipped: %(shipped)s; to follow: %(to_follow)s.",
                shipped=", ".join(f"{qty:g} {product}" for qty, product in shipped),
                to_follow=", ".join(f"{qty:g} {product}" for qty, product in to_follow),
            )
        return text
