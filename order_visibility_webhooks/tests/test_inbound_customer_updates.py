# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Carrier milestones feed the core's proactive customer updates, end to end
through the real inbound route: a delay past the promise (or a failed
delivery) drafts one update announcing the carrier's ETA; automatic sending
follows the core's switches and sends once per cause, never again for a
replayed message or an identical delay."""

from datetime import UTC, datetime, timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools.misc import format_date

from .common_inbound import InboundCommon, iso

CRON = "order_visibility.ir_cron_customer_updates"


def now():
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@tagged("post_install", "-at_install")
class TestInboundCustomerUpdates(InboundCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.email = "orders@harborfoods.example.com"
        cls.cs_agent = cls.new_user(
            "ov_wh_cu_agent", "order_visibility.group_order_visibility_user", email="cs@example.com"
        )

    def day(self, value, lang="en_US"):
        return format_date(self.env, value, lang_code=lang, date_format="d MMMM")

    def sent(self, order):
        """The updates sent to the customer: comments on the order's visibility record."""
        self.env.invalidate_all()
        return self.visibility(order).message_ids.filtered(lambda m: m.message_type == "comment")

    def emails_to_customer(self, order):
        return self.env["mail.notification"].search(
            [
                ("mail_message_id", "in", self.sent(order).ids),
                ("res_partner_id", "=", self.customer.id),
                ("notification_type", "=", "email"),
            ]
        )

    def switch_on_automatic(self):
        self.company.ov_auto_customer_updates = True
        self.customer.ov_auto_customer_updates = True

    def test_a_delay_drafts_one_update_with_the_carriers_eta(self):
        order = self.shipped_order(promised_in_days=1)
        visibility = self.visibility(order)
        eta = now() + timedelta(days=4)
        body = self.milestone_body(order, "delayed", eta=iso(eta), carrier="DHL")
        self.assertEqual(self.post(body, msg_id="msg_delay_1")[0], 200)

        expected = (
            f"Your order {order.name} is on its way, but the carrier has been delayed: it now expects to deliver "
            f"it on {self.day(eta)}. This is later than the {self.day(order.commitment_date)} we promised; "
            "we are sorry for the delay."
        )
        self.assertEqual(visibility.with_context(lang="en_US").customer_update_text, expected)
        self.assertFalse(self.sent(order), "nothing is sent by itself: automatic sending is off by default")

        # Offered on the delivery exception the delay opened, as for the core's causes.
        exception = self.delivery_exceptions(order, "open")
        self.assertEqual(len(exception), 1)
        action = exception.with_user(self.cs_agent).action_draft_customer_update()
        self.assertEqual(action["context"]["default_res_ids"], visibility.ids)
        cause = f"carrier_delay:{fields.Date.to_string(eta.date())}"
        self.assertEqual(action["context"]["ov_customer_update_cause"], cause)
        composer = self.env[action["res_model"]].with_context(**action["context"]).with_user(self.cs_agent).create({})
        self.assertIn(self.customer, composer.partner_ids)
        self.assertIn(expected, composer.body)
        # The order's link when an addon gives one (the portal), else none.
        link = visibility._customer_update_link()
        if link:
            self.assertIn(f'href="{link}"', composer.body)
        else:
            self.assertNotIn("ov_customer_update_link", composer.body)
        composer._action_send_mail()
        update = visibility.customer_update_ids
        self.assertEqual(len(update), 1)
        self.assertEqual((update.cause, update.expected_date, update.automatic), (cause, eta, False))

        # The same message again, an identical delay, then the scheduled action: no second update.
        self.switch_on_automatic()
        self.assertEqual(self.post(body, msg_id="msg_delay_1")[1]["status"], "duplicate")
        self.assertEqual(self.post(body, msg_id="msg_delay_2")[1]["status"], "accepted")
        self.run_cron(CRON)
        self.assertEqual(len(self.sent(order)), 1)
        self.assertEqual(len(visibility.customer_update_ids), 1)

    def test_a_delay_within_the_promise_is_no_cause(self):
        order = self.shipped_order(promised_in_days=6)
        self.switch_on_automatic()
        body = self.milestone_body(order, "delayed", eta=iso(now() + timedelta(days=2)))
        self.assertEqual(self.post(body)[0], 200)
        self.assertFalse(self.sent(order))
        self.assertEqual(
            self.visibility(order).with_context(lang="en_US").customer_update_text,
            f"Your order {order.name} is on its way.",
        )

    def test_automatic_sending_once_per_cause(self):
        order = self.shipped_order(promised_in_days=1)
        visibility = self.visibility(order)
        eta = now() + timedelta(days=3)
        body = self.milestone_body(order, "delayed", eta=iso(eta), carrier="DHL")
        self.company.ov_auto_customer_updates = True
        self.assertEqual(self.post(body)[0], 200)
        self.run_cron(CRON)
        self.assertFalse(self.sent(order), "the customer is not flagged for automatic updates")
        # Flagged after the milestone: the scheduled action catches up, once.
        self.customer.ov_auto_customer_updates = True
        self.run_cron(CRON)
        self.run_cron(CRON)
        message = self.sent(order)
        self.assertEqual(len(message), 1)
        self.assertEqual(len(self.emails_to_customer(order)), 1, "exactly one mail to the customer")
        self.assertIn(f"it now expects to deliver it on {self.day(eta)}", message.body)
        update = visibility.customer_update_ids
        self.assertEqual((update.cause, update.expected_date), (f"carrier_delay:{eta.date()}", eta))
        self.assertTrue(update.automatic)
        self.assertTrue(order.message_ids.filtered(lambda m: "Order update sent" in (m.body or "")))

        self.assertEqual(self.post(body, msg_id="msg_auto_1")[1]["status"], "accepted")
        self.assertEqual(self.post(body, msg_id="msg_auto_1")[1]["status"], "duplicate")
        self.assertEqual(self.post(body, msg_id="msg_auto_2")[1]["status"], "accepted")
        self.run_cron(CRON)
        self.assertEqual(len(self.sent(order)), 1, "a replay or an identical delay sends nothing more")
        self.assertEqual(len(self.emails_to_customer(order)), 1)

        # A new ETA is a new cause, sent as the milestone arrives; so is a failed delivery.
        later = eta + timedelta(days=2)
        self.assertEqual(self.post(self.milestone_body(order, "delayed", eta=iso(later)))[0], 200)
        self.assertEqual(len(self.sent(order)), 2)
        self.assertEqual(self.post(self.milestone_body(order, "failed_delivery", note="Dock closed"))[0], 200)
        self.assertEqual(len(self.sent(order)), 3)
        self.assertIn(
            f"The carrier could not deliver your order {order.name} on {self.day(now())}; we will let you know",
            self.sent(order)[0].body,
        )
        self.assertEqual(
            sorted(visibility.customer_update_ids.mapped("cause")),
            sorted([f"carrier_delay:{eta.date()}", f"carrier_delay:{later.date()}", f"failed_delivery:{now().date()}"]),
        )
        self.assertEqual(len(self.emails_to_customer(order)), 3)

    def test_failed_delivery_with_a_new_eta_announces_it(self):
        order = self.shipped_order(promised_in_days=1)
        eta = now() + timedelta(days=2)
        self.assertEqual(self.post(self.milestone_body(order, "failed_delivery", eta=iso(eta)))[0], 200)
        self.assertEqual(
            self.visibility(order).with_context(lang="en_US").customer_update_text,
            f"The carrier could not deliver your order {order.name} on {self.day(now())}; it now expects to "
            f"deliver it on {self.day(eta)}. This is later than the {self.day(order.commitment_date)} we promised; "
            "we are sorry for the delay.",
        )

    def test_delivered_supersedes_the_delay(self):
        order = self.shipped_order(promised_in_days=1)
        self.post(self.milestone_body(order, "delayed", eta=iso(now() + timedelta(days=3))))
        self.post(self.milestone_body(order, "delivered"))
        self.assertEqual(
            self.visibility(order).with_context(lang="en_US").customer_update_text,
            f"Your order {order.name} is on its way.",
        )

    def test_an_opted_out_customer_gets_nothing_automatically(self):
        self.switch_on_automatic()
        self.customer.ov_customer_update_opt_out = True
        order = self.shipped_order(promised_in_days=1)
        self.assertEqual(self.post(self.milestone_body(order, "failed_delivery"))[0], 200)
        self.run_cron(CRON)
        self.assertFalse(self.sent(order))
        self.assertFalse(self.visibility(order).customer_update_ids)
