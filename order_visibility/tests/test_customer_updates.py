# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Proactive customer updates: drafted from the engine's facts in the mail
composer, sent automatically only where the admin and the customer opted in,
once per cause, in the customer's language."""

from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools.misc import format_date

from ..models.order_visibility_customer_updates import OrderVisibility as CoreVisibility
from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestCustomerUpdates(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.email = "orders@harborfoods.example.com"
        vendor = cls.env["res.partner"].create({"name": "Iberian Olive Mills"})
        mto = cls.env.ref("stock.route_warehouse0_mto")
        mto.active = True
        buy = cls.env.ref("purchase_stock.route_warehouse0_buy")
        cls.goods.write(
            {
                "route_ids": [Command.set((mto | buy).ids)],
                "seller_ids": [Command.create({"partner_id": vendor.id, "delay": 5, "price": 20.0})],
            }
        )
        cls.vendor = vendor
        cls.cs_agent = cls.new_user(
            "ov_cu_agent", "order_visibility.group_order_visibility_user", email="cs@example.com"
        )

    def delayed_order(self, supplier_in_days=5, promised_in_days=3):
        """40 units promised in 3 days, waiting for a purchase due in 5 days."""
        promised = fields.Datetime.now() + timedelta(days=promised_in_days)
        order = self.create_order([(self.goods, 40)], commitment_date=promised)
        order.action_confirm()
        self.flush()
        purchase = self.env["purchase.order"].search([("partner_id", "=", self.vendor.id), ("state", "=", "draft")])
        purchase.button_confirm()
        purchase.order_line.date_planned = fields.Datetime.now() + timedelta(days=supplier_in_days)
        self.assertStage(order, "awaiting_stock")
        return order, purchase

    def day(self, value, lang="en_US"):
        return format_date(self.env, value, lang_code=lang, date_format="d MMMM")

    def compose(self, action, user=None):
        Composer = self.env[action["res_model"]].with_context(**action["context"])
        return (Composer.with_user(user) if user else Composer).create({})

    def sent(self, order):
        return self.visibility(order).message_ids.filtered(lambda m: m.message_type == "comment")

    def switch_on_automatic(self):
        self.company.ov_auto_customer_updates = True
        self.customer.ov_auto_customer_updates = True

    def test_a_delay_gives_one_draft_with_the_right_dates(self):
        order, purchase = self.delayed_order()
        visibility = self.visibility(order)
        arrival = purchase.order_line.date_planned
        expected = (
            f"Your order {order.name} waits for 40 Olive Oil 5 L from our supplier, due on {self.day(arrival)}; "
            f"we now expect to ship on {self.day(arrival + timedelta(days=1))}. This is later than the "
            f"{self.day(order.commitment_date)} we promised; we are sorry for the delay."
        )
        self.assertEqual(visibility.with_context(lang="en_US").customer_update_text, expected)

        action = visibility.with_user(self.cs_agent).action_draft_customer_update()
        self.assertEqual(action["res_model"], "mail.compose.message")
        composer = self.compose(action, self.cs_agent)
        self.assertEqual(composer.template_id, self.env.ref("order_visibility.mail_template_customer_update"))
        self.assertEqual(composer.partner_ids, self.customer)
        self.assertEqual(composer.subject, f"{order.name}: an update on your order")
        self.assertIn(expected, composer.body)
        # Where the customer follows the order: the core alone has no page
        # (no link); an addon with one (the portal) gives it, and it is shown.
        self.assertEqual(CoreVisibility._customer_update_link(visibility), "")
        link = visibility._customer_update_link()
        if link:
            self.assertIn(f'href="{link}"', composer.body)
        with patch.object(type(visibility), "_customer_update_link", lambda self: ""):
            bare = self.compose(visibility.with_user(self.cs_agent).action_draft_customer_update(), self.cs_agent)
            self.assertIn(expected, bare.body)
            self.assertNotIn("ov_customer_update_link", bare.body, "no link section without a link")
            self.assertNotIn("Follow your order", bare.body)
        self.assertFalse(visibility.customer_update_ids, "nothing is sent before the user clicks Send")

        composer._action_send_mail()
        update = visibility.customer_update_ids
        self.assertEqual(len(update), 1)
        self.assertEqual(update.cause, f"ship:{fields.Date.to_string((arrival + timedelta(days=1)).date())}")
        self.assertEqual(update.expected_date, arrival + timedelta(days=1))
        self.assertEqual(update.sent_by, self.cs_agent)
        self.assertFalse(update.automatic)
        self.assertEqual(update.message_id.partner_ids, self.customer)
        self.assertTrue(order.message_ids.filtered(lambda m: "Order update sent" in (m.body or "")))

        # The same cause is never sent again automatically.
        self.switch_on_automatic()
        self.run_cron("order_visibility.ir_cron_customer_updates")
        self.assertEqual(len(self.sent(order)), 1)
        self.assertEqual(len(visibility.customer_update_ids), 1)

    def test_automatic_updates_need_the_company_switch_and_the_customer_flag(self):
        order, purchase = self.delayed_order()
        self.run_cron("order_visibility.ir_cron_customer_updates")
        self.assertFalse(self.sent(order), "off by default")
        self.company.ov_auto_customer_updates = True
        self.run_cron("order_visibility.ir_cron_customer_updates")
        self.assertFalse(self.sent(order), "the customer is not flagged")
        self.customer.ov_auto_customer_updates = True
        self.customer.ov_customer_update_opt_out = True
        self.run_cron("order_visibility.ir_cron_customer_updates")
        self.assertFalse(self.sent(order), "the customer opted out")
        self.customer.ov_customer_update_opt_out = False
        self.run_cron("order_visibility.ir_cron_customer_updates")
        self.run_cron("order_visibility.ir_cron_customer_updates")
        message = self.sent(order)
        self.assertEqual(len(message), 1, "once per cause")
        self.assertEqual(message.partner_ids, self.customer)
        self.assertIn("waits for 40 Olive Oil 5 L from our supplier", message.body)
        self.assertTrue(self.visibility(order).customer_update_ids.automatic)
        # A new delay is a new cause: one more update.
        purchase.order_line.date_planned = fields.Datetime.now() + timedelta(days=9)
        self.run_cron("order_visibility.ir_cron_customer_updates")
        self.assertEqual(len(self.sent(order)), 2)
        self.assertEqual(len(self.visibility(order).customer_update_ids), 2)

    def test_the_update_goes_to_the_customer_only(self):
        """Sent to the customer alone, whoever follows the record: Odoo's
        default recipients would add the salesperson when not following it
        (the records made at installation have no follower)."""
        order, _purchase = self.delayed_order()
        order.user_id = self.cs_agent
        visibility = self.visibility(order)
        visibility.message_unsubscribe(visibility.message_partner_ids.ids)
        message = visibility._send_customer_update()
        self.assertEqual(message.partner_ids, self.customer)
        self.assertEqual(visibility.customer_update_ids.message_id, message)

    def test_customer_without_email_or_opted_out_gets_a_clear_error(self):
        order, _purchase = self.delayed_order()
        visibility = self.visibility(order).with_user(self.cs_agent)
        self.customer.email = False
        with self.assertRaisesRegex(UserError, "Harbor Foods has no e-mail address"):
            visibility.action_draft_customer_update()
        self.customer.email = "orders@harborfoods.example.com"
        self.customer.ov_customer_update_opt_out = True
        with self.assertRaisesRegex(UserError, "asked not to receive order updates"):
            visibility.action_draft_customer_update()
        self.assertFalse(visibility.customer_update_ids)
        self.assertFalse(self.sent(order))

    def test_offered_on_the_exception(self):
        order, _purchase = self.delayed_order()
        shortage = self.visibility(order).exception_ids.filtered(lambda e: e.code == "stock_shortage")
        action = shortage.with_user(self.cs_agent).action_draft_customer_update()
        self.assertEqual(action["context"]["default_res_ids"], self.visibility(order).ids)

    def test_updates_of_another_company_are_not_readable(self):
        order, _purchase = self.delayed_order()
        composer = self.compose(self.visibility(order).action_draft_customer_update())
        composer._action_send_mail()
        company_b = self.setup_second_company(name="OV Company B CU")["company"]
        user_b = self.new_user("ov_cu_user_b", "order_visibility.group_order_visibility_user", company_b)
        Update = self.env["order.visibility.customer.update"]
        self.assertEqual(len(Update.search([("sale_order_id", "=", order.id)])), 1)
        self.assertFalse(Update.with_user(user_b).search([("sale_order_id", "=", order.id)]))

    def test_the_update_is_written_in_the_customers_language(self):
        self.setup_dutch()
        self.customer.lang = "nl_NL"
        order, purchase = self.delayed_order()
        arrival = purchase.order_line.date_planned
        composer = self.compose(self.visibility(order).with_user(self.cs_agent).action_draft_customer_update())
        self.assertEqual(composer.subject, f"{order.name}: een update over uw bestelling")
        self.assertIn(
            f"Uw bestelling {order.name} wacht op 40 Olive Oil 5 L van onze leverancier, verwacht op "
            f"{self.day(arrival, 'nl_NL')}; we verwachten nu te verzenden op "
            f"{self.day(arrival + timedelta(days=1), 'nl_NL')}.",
            composer.body,
        )
        self.assertIn("Met vriendelijke groet", composer.body)
        # The same record, read by an English user, stays English.
        self.assertIn(
            "waits for 40 Olive Oil 5 L", self.visibility(order).with_context(lang="en_US").customer_update_text
        )

    def test_a_caller_cannot_forge_the_cause_or_an_automatic_update(self):
        """The composer's context key says where a message comes from, nothing
        more: the cause is the server's, never automatic, and only a message
        to the customer counts as an update."""
        order, _purchase = self.delayed_order()
        visibility = self.visibility(order).with_user(self.cs_agent)
        forged = {"ov_customer_update_cause": "promised:2099-01-01", "ov_customer_update_automatic": True}
        # A note to colleagues with the composer's key is not an update.
        visibility.with_context(**forged).message_post(body="Internal", message_type="comment")
        self.assertFalse(visibility.customer_update_ids, "nothing was sent to the customer")
        # A message to the customer is logged under the cause the server computes.
        visibility.with_context(**forged).message_post(
            body="Your order", message_type="comment", partner_ids=self.customer.ids
        )
        update = visibility.customer_update_ids
        self.assertEqual(len(update), 1)
        self.assertEqual(update.cause, visibility._customer_update_cause_key())
        self.assertNotEqual(update.cause, "promised:2099-01-01")
        self.assertFalse(update.automatic)
        self.assertEqual(update.sent_by, self.cs_agent)
