# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Recomputing the service-level measures of one shipped order costs the
same number of queries whatever its number of lines and shipments
(bench/service_levels.py prints the same counts)."""

from datetime import timedelta

from odoo import fields
from odoo.fields import Command
from odoo.tests import tagged

from ..tools.constants import SERVICE_LEVEL_FIELDS
from .common import OrderVisibilityCommon

# Invalidating and recomputing the stored measures of one shipped order: one
# query for its lines and the moves that carried them, one UPDATE, and 2 of
# Odoo's automation rules (the rule and its model read; the on-write rules of
# order.visibility are searched once per transaction, see
# models/base_automation.py, by the warm-up here).
MEASURE_QUERIES = 4


@tagged("post_install", "-at_install")
class TestServiceLevelQueries(OrderVisibilityCommon):
    def shipped_order(self, lines, shipments):
        """An order of ``lines`` goods lines (3 units each, goods and goods
        B in turn), confirmed and shipped in ``shipments`` deliveries (1 or
        3), each the backorder of the previous one."""
        products = [self.goods, self.goods_b]
        for product in products:
            self.set_stock(product, 3 * lines)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "commitment_date": fields.Datetime.now() + timedelta(days=2),
                "order_line": [
                    Command.create({"product_id": products[n % 2].id, "product_uom_qty": 3}) for n in range(lines)
                ],
            }
        )
        order.action_confirm()
        for part in range(shipments):
            picking = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")).with_context(
                skip_sms=True
            )
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty if part == shipments - 1 else 3 / shipments
                move.picked = True
            result = picking.button_validate()
            if isinstance(result, dict) and result.get("res_model") == "stock.backorder.confirmation":
                self.env["stock.backorder.confirmation"].with_context(**result["context"]).create({}).process()
        self.flush()
        visibility = self.visibility(order)
        self.assertTrue(visibility.is_measured)
        self.assertEqual(len(order.picking_ids.filtered(lambda p: p.state == "done")), shipments)
        self.assertEqual(len(order.order_line), lines)
        return visibility

    def recompute(self, visibility):
        """Invalidate the measures of ``visibility`` and mark them to
        recompute, as the engine's pass does when its stage changes (the
        record and its order loaded)."""
        Visibility = self.env["order.visibility"].sudo()
        visibility.sudo().write(dict.fromkeys(SERVICE_LEVEL_FIELDS, False))
        self.env.flush_all()
        self.env.invalidate_all()
        engine = Visibility.search([("id", "=", visibility.id)])
        engine.sale_order_id.fetch(["state", "date_order"])
        for name in SERVICE_LEVEL_FIELDS:
            self.env.add_to_compute(Visibility._fields[name], engine)
        return engine

    def assertMeasureQueries(self, visibility):
        expected = {name: visibility[name] for name in SERVICE_LEVEL_FIELDS}
        Visibility = self.env["order.visibility"].sudo()
        self.recompute(visibility)
        Visibility.flush_model()  # warm-up: parameters, precisions
        engine = self.recompute(visibility)
        # flush=False: Odoo's default flush on entering would compute them before counting.
        with self.assertQueryCount(MEASURE_QUERIES, flush=False):
            Visibility.flush_model()
        self.assertEqual({name: engine[name] for name in SERVICE_LEVEL_FIELDS}, expected, "the same measures")

    def test_same_queries_for_1_10_and_50_lines(self):
        for lines in (1, 10, 50):
            with self.subTest(lines=lines):
                self.assertMeasureQueries(self.shipped_order(lines, 1))

    def test_same_queries_for_1_and_3_shipments(self):
        for lines, shipments in ((1, 3), (10, 3), (50, 3)):
            with self.subTest(lines=lines, shipments=shipments):
                visibility = self.shipped_order(lines, shipments)
                self.assertFalse(visibility.is_in_full, "shipped in parts")
                self.assertMeasureQueries(visibility)
