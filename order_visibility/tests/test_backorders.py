# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import importlib.util
from datetime import timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.modules.module import get_module_path
from odoo.tests import tagged
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestBackorders(OrderVisibilityCommon):
    """What is left to ship once a first delivery left, and since when."""

    def open_pickings(self, order):
        return order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))

    def search_filter(self, name, user=None):
        """The domain of the Orders search view's filter ``name``, evaluated as the web client does."""
        Visibility = self.env["order.visibility"].with_user(user) if user else self.env["order.visibility"]
        arch = Visibility.get_views([(False, "search")])["views"]["search"]["arch"]
        node = etree.fromstring(arch).xpath(f"//filter[@name='{name}']")[0]
        domain = safe_eval(
            node.get("domain"),
            {"context_today": lambda: fields.Date.context_today(Visibility), "relativedelta": relativedelta,
             "datetime": safe_datetime},
        )  # fmt: skip
        return Visibility.search(domain)

    def test_partial_deliveries_show_what_is_left_and_its_age(self):
        self.set_stock(self.goods, 10)
        self.set_stock(self.goods_b, 5)
        order = self.create_order([(self.goods, 10), (self.goods_b, 5)])
        order.action_confirm()
        visibility = self.assertStage(order, "ready_to_ship")
        self.assertEqual((visibility.backorder_qty, visibility.backorder_since), (0.0, False))
        first_left = fields.Datetime.now() - timedelta(days=10)
        with freeze_time(first_left):
            # The backorder wizard keeps the rest of the oil open.
            self.deliver(order.picking_ids, {self.goods: 4, self.goods_b: 5})
            visibility = self.assertStage(order, "partially_shipped")
        self.assertEqual(visibility.last_transition_id.cause, "goods_moved")
        self.assertEqual(visibility.backorder_qty, 6.0)
        self.assertEqual(visibility.backorder_since, first_left.replace(microsecond=0))
        self.assertEqual(visibility.backorder_days, 10)
        self.assertEqual(self.search_filter("backorder"), visibility)
        self.assertEqual(self.search_filter("backorder_7_days"), visibility)
        self.assertIn(
            "Already shipped: 4 Olive Oil 5 L, 5 Basmati Rice 10 kg; to follow: 6 Olive Oil 5 L.",
            visibility.customer_update_text,
        )
        # A second partial delivery: less is left, the age counts from the first.
        self.deliver(self.open_pickings(order), {self.goods: 2})
        visibility = self.assertStage(order, "partially_shipped")
        self.assertEqual(visibility.backorder_qty, 4.0)
        self.assertEqual(visibility.backorder_since, first_left.replace(microsecond=0))
        self.assertFalse(visibility.exception_ids.filtered(lambda e: e.state != "resolved"))
        self.deliver(self.open_pickings(order))
        visibility = self.assertStage(order, "shipped")
        self.assertEqual((visibility.backorder_qty, visibility.backorder_since), (0.0, False))
        self.assertFalse(self.search_filter("backorder"))
        visibility.invalidate_recordset(["customer_update_text"])
        self.assertNotIn("to follow", visibility.customer_update_text)

    def test_young_backorder_is_not_older_than_seven_days(self):
        self.set_stock(self.goods, 10)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        with freeze_time(fields.Datetime.now() - timedelta(days=2)):
            self.deliver(order.picking_ids, {self.goods: 3})
        visibility = self.assertStage(order, "partially_shipped")
        self.assertEqual(visibility.backorder_qty, 7.0)
        self.assertEqual(visibility.backorder_days, 2)
        self.assertEqual(self.search_filter("backorder"), visibility)
        self.assertFalse(self.search_filter("backorder_7_days"))

    def test_no_backorder_leaves_nothing_to_ship(self):
        self.set_stock(self.goods, 10)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        self.deliver(order.picking_ids, {self.goods: 6}, backorder=False)
        visibility = self.assertStage(order, "shipped")
        self.assertEqual((visibility.backorder_qty, visibility.backorder_since), (0.0, False))

    def test_rest_cancelled_on_one_line_is_not_left_to_ship(self):
        """Only lines whose rest still has a transfer are left to ship."""
        self.set_stock(self.goods, 10)
        self.set_stock(self.goods_b, 2)
        order = self.create_order([(self.goods, 10), (self.goods_b, 5)])
        order.action_confirm()
        self.deliver(order.picking_ids, {self.goods: 4, self.goods_b: 2})
        visibility = self.assertStage(order, "partially_shipped")
        self.assertEqual(visibility.backorder_qty, 9.0)
        backorder = self.open_pickings(order)
        backorder.move_ids.filtered(lambda m: m.product_id == self.goods_b)._action_cancel()
        visibility = self.assertStage(order, "partially_shipped")
        self.assertEqual(visibility.backorder_qty, 6.0)

    def test_backorder_waiting_for_stock(self):
        """4 of 10 on hand: awaiting stock with a shortage, then the 4 leave
        and 6 are left, waiting for the receipt."""
        self.set_stock(self.goods, 4)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        visibility = self.assertStage(order, "awaiting_stock")
        shortage = visibility.exception_ids.filtered(lambda e: e.code == "stock_shortage")
        self.assertEqual(shortage.state, "open")
        self.deliver(order.picking_ids, {self.goods: 4})
        visibility = self.assertStage(order, "partially_shipped")
        self.assertEqual(visibility.backorder_qty, 6.0)
        self.assertTrue(visibility.backorder_since)
        self.receive(self.goods, 6)
        self.open_pickings(order).action_assign()
        self.deliver(self.open_pickings(order))
        visibility = self.assertStage(order, "shipped")
        self.assertEqual(visibility.backorder_qty, 0.0)

    def test_company_two_admin_never_sees_company_one_backorders(self):
        company_b = self.setup_second_company()
        self.set_stock(self.goods, 10)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        with freeze_time(fields.Datetime.now() - timedelta(days=9)):
            self.deliver(order.picking_ids, {self.goods: 5})
        visibility = self.assertStage(order, "partially_shipped")
        admin_b = self.new_user(
            "ov_backorder_admin_b",
            "base.group_user,order_visibility.group_order_visibility_admin",
            company_b["company"],
        )
        self.assertEqual(self.search_filter("backorder_7_days"), visibility)
        self.assertFalse(self.search_filter("backorder_7_days", user=admin_b))
        self.assertFalse(
            self.env["order.visibility"].with_user(admin_b).search([("backorder_qty", ">", 0)]),
            "a company-2 admin finds no company-1 backorder",
        )

    def test_dutch_reader(self):
        self.setup_dutch()
        reader = self.new_user(
            "ov_backorder_nl", "base.group_user,order_visibility.group_order_visibility_user", lang="nl_NL"
        )
        self.set_stock(self.goods, 10)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        self.deliver(order.picking_ids, {self.goods: 4})
        visibility = self.assertStage(order, "partially_shipped")
        arch = (
            self.env["order.visibility"]
            .with_user(reader)
            .with_context(lang="nl_NL")
            .get_views([(False, "search")])["views"]["search"]["arch"]
        )
        self.assertIn("Backorder ouder dan 7 dagen", arch)
        fields_nl = (
            self.env["order.visibility"]
            .with_user(reader)
            .with_context(lang="nl_NL")
            .fields_get(["backorder_qty", "backorder_since"])
        )
        self.assertEqual(fields_nl["backorder_qty"]["string"], "Hoeveelheid in backorder")
        self.assertEqual(fields_nl["backorder_since"]["string"], "Backorder sinds")
        text = visibility.with_user(reader).with_context(lang="nl_NL").customer_update_text
        self.assertIn("Al verzonden: 4 Olive Oil 5 L; volgt nog: 6 Olive Oil 5 L.", text)

    def test_drafted_update_says_what_left_and_what_follows(self):
        """The customer update drafted for a partially shipped order (the
        composer, from the template) lists the goods already shipped and
        those to follow, in the customer's language."""
        self.setup_dutch()
        self.customer.email = "orders@harbor-foods.example.com"
        self.set_stock(self.goods, 10)
        self.set_stock(self.goods_b, 5)
        order = self.create_order([(self.goods, 10), (self.goods_b, 5)])
        order.action_confirm()
        self.deliver(order.picking_ids, {self.goods: 4, self.goods_b: 5})
        visibility = self.assertStage(order, "partially_shipped")

        def drafted_body():
            action = visibility.action_draft_customer_update()
            self.assertEqual(action["res_model"], "mail.compose.message")
            return self.env[action["res_model"]].with_context(**action["context"]).create({}).body

        self.assertIn(
            "Already shipped: 4 Olive Oil 5 L, 5 Basmati Rice 10 kg; to follow: 6 Olive Oil 5 L.", drafted_body()
        )
        self.customer.lang = "nl_NL"
        body = drafted_body()
        self.assertIn("Al verzonden: 4 Olive Oil 5 L, 5 Basmati Rice 10 kg; volgt nog: 6 Olive Oil 5 L.", body)
        self.assertNotIn("Already shipped", body)

    def test_upgrade_fills_existing_backorders(self):
        """The 19.0.1.4.0 migration writes the backorder of orders partially
        shipped before the upgrade."""
        self.set_stock(self.goods, 10)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        self.deliver(order.picking_ids, {self.goods: 4})
        visibility = self.assertStage(order, "partially_shipped")
        since, stages_before = visibility.backorder_since, self.stage_path(order)
        visibility.sudo().write({"backorder_qty": 0.0, "backorder_since": False})  # as before the upgrade
        path = Path(get_module_path("order_visibility")) / "migrations" / "19.0.1.4.0" / "post-backorders.py"
        spec = importlib.util.spec_from_file_location("ov_post_backorders", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        self.assertGreaterEqual(migration.fill_backorders(self.env(su=True)), 1)
        visibility = self.visibility(order)
        self.assertEqual((visibility.backorder_qty, visibility.backorder_since), (6.0, since))
        self.assertEqual(self.stage_path(order), stages_before, "no transition logged")
