# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What moved a promise: the cause a user gives moving it (Move Promise),
a purchase feeding the order planned after the old promise (the engine
finds it), an edit of the order, or other."""

from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestPromiseCauses(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ov_user = cls.new_user(
            "ov_pc_user",
            "order_visibility.group_order_visibility_user,sales_team.group_sale_salesman_all_leads,"
            "stock.group_stock_user",
        )
        cls.seller = cls.new_user("ov_pc_seller", "sales_team.group_sale_salesman_all_leads,stock.group_stock_user")

    def confirmed_order(self, lines=None, **values):
        lines = lines or [(self.goods_b, 2)]
        for product, quantity in lines:
            self.set_stock(product, quantity)
        order = self.create_order(lines, **values)
        start = order.create_date.replace(microsecond=0)
        if "commitment_date" not in values:
            order.commitment_date = start + timedelta(days=2)
        order.action_confirm()
        self.flush()
        return order, start

    def move_promise(self, order, new_date, cause="customer_request", user=None):
        wizard = (
            self.env["order.visibility.promise.wizard"]
            .with_user(user or self.ov_user)
            .create({"visibility_id": self.visibility(order).id, "new_date": new_date, "cause": cause})
        )
        wizard.action_confirm()
        self.flush()

    def test_customer_request_moves_the_delivery_date_and_logs_the_cause(self):
        order, start = self.confirmed_order()
        with freeze_time(start + timedelta(hours=4)):
            self.move_promise(order, start + timedelta(days=6))
        visibility = self.visibility(order)
        self.assertEqual(order.commitment_date, start + timedelta(days=6))
        change = visibility.promise_change_ids
        self.assertEqual(
            (change.old_date, change.new_date, change.changed_at, change.changed_by, change.cause),
            (
                start + timedelta(days=2),
                start + timedelta(days=6),
                start + timedelta(hours=4),
                self.ov_user,
                "customer_request",
            ),
        )
        self.assertEqual(visibility.first_promised_date, start + timedelta(days=2), "the first promise stays")
        # The cause given is for that move only: the next edit of the order is an edit.
        order.with_user(self.seller).commitment_date = start + timedelta(days=7)
        self.flush()
        self.assertEqual(
            visibility.promise_change_ids.sorted("id").mapped("cause"), ["customer_request", "order_edited"]
        )

    def test_declared_supplier_delay_and_other(self):
        order, start = self.confirmed_order()
        self.move_promise(order, start + timedelta(days=3), cause="supplier_delay")
        self.move_promise(order, start + timedelta(days=4), cause="other")
        self.assertEqual(
            self.visibility(order).promise_change_ids.sorted("id").mapped("cause"), ["supplier_delay", "other"]
        )

    def test_move_promise_is_refused(self):
        order, start = self.confirmed_order()
        with self.assertRaises(UserError):
            self.move_promise(order, start + timedelta(days=2))  # the promise already
        quotation = self.create_order([(self.goods, 1)])
        self.flush()
        with self.assertRaises(UserError):
            self.move_promise(quotation, start + timedelta(days=2))
        # Sales users without Order Visibility, and another company's administrator.
        with self.assertRaises(AccessError):
            self.move_promise(order, start + timedelta(days=5), user=self.seller)
        company_b = self.setup_second_company()["company"]
        admin_b = self.new_user(
            "ov_pc_admin_b",
            "order_visibility.group_order_visibility_admin,sales_team.group_sale_manager,base.group_system",
            company_b,
        )
        with self.assertRaises(AccessError):
            self.move_promise(order, start + timedelta(days=5), user=admin_b)
        self.assertEqual(order.commitment_date, start + timedelta(days=2))
        self.assertFalse(self.visibility(order).promise_change_ids)

    def test_context_is_no_cause(self):
        order, start = self.confirmed_order()
        order.with_user(self.seller).with_context(
            promise_cause="customer_request", default_cause="supplier_delay"
        ).commitment_date = start + timedelta(days=5)
        self.flush()
        self.assertEqual(self.visibility(order).promise_change_ids.cause, "order_edited")

    def test_supplier_delay_found_by_the_engine(self):
        vendor = self.env["res.partner"].create({"name": "Iberian Olive Mills"})
        mto = self.env.ref("stock.route_warehouse0_mto")
        mto.active = True
        buy = self.env.ref("purchase_stock.route_warehouse0_buy")
        self.goods.write(
            {
                "route_ids": [Command.set((mto | buy).ids)],
                "seller_ids": [Command.create({"partner_id": vendor.id, "delay": 5, "price": 20.0})],
            }
        )
        promised = fields.Datetime.now().replace(microsecond=0) + timedelta(days=10)
        order = self.create_order([(self.goods, 8)], commitment_date=promised)
        order.action_confirm()
        self.flush()
        purchase = self.env["purchase.order"].search([("partner_id", "=", vendor.id)])
        purchase.button_confirm()
        self.flush()
        # Moved earlier, or later while the purchase arrives in time: an edit.
        order.with_user(self.seller).commitment_date = promised - timedelta(days=1)
        self.flush()
        # The vendor now delivers after the promise; the seller moves the promise.
        purchase.order_line.date_planned = promised + timedelta(days=3)
        self.flush()
        order.with_user(self.seller).commitment_date = promised + timedelta(days=4)
        self.flush()
        changes = self.visibility(order).promise_change_ids.sorted("id")
        self.assertEqual(
            [(c.old_date, c.new_date, c.cause) for c in changes],
            [
                (promised, promised - timedelta(days=1), "order_edited"),
                (promised - timedelta(days=1), promised + timedelta(days=4), "supplier_delay"),
            ],
        )

    def test_dutch_causes(self):
        self.setup_dutch()
        dutch = self.new_user(
            "ov_pc_nl",
            "order_visibility.group_order_visibility_user,sales_team.group_sale_salesman_all_leads",
            lang="nl_NL",
        )
        order, start = self.confirmed_order()
        self.move_promise(order, start + timedelta(days=5))
        change = self.visibility(order).promise_change_ids.with_user(dutch).with_context(lang="nl_NL")
        field = change._fields["cause"]
        self.assertEqual(dict(field._description_selection(change.env))[change.cause], "Verzoek van de klant")
        self.assertTrue(field._description_help(change.env).startswith("Wat de toezegging verplaatste: de oorzaak"))
        action = self.env.ref("order_visibility.action_order_visibility_promise_wizard").with_context(lang="nl_NL")
        self.assertEqual(action.name, "Toezegging verplaatsen")
        with self.assertRaisesRegex(UserError, "Alleen de toezegging van een bevestigde order kan worden verplaatst."):
            quotation = self.create_order([(self.goods, 1)])
            self.flush()
            self.env["order.visibility.promise.wizard"].with_user(dutch).with_context(lang="nl_NL").create(
                {"visibility_id": self.visibility(quotation).id, "new_date": start, "cause": "customer_request"}
            ).action_confirm()
