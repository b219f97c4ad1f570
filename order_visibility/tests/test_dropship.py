# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Dropship: the order waits on its vendor (``awaiting_stock``, the purchase
and vendor named), ``supply_delay`` opens when the vendor's date passes, the
vendor's transfer to the customer ships it. Needs ``stock_dropshipping`` in
the test database (the core does not depend on it): skipped otherwise."""

from datetime import timedelta

from odoo import fields
from odoo.fields import Command
from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestDropship(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.route = cls.env.ref("stock_dropshipping.route_drop_shipping", raise_if_not_found=False)
        if not cls.route:
            return
        cls.vendor = cls.env["res.partner"].create({"name": "Iberian Olive Growers"})
        cls.dropshipped = cls._create_product(
            name="Olive Oil 200 L Drum",
            is_storable=True,
            invoice_policy="delivery",
            lst_price=900.0,
            standard_price=600.0,
            taxes_id=False,
            route_ids=[Command.link(cls.route.id)],
            seller_ids=[Command.create({"partner_id": cls.vendor.id, "price": 600.0, "delay": 3})],
        )

    def setUp(self):
        super().setUp()
        if not self.route:
            self.skipTest("stock_dropshipping is not installed in this database")

    def dropship_order(self, qty=2):
        order = self.create_order([(self.dropshipped, qty)])
        order.action_confirm()
        self.flush()
        return order

    def open_exceptions(self, order, code):
        self.flush()
        return self.env["order.visibility.exception"].search(
            [("sale_order_id", "=", order.id), ("code", "=", code), ("state", "!=", "resolved")]
        )

    def test_waits_on_the_vendor_then_ships_with_the_vendors_transfer(self):
        order = self.dropship_order()
        purchase = order.order_line.purchase_line_ids.order_id
        self.assertEqual(len(purchase), 1, "Odoo's dropship route asked the vendor for a quotation")
        self.assertEqual(purchase.state, "draft")
        visibility = self.assertStage(order, "awaiting_stock")
        self.assertEqual(visibility.waiting_on, f"{purchase.name} from {self.vendor.name}")
        self.assertFalse(self.open_exceptions(order, "stock_shortage"), "not the company's stock")

        purchase.button_confirm()
        self.flush()
        dropship = purchase.picking_ids
        self.assertEqual(len(dropship), 1)
        self.assertEqual((dropship.location_id.usage, dropship.location_dest_id.usage), ("supplier", "customer"))
        visibility = self.assertStage(order, "awaiting_stock")
        self.assertEqual(visibility.waiting_on, f"{purchase.name} from {self.vendor.name}")
        self.assertFalse(self.open_exceptions(order, "stock_shortage"))

        # The vendor's date passes: supply delay, owned by the purchase's buyer side.
        self.sweep(purchase.order_line.date_planned + timedelta(days=1))
        delay = self.open_exceptions(order, "supply_delay")
        self.assertEqual(len(delay), 1)
        self.assertEqual((delay.res_model, delay.res_id), ("purchase.order", purchase.id))
        self.assertIn(self.vendor.name, delay.detail)

        self.deliver(dropship)
        self.flush()
        visibility = self.assertStage(order, "shipped")
        self.assertFalse(visibility.waiting_on)
        self.assertEqual(order.order_line.qty_delivered, 2)
        self.sweep(fields.Datetime.now())
        self.assertFalse(self.open_exceptions(order, "supply_delay"), "the goods reached the customer")

        self.pay(self.invoice(order))
        self.assertStage(order, "paid")

    def test_dropship_next_to_stocked_goods(self):
        self.set_stock(self.goods, 3)
        order = self.create_order([(self.goods, 3), (self.dropshipped, 1)])
        order.action_confirm()
        self.flush()
        self.assertStage(order, "awaiting_stock")
        self.assertFalse(self.open_exceptions(order, "stock_shortage"))
        own = order.picking_ids.filtered(lambda p: p.location_id.usage == "internal")
        self.deliver(own)
        self.assertStage(order, "partially_shipped")
        purchase = order.order_line.purchase_line_ids.order_id
        purchase.button_confirm()
        self.deliver(purchase.picking_ids)
        self.assertStage(order, "shipped")
