# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestMultiStepDelivery(OrderVisibilityCommon):
    """Two-step (pick, ship) and three-step (pick, pack, ship) warehouses:
    the step whose destination is the customer decides. The order is ready
    to ship while its goods are reserved and prepared inside the company,
    partially shipped when the last step sent part of them, shipped when
    the last step sent everything (docs/user/stages.md, Multi-step delivery)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.two_steps = cls.env["stock.warehouse"].create({"name": "Two-Step DC", "code": "2DC"})
        cls.two_steps.delivery_steps = "pick_ship"  # switched as an admin does on the warehouse form
        cls.three_steps = cls.env["stock.warehouse"].create({"name": "Three-Step DC", "code": "3DC"})
        cls.three_steps.delivery_steps = "pick_pack_ship"

    def step(self, order, picking_type):
        pickings = order.picking_ids.filtered(
            lambda p: p.picking_type_id == picking_type and p.state not in ("done", "cancel")
        )
        self.assertEqual(len(pickings), 1, f"one open {picking_type.name}")
        pickings.action_assign()
        return pickings

    def assertBackorder(self, order, quantity, since=False):
        visibility = self.visibility(order)
        self.assertEqual(visibility.backorder_qty, quantity)
        self.assertEqual(bool(visibility.backorder_since), since)

    def test_two_steps_pick_then_ship(self):
        warehouse = self.two_steps
        self.set_stock(self.goods, 10, warehouse.lot_stock_id)
        order = self.create_order([(self.goods, 10)], warehouse=warehouse)
        order.action_confirm()
        self.assertStage(order, "ready_to_ship")
        self.assertEqual(order.picking_ids.picking_type_id, warehouse.pick_type_id, "the pick first; ship follows")
        # Half picked: the rest of the pick is a backorder, half waits at the output.
        self.deliver(self.step(order, warehouse.pick_type_id), {self.goods: 6})
        self.assertStage(order, "ready_to_ship")
        self.assertBackorder(order, 0.0)
        ship = self.step(order, warehouse.out_type_id)
        self.assertEqual(ship.location_dest_id.usage, "customer")
        self.assertEqual(ship.move_ids.product_uom_qty, 6)
        # The ship step leaves the company: 6 of 10 shipped, 4 left.
        self.deliver(ship)
        visibility = self.assertStage(order, "partially_shipped")
        self.assertEqual(visibility.last_transition_id.cause, "goods_moved")
        self.assertBackorder(order, 4.0, since=True)
        self.deliver(self.step(order, warehouse.pick_type_id))
        self.assertStage(order, "partially_shipped")
        self.assertBackorder(order, 4.0, since=True)
        self.deliver(self.step(order, warehouse.out_type_id))
        self.assertStage(order, "shipped")
        self.assertBackorder(order, 0.0)
        self.assertEqual(order.order_line.qty_delivered, 10)
        self.assertEqual(
            [to for _from, to in self.stage_path(order)], ["ready_to_ship", "partially_shipped", "shipped"]
        )

    def test_two_steps_short_pick_awaits_stock(self):
        warehouse = self.two_steps
        self.set_stock(self.goods, 3, warehouse.lot_stock_id)
        order = self.create_order([(self.goods, 5)], warehouse=warehouse)
        order.action_confirm()
        visibility = self.assertStage(order, "awaiting_stock")
        shortage = visibility.exception_ids.filtered(lambda e: e.code == "stock_shortage" and e.state != "resolved")
        self.assertEqual(len(shortage), 1)
        self.assertIn("2", shortage.detail)
        # The 3 picked and shipped leave 2 to follow.
        self.deliver(self.step(order, warehouse.pick_type_id), {self.goods: 3})
        self.deliver(self.step(order, warehouse.out_type_id))
        self.assertStage(order, "partially_shipped")
        self.assertBackorder(order, 2.0, since=True)
        self.receive(self.goods, 2, warehouse)
        self.deliver(self.step(order, warehouse.pick_type_id))
        self.assertStage(order, "partially_shipped")
        self.deliver(self.step(order, warehouse.out_type_id))
        self.assertStage(order, "shipped")
        self.assertFalse(self.visibility(order).exception_ids.filtered(lambda e: e.state != "resolved"))

    def test_three_steps_pick_pack_ship(self):
        warehouse = self.three_steps
        self.set_stock(self.goods, 4, warehouse.lot_stock_id)
        self.set_stock(self.goods_b, 2, warehouse.lot_stock_id)
        order = self.create_order([(self.goods, 4), (self.goods_b, 2)], warehouse=warehouse)
        order.action_confirm()
        self.assertStage(order, "ready_to_ship")
        self.deliver(self.step(order, warehouse.pick_type_id))
        self.assertStage(order, "ready_to_ship")
        pack = self.step(order, warehouse.pack_type_id)
        self.assertNotEqual(pack.location_dest_id.usage, "customer")
        self.deliver(pack)
        self.assertStage(order, "ready_to_ship")
        self.assertBackorder(order, 0.0)
        ship = self.step(order, warehouse.out_type_id)
        self.assertEqual(ship.state, "assigned", "the last step is ready")
        # The rice leaves first, the oil follows in the ship step's backorder.
        self.deliver(ship, {self.goods_b: 2})
        self.assertStage(order, "partially_shipped")
        self.assertBackorder(order, 4.0, since=True)
        self.deliver(self.step(order, warehouse.out_type_id))
        self.assertStage(order, "shipped")
        self.assertBackorder(order, 0.0)
        self.assertEqual(
            [to for _from, to in self.stage_path(order)], ["ready_to_ship", "partially_shipped", "shipped"]
        )

    def test_three_steps_pack_without_backorder_ships_what_was_packed(self):
        """A pack validated without a backorder drops the rest: what reaches
        the ship step is all that leaves, and the order is shipped then."""
        warehouse = self.three_steps
        self.set_stock(self.goods, 5, warehouse.lot_stock_id)
        order = self.create_order([(self.goods, 5)], warehouse=warehouse)
        order.action_confirm()
        self.deliver(self.step(order, warehouse.pick_type_id))
        self.deliver(self.step(order, warehouse.pack_type_id), {self.goods: 3}, backorder=False)
        self.assertStage(order, "ready_to_ship")
        self.deliver(self.step(order, warehouse.out_type_id))
        self.assertStage(order, "shipped")
        self.assertBackorder(order, 0.0)
        self.assertEqual(order.order_line.qty_delivered, 3)

    def test_second_company_multi_step_order_stays_its_own(self):
        company_b = self.setup_second_company()
        warehouse_b = company_b["warehouse"]
        warehouse_b.delivery_steps = "pick_ship"
        self.set_stock(self.goods, 5, self.two_steps.lot_stock_id)
        order = self.create_order([(self.goods, 5)], warehouse=self.two_steps)
        order.action_confirm()
        self.deliver(self.step(order, self.two_steps.pick_type_id))
        self.deliver(self.step(order, self.two_steps.out_type_id), {self.goods: 2})
        visibility = self.assertStage(order, "partially_shipped")
        admin_b = self.new_user(
            "ov_multistep_admin_b",
            "base.group_user,order_visibility.group_order_visibility_admin",
            company_b["company"],
        )
        self.assertFalse(
            self.env["order.visibility"].with_user(admin_b).search([("stage", "=", "partially_shipped")]),
            "a company-2 admin sees no company-1 order",
        )
        self.assertEqual(self.env["order.visibility"].search([("backorder_qty", "=", 3.0)]), visibility)
