# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import ast
from pathlib import Path

from odoo.fields import Command
from odoo.modules.module import get_module_path
from odoo.tests import Form, tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestKitsAndManufacturing(OrderVisibilityCommon):
    """Kits (phantom bills of materials) count their components; an order
    made to order through manufacturing waits on its manufacturing order.
    The test database has mrp (the demo addon depends on it); the core reads
    both from the stock moves and never imports mrp."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kit = cls._create_product(
            name="Tapas Gift Box", is_storable=True, invoice_policy="delivery", lst_price=90.0, taxes_id=False
        )
        # One box: 1 bottle of oil and 2 bags of rice.
        cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": cls.kit.product_tmpl_id.id,
                "type": "phantom",
                "bom_line_ids": [
                    Command.create({"product_id": cls.goods.id, "product_qty": 1}),
                    Command.create({"product_id": cls.goods_b.id, "product_qty": 2}),
                ],
            }
        )

    def open_pickings(self, order):
        return order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))

    def open_exceptions(self, order, code):
        return self.visibility(order).exception_ids.filtered(lambda e: e.code == code and e.state != "resolved")

    def test_kit_shipped_when_all_its_components_are(self):
        self.set_stock(self.goods, 3)
        self.set_stock(self.goods_b, 6)
        order = self.create_order([(self.kit, 3)])
        order.action_confirm()
        self.assertStage(order, "ready_to_ship")
        moves = order.picking_ids.move_ids
        self.assertEqual(moves.product_id, self.goods | self.goods_b, "the delivery carries the components")
        self.assertEqual(moves.sale_line_id, order.order_line)
        # Only the oil leaves: some components of the kit line, no whole kit.
        self.deliver(order.picking_ids, {self.goods: 3})
        visibility = self.assertStage(order, "partially_shipped")
        self.assertEqual(order.order_line.qty_delivered, 0)
        self.assertEqual(visibility.backorder_qty, 3.0, "three kits are still to come")
        self.assertTrue(visibility.backorder_since)
        # Two bags of rice complete one box.
        self.deliver(self.open_pickings(order), {self.goods_b: 2})
        visibility = self.assertStage(order, "partially_shipped")
        self.assertEqual(order.order_line.qty_delivered, 1)
        self.assertEqual(visibility.backorder_qty, 2.0)
        self.deliver(self.open_pickings(order))
        visibility = self.assertStage(order, "shipped")
        self.assertEqual(order.order_line.qty_delivered, 3)
        self.assertEqual(visibility.backorder_qty, 0.0)
        invoices = self.invoice(order)
        self.assertStage(order, "invoiced")
        self.pay(invoices)
        self.assertStage(order, "paid")
        self.assertEqual(
            [to for _from, to in self.stage_path(order)],
            ["ready_to_ship", "partially_shipped", "shipped", "invoiced", "paid"],
        )

    def test_kit_short_of_one_component_awaits_stock(self):
        self.set_stock(self.goods, 2)
        self.set_stock(self.goods_b, 1)
        order = self.create_order([(self.kit, 2)])
        order.action_confirm()
        self.assertStage(order, "awaiting_stock")
        shortage = self.open_exceptions(order, "stock_shortage")
        self.assertEqual(len(shortage), 1)
        self.assertIn("Basmati Rice 10 kg", shortage.detail)
        self.assertNotIn("Olive Oil", shortage.detail)
        self.receive(self.goods_b, 3)
        self.open_pickings(order).action_assign()
        self.assertStage(order, "ready_to_ship")
        self.assertFalse(self.open_exceptions(order, "stock_shortage"))

    def test_made_to_order_waits_on_its_manufacturing_order(self):
        warehouse = self.warehouse
        route_mto = warehouse.mto_pull_id.route_id
        route_mto.active = True
        blend = self._create_product(
            name="House Olive Oil Blend",
            is_storable=True,
            invoice_policy="delivery",
            lst_price=60.0,
            taxes_id=False,
            route_ids=[Command.set([route_mto.id, warehouse.manufacture_pull_id.route_id.id])],
        )
        self.env["mrp.bom"].create(
            {
                "product_tmpl_id": blend.product_tmpl_id.id,
                "type": "normal",
                "bom_line_ids": [Command.create({"product_id": self.goods.id, "product_qty": 2})],
            }
        )
        self.set_stock(self.goods, 10)
        order = self.create_order([(blend, 3)])
        order.action_confirm()
        production = self.env["mrp.production"].search([("product_id", "=", blend.id)])
        self.assertEqual(len(production), 1, "confirming the order made a manufacturing order")
        visibility = self.assertStage(order, "awaiting_stock")
        shortage = self.open_exceptions(order, "stock_shortage")
        self.assertEqual(len(shortage), 1)
        self.assertIn(production.name, shortage.detail, "the manufacturing order is the cause")
        # Produce: the finished goods reach the delivery.
        production.action_assign()
        form = Form(production)
        form.qty_producing = 3
        production = form.save()
        production.move_raw_ids.picked = True
        production.button_mark_done()
        self.assertEqual(production.state, "done")
        self.open_pickings(order).action_assign()
        visibility = self.assertStage(order, "ready_to_ship")
        self.assertFalse(self.open_exceptions(order, "stock_shortage"))
        self.deliver(self.open_pickings(order))
        self.assertStage(order, "shipped")
        self.assertEqual([to for _from, to in self.stage_path(order)], ["awaiting_stock", "ready_to_ship", "shipped"])
        self.assertEqual(visibility.transition_ids.sorted("id")[0].cause, "order_confirmed")

    def test_company_two_admin_never_sees_company_one_kits(self):
        company_b = self.setup_second_company()
        self.set_stock(self.goods, 1)
        self.set_stock(self.goods_b, 2)
        order = self.create_order([(self.kit, 1)])
        order.action_confirm()
        self.deliver(order.picking_ids, {self.goods: 1})
        self.assertStage(order, "partially_shipped")
        admin_b = self.new_user(
            "ov_kit_admin_b", "base.group_user,order_visibility.group_order_visibility_admin", company_b["company"]
        )
        self.assertFalse(self.env["order.visibility"].with_user(admin_b).search([("backorder_qty", ">", 0)]))

    def test_core_does_not_depend_on_mrp(self):
        path = Path(get_module_path("order_visibility"))
        manifest = ast.literal_eval((path / "__manifest__.py").read_text())
        self.assertNotIn("mrp", manifest["depends"])
        for source in path.rglob("*.py"):
            if "tests" in source.parts:
                continue
            self.assertNotIn("addons.mrp", source.read_text(), f"{source.name} imports nothing from mrp")
