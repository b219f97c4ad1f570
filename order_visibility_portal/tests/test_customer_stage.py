# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.addons.order_visibility.tools.constants import STAGES
from odoo.tests import tagged

from ..tools.customer_stage import CUSTOMER_STAGE_OF, CUSTOMER_STAGES, customer_stage_code
from .common import PortalCommon

EXPECTED = {
    "cancelled": "cancelled",
    "draft": "received",
    "pending_approval": "received",
    "credit_hold": "received",
    "confirmed": "preparing",
    "awaiting_stock": "preparing",
    "ready_to_ship": "ready",
    "partially_shipped": "partially_shipped",
    "shipped": "shipped",
    "invoiced": "shipped",
    "paid": "shipped",
}


@tagged("post_install", "-at_install")
class TestCustomerStage(PortalCommon):
    def test_every_internal_stage_has_its_customer_stage(self):
        self.assertEqual({code for code, _label in STAGES}, set(EXPECTED))
        for stage, expected in EXPECTED.items():
            with self.subTest(stage=stage):
                self.assertEqual(customer_stage_code(stage), expected)
                self.assertIn(CUSTOMER_STAGE_OF[stage], CUSTOMER_STAGES)

    def test_delivered_only_once_everything_left(self):
        for stage in ("shipped", "invoiced", "paid"):
            self.assertEqual(customer_stage_code(stage, delivered=True), "delivered")
        for stage in ("partially_shipped", "ready_to_ship", "credit_hold", "cancelled"):
            self.assertEqual(customer_stage_code(stage, delivered=True), EXPECTED[stage])

    def test_labels(self):
        order = self.create_order([(self.goods, 1)])
        labels = order._ov_customer_stage_labels()
        self.assertEqual(
            labels,
            {
                "received": "Order received",
                "preparing": "Being prepared",
                "ready": "Ready to ship",
                "partially_shipped": "Partially shipped",
                "shipped": "Shipped",
                "delivered": "Delivered",
                "cancelled": "Cancelled",
            },
        )
        self.assertEqual(order._customer_stage(), ("received", "Order received"))

    def test_delivered_by_milestone_or_proof(self):
        by_milestone, by_proof, in_transit = (self.shipped_order() for _i in range(3))
        self.add_milestone(by_milestone, "delivered")
        self.add_milestone(by_proof, "in_transit", proof=True)
        self.add_milestone(in_transit, "in_transit")
        orders = by_milestone | by_proof | in_transit
        stages = orders._ov_customer_stages()
        self.assertEqual(stages[by_milestone.id], ("delivered", "Delivered"))
        self.assertEqual(stages[by_proof.id], ("delivered", "Delivered"))
        self.assertEqual(stages[in_transit.id], ("shipped", "Shipped"))

    def test_partial_shipment_with_a_delivered_milestone_stays_partial(self):
        order = self.create_order([(self.goods, 2), (self.goods_b, 2)])
        self.set_stock(self.goods, 2)
        self.set_stock(self.goods_b, 2)
        order.action_confirm()
        self.deliver(order.picking_ids, {self.goods: 2, self.goods_b: 0})
        self.assertStage(order, "partially_shipped")
        self.add_milestone(order, "delivered")
        self.assertEqual(order._customer_stage()[0], "partially_shipped")

    def test_tracking_reads_a_constant_number_of_queries(self):
        """The card and the API cost the same whatever the number of milestones."""
        counts = []
        for milestones in (1, 6):
            order = self.shipped_order()
            for _i in range(milestones):
                self.add_milestone(order, "in_transit", carrier="Northwind", tracking_ref="NW-1")
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            tracking = order._ov_tracking()
            counts.append(self.env.cr.sql_log_count - before)
            self.assertEqual(len(tracking["milestones"]), milestones)
        self.assertEqual(counts[0], counts[1], counts)
