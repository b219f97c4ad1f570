# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound sources: their secret, their company, and the event a milestone emits."""

import json

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..tools.signing import secret_key
from .common import LocalReceiverMixin, Receiver
from .common_inbound import SECRET, InboundCommon
from .test_emission import validate


@tagged("post_install", "-at_install")
class TestInboundSources(LocalReceiverMixin, InboundCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="OV Inbound Company B")["company"]
        cls.source_b = cls.env["order.visibility.webhook.source"].create(
            {"name": "B Carrier", "code": "b-carrier", "secret": SECRET, "company_id": cls.company_b.id}
        )
        cls.manager = new_test_user(
            cls.env,
            "ov_inbound_manager",
            groups="order_visibility.group_order_visibility_manager",
            company_id=cls.company.id,
        )
        cls.user_b = new_test_user(
            cls.env,
            "ov_inbound_user_b",
            groups="order_visibility.group_order_visibility_admin",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )

    def test_generated_secret_is_valid_shown_once_and_admin_only(self):
        # The behaviour shared with endpoints is tested on both in test_secrets.py.
        source = self.env["order.visibility.webhook.source"].create({"name": "New 3PL", "code": "new-3pl"})
        generated = source.sudo().secret
        self.assertEqual(len(secret_key(generated)), 32, "a whsec_ secret of 32 random bytes")
        self.assertFalse(source.secret_shown, "to be shown once to an administrator")
        self.assertEqual(source.action_show_secret()["context"]["default_secret"], generated)
        self.assertTrue(source.secret_shown)
        action = source.action_generate_secret()
        new = source.sudo().secret
        self.assertNotEqual(new, generated)
        self.assertEqual(action["context"]["default_secret"], new, "a new secret is shown once again")
        self.assertIn("Signing secret replaced by", source.message_ids[0].body, "the change is audited")
        self.assertFalse(
            self.env["mail.message"].search_count([("body", "ilike", new[6:20])]),
            "the secret itself is in no message",
        )
        with self.assertRaises(AccessError):
            source.with_user(self.manager).read(["secret_hint"])
        with self.assertRaises(AccessError):
            source.with_user(self.manager).read(["name"])  # sources are for administrators

    def test_bad_code_or_secret_is_refused_with_a_clear_message(self):
        Source = self.env["order.visibility.webhook.source"]
        with self.assertRaisesRegex(ValidationError, "lowercase letters, digits"):
            Source.create({"name": "Bad", "code": "Bad Code/1"})
        with self.assertRaisesRegex(ValidationError, "signing secret is not valid") as caught:
            Source.create({"name": "Bad", "code": "bad", "secret": "whsec_not-base64!"})
        self.assertNotIn("not-base64", str(caught.exception), "the message never echoes the value")
        with self.assertRaisesRegex(ValidationError, "signing secret is not valid"):
            self.source.new_secret = "plain-text"
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            Source.create({"name": "Twin", "code": self.source.code, "company_id": self.company_b.id})
            self.flush()

    def test_a_source_of_company_b_cannot_touch_an_order_of_company_a(self):
        order = self.shipped_order()
        before = self.footprint(order)
        status, answer = self.post(self.milestone_body(order, "failed_delivery"), code=self.source_b.code)
        self.assertEqual((status, answer["error"]), (404, "unknown_order"))
        self.assertEqual(self.footprint(order), before)

    def test_company_rules_on_milestones_and_sources(self):
        order = self.shipped_order()
        self.assertEqual(self.post(self.milestone_body(order, "picked_up"))[0], 200)
        milestone = self.milestones(order)
        Milestone = self.env["order.visibility.milestone"].with_user(self.user_b)
        self.assertFalse(Milestone.search([("id", "=", milestone.id)]), "company B does not see company A's milestones")
        with self.assertRaises(AccessError):
            milestone.with_user(self.user_b).read(["milestone"])
        Source = self.env["order.visibility.webhook.source"].with_user(self.user_b)
        self.assertEqual(Source.search([]), self.source_b)

    def test_accepted_milestone_emits_order_milestone_received_once(self):
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "True")
        receiver = Receiver()
        self.addCleanup(receiver.stop)
        endpoint = self.env["order.visibility.webhook.endpoint"].create(
            {"name": "Receiver", "url": receiver.url, "company_id": self.company.id}
        )
        order = self.shipped_order()
        body = self.milestone_body(order, "delivered", proof={"signed_by": "J. Peeters"}, carrier="DHL")
        self.assertEqual(self.post(body, msg_id="msg_delivered")[0], 200)
        self.assertEqual(self.post(body, msg_id="msg_delivered")[0], 200)
        self.flush()
        deliveries = self.env["order.visibility.webhook.delivery"].search(
            [("endpoint_id", "=", endpoint.id), ("event_type", "=", "order.milestone_received")]
        )
        self.assertEqual(len(deliveries), 1, "a replayed message emits nothing")
        payload = json.loads(deliveries.payload)
        validate(payload)
        milestone = payload["data"]["milestone"]
        self.assertEqual(
            (milestone["code"], milestone["carrier"], milestone["signed_by"], milestone["webhook_id"]),
            ("delivered", "DHL", "J. Peeters", "msg_delivered"),
        )
        self.assertEqual(payload["data"]["order_name"], order.name)
        self.assertNotIn(SECRET[6:], deliveries.payload)

    def test_views_and_menu_are_for_administrators(self):
        menu = self.env.ref("order_visibility_webhooks.menu_order_visibility_webhook_source")
        self.assertEqual(menu.parent_id, self.env.ref("order_visibility.menu_order_visibility_config"))
        self.assertEqual(menu.group_ids, self.env.ref("order_visibility.group_order_visibility_admin"))
        views = self.env["order.visibility.webhook.source"].get_views([(False, "list"), (False, "form")])["views"]
        self.assertIn('name="milestone_ids"', views["form"]["arch"], "the source's last messages")
        self.assertIn('name="new_secret"', views["form"]["arch"])
        Milestone = self.env["order.visibility.milestone"].with_user(self.manager)
        arch = Milestone.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="milestone"', arch)
