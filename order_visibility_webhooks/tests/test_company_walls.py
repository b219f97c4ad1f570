# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Companies are walls for webhook endpoints, deliveries, attempts and secrets,
administrators included; every public method checks its caller; deliveries and
attempts are a log; a secret is shown once and never read back."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, HttpCase, JsonRpcException, new_test_user, tagged
from odoo.tools import SQL

from .common import WebhookCommon

GOOD_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes


class CompanyWallsCommon(WebhookCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="OV Walls B")["company"]
        only_a = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        admin = "order_visibility.group_order_visibility_admin"
        cls.admin_a = new_test_user(cls.env, "ov_walls_admin_a", groups=admin, **only_a)
        cls.other_admin_a = new_test_user(cls.env, "ov_walls_admin_a2", groups=admin, **only_a)
        cls.user_a = new_test_user(
            cls.env, "ov_walls_user_a", groups="order_visibility.group_order_visibility_user", **only_a
        )
        Endpoint = cls.env["order.visibility.webhook.endpoint"]
        cls.endpoint_a = Endpoint.create(
            {"name": "A", "url": cls.receiver.url, "company_id": cls.company.id, "timeout": 2}
        )
        cls.endpoint_b = Endpoint.create(
            {"name": "B", "url": cls.receiver.url, "company_id": cls.company_b.id, "timeout": 2, "max_attempts": 1}
        )

    def setUp(self):
        super().setUp()
        self.receiver.secrets = [self.endpoint_a.sudo().secret, self.endpoint_b.sudo().secret]

    def queue_test_event(self, endpoint):
        endpoint.action_send_test_event()
        return self.deliveries(endpoint_id=endpoint.id)[-1]

    def dead_delivery(self, endpoint):
        """A delivery of ``endpoint`` dead after its one attempt (max attempts 1)."""
        endpoint.max_attempts = 1
        delivery = self.queue_test_event(endpoint)
        self.receiver.mode = "error"
        self.dispatch()
        self.receiver.mode = "ok"
        self.assertEqual(delivery.state, "dead")
        return delivery


@tagged("post_install", "-at_install")
class TestCompanyWalls(CompanyWallsCommon):
    def test_an_admin_of_a_neither_reads_nor_writes_company_b(self):
        delivery_b = self.dead_delivery(self.endpoint_b)
        [attempt_b] = delivery_b.attempt_ids
        as_admin_a = self.endpoint_b.with_user(self.admin_a)
        with self.assertRaises(AccessError):
            as_admin_a.read(["name"])
        with self.assertRaises(AccessError):
            as_admin_a.write({"url": self.receiver.url + "/stolen"})
        with self.assertRaises(AccessError):
            as_admin_a.unlink()
        with self.assertRaises(AccessError):
            delivery_b.with_user(self.admin_a).read(["payload"])
        with self.assertRaises(AccessError):
            attempt_b.with_user(self.admin_a).read(["response"])
        for model, record in (
            ("order.visibility.webhook.endpoint", self.endpoint_b),
            ("order.visibility.webhook.delivery", delivery_b),
            ("order.visibility.webhook.attempt", attempt_b),
        ):
            found = self.env[model].with_user(self.admin_a).with_context(active_test=False).search([])
            self.assertNotIn(record.id, found.ids, model)

    def test_an_admin_of_a_cannot_act_on_company_b(self):
        endpoint_b = self.endpoint_b
        secret, before = endpoint_b.sudo().secret, self.deliveries()
        self.assertFalse(endpoint_b.secret_shown)
        as_admin_a = endpoint_b.with_user(self.admin_a)
        for action in (
            "action_show_secret",
            "action_rotate_secret",
            "action_send_test_event",
            "action_view_deliveries",
        ):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(as_admin_a, action)()
        self.assertFalse(endpoint_b.secret_shown, "nothing was shown")
        self.assertEqual(endpoint_b.sudo().secret, secret, "nothing was rotated")
        self.assertEqual(self.deliveries(), before, "nothing was queued")

        delivery_b = self.dead_delivery(endpoint_b)
        with self.assertRaises(AccessError):
            delivery_b.with_user(self.admin_a).action_retry()
        self.assertEqual((delivery_b.state, delivery_b.attempt_count), ("dead", 1))

        # Replay: a wizard on B's endpoint is neither created nor run by an admin of A.
        Replay = self.env["order.visibility.webhook.replay"]
        values = {
            "endpoint_id": endpoint_b.id,
            "date_from": fields.Datetime.now() - timedelta(hours=1),
            "date_to": fields.Datetime.now() + timedelta(hours=1),
        }
        with self.assertRaises(AccessError):
            Replay.with_user(self.admin_a).create(values)
        wizard = Replay.create(values)  # an administrator of both companies
        with self.assertRaises(AccessError):
            wizard.with_user(self.admin_a).action_replay()
        self.assertEqual(self.deliveries(endpoint_id=endpoint_b.id), delivery_b, "nothing replayed")

    def test_the_company_of_an_endpoint_never_changes(self):
        for user in (self.env.user, self.admin_a):  # administrator of both companies, and of A only
            with self.subTest(user=user.login), self.assertRaises(ValidationError):
                self.endpoint_a.with_user(user).write({"company_id": self.company_b.id})
        with self.assertRaises(ValidationError):
            self.endpoint_a.sudo().write({"company_id": self.company_b.id})
        self.assertEqual(self.endpoint_a.company_id, self.company)
        self.endpoint_a.write({"company_id": self.company.id, "name": "A again"})  # unchanged: fine
        # It still gets company A's events only.
        order = self.confirmed_order()
        self.assertEqual(self.deliveries(sale_order_id=order.id).endpoint_id, self.endpoint_a)

    def test_deliveries_and_attempts_are_a_log(self):
        delivery = self.queue_test_event(self.endpoint_a)
        self.dispatch()
        [attempt] = delivery.attempt_ids
        payload = delivery.payload
        for user in (self.env.user, self.admin_a, self.user_a):
            for vals in (
                {"endpoint_id": self.endpoint_b.id},
                {"payload": '{"type": "forged"}'},
                {"company_id": self.company_b.id},
                {"state": "pending"},
            ):
                with self.subTest(user=user.login, vals=vals), self.assertRaises(AccessError):
                    delivery.with_user(user).write(vals)
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                attempt.with_user(user).write({"success": False})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                delivery.with_user(user).unlink()
        with self.assertRaises(AccessError):
            delivery.sudo().write({"payload": '{"type": "forged"}'})  # not even as superuser
        with self.assertRaises(AccessError):
            attempt.sudo().write({"status_code": 200})
        self.assertEqual(
            (delivery.payload, delivery.endpoint_id, delivery.state), (payload, self.endpoint_a, "delivered")
        )
        with self.assertRaises(ValidationError):  # the engine cannot mix companies either
            self.env["order.visibility.webhook.delivery"].sudo().create(
                {
                    "endpoint_id": self.endpoint_a.id,
                    "company_id": self.company_b.id,
                    "event_id": "msg_mixed",
                    "event_type": "webhook.test",
                    "payload": "{}",
                }
            )

    def test_a_plain_user_cannot_retry(self):
        delivery = self.dead_delivery(self.endpoint_a)
        next_attempt_at = delivery.next_attempt_at
        with self.assertRaises(AccessError):
            delivery.with_user(self.user_a).action_retry()
        self.assertEqual(delivery.state, "dead")
        self.assertEqual(delivery.attempt_count, 1)
        self.assertEqual(delivery.next_attempt_at, next_attempt_at)
        with self.assertRaises(AccessError):
            self.endpoint_a.with_user(self.user_a).action_send_test_event()
        # The administrator of its company can.
        delivery.with_user(self.admin_a).action_retry()
        self.assertEqual((delivery.state, delivery.attempt_count), ("pending", 0))

    def test_the_dispatcher_refuses_a_delivery_of_another_company(self):
        delivery = self.queue_test_event(self.endpoint_a)
        # Data the ORM refuses to write (rows from before the wall, a manual SQL fix, ...).
        self.env.cr.execute(
            SQL(
                "UPDATE order_visibility_webhook_delivery SET company_id = %s WHERE id = %s",
                self.company_b.id,
                delivery.id,
            )
        )
        self.env.invalidate_all()
        self.assertEqual(self.dispatch(), 1)
        self.assertEqual(delivery.state, "dead", "dead-lettered at once")
        self.assertIn("never sent", delivery.last_error)
        self.assertFalse(self.receiver.received, "never sent")
        self.assertEqual(self.endpoint_a.consecutive_failures, 0, "not the receiver's failure")

    def test_event_type_codes_are_fixed(self):
        event_type = self.env.ref("order_visibility_webhooks.event_type_status_changed").with_user(self.admin_a)
        with self.assertRaises(UserError):
            event_type.write({"code": "order.anything"})
        with self.assertRaises(UserError):
            event_type.write({"schema_version": 2})
        event_type.write({"name": "Stage changed", "sequence": 3})


@tagged("post_install", "-at_install")
class TestSecrets(CompanyWallsCommon):
    def reveal(self, endpoint, user):
        """What the administrator's dialog shows: the wizard form opened by the action."""
        action = endpoint.with_user(user).action_show_secret()
        self.assertNotIn("res_id", action, "no record holds the secret")
        return Form(self.env[action["res_model"]].with_user(user).with_context(**action["context"])).secret

    def test_a_secret_is_shown_once_and_never_read_back(self):
        endpoint = self.endpoint_a
        secret = endpoint.sudo().secret
        self.assertTrue(secret.startswith("whsec_"), "generated by the server")
        self.assertEqual(self.reveal(endpoint, self.admin_a), secret)
        self.assertTrue(endpoint.secret_shown)
        for user in (self.admin_a, self.other_admin_a, self.env.user):
            with self.subTest(user=user.login):
                with self.assertRaises(UserError):
                    endpoint.with_user(user).action_show_secret()
                with self.assertRaises(AccessError):
                    endpoint.with_user(user).read(["secret"])
                with self.assertRaises(AccessError):
                    endpoint.with_user(user).read(["previous_secret"])
                self.assertNotIn("secret", endpoint.with_user(user).fields_get())
                self.assertFalse(endpoint.with_user(user).read(["new_secret"])[0]["new_secret"])
                Wizard = self.env["order.visibility.webhook.secret.wizard"].with_user(user)
                self.assertNotIn(secret, str(Wizard.search_read([], ["secret"])))
        # The reveal cannot be armed again by hand.
        with self.assertRaises(AccessError):
            endpoint.with_user(self.admin_a).write({"secret_shown": False})
        # Rotating gives a new secret, shown once again.
        new = self.reveal_rotation(endpoint, self.admin_a)
        self.assertNotEqual(new, secret)
        self.assertEqual(endpoint.sudo().secret, new)
        self.assertEqual(endpoint.sudo().previous_secret, secret, "the previous one signs during the overlap")
        with self.assertRaises(UserError):
            self.reveal(endpoint, self.other_admin_a)
        # Never in the chatter, its tracking or the messages' bodies.
        messages = (
            self.env["mail.message"].sudo().search([("model", "=", endpoint._name), ("res_id", "=", endpoint.id)])
        )
        self.assertTrue(messages)
        trackings = messages.tracking_value_ids
        text = str(messages.mapped("body") + trackings.mapped("old_value_char") + trackings.mapped("new_value_char"))
        self.assertNotIn(secret, text)
        self.assertNotIn(new, text)

    def reveal_rotation(self, endpoint, user):
        action = endpoint.with_user(user).action_rotate_secret()
        return Form(self.env[action["res_model"]].with_user(user).with_context(**action["context"])).secret

    def test_secret_wizard_rows_keep_nothing_and_only_their_creator_reads_them(self):
        Wizard = self.env["order.visibility.webhook.secret.wizard"]
        dialog = {
            "res_model": self.endpoint_a._name,
            "res_id": self.endpoint_a.id,
            "res_name": self.endpoint_a.name,
        }
        row = Wizard.with_user(self.admin_a).create(dict(dialog, secret=GOOD_SECRET))
        self.assertFalse(row.secret, "a saved dialog keeps no secret")
        row = Wizard.with_user(self.admin_a).with_context(default_secret=GOOD_SECRET).create(dialog)
        self.assertFalse(row.secret)
        self.assertFalse(Wizard.with_user(self.other_admin_a).search([]), "another admin sees no one else's row")
        with self.assertRaises(AccessError):
            row.with_user(self.other_admin_a).read(["res_name"])
        with self.assertRaises(AccessError):
            Wizard.with_user(self.user_a).search([])
        with self.assertRaises(AccessError):
            Wizard.with_user(self.admin_a).create(dict(dialog, res_id=self.endpoint_b.id))
        with self.assertRaises(AccessError):
            Wizard.with_user(self.admin_a).create(
                dict(dialog, res_model="res.partner", res_id=self.admin_a.partner_id.id)
            )

    def test_an_admin_types_a_secret_that_is_never_read_back(self):
        Endpoint = self.env["order.visibility.webhook.endpoint"].with_user(self.admin_a)
        with self.assertRaises(ValidationError) as caught:
            Endpoint.create({"name": "Typed", "url": self.receiver.url, "new_secret": "whsec_not-base64!!"})
        self.assertNotIn("not-base64", str(caught.exception))
        endpoint = Endpoint.create({"name": "Typed", "url": self.receiver.url, "new_secret": GOOD_SECRET})
        self.assertEqual(endpoint.sudo().secret, GOOD_SECRET)
        self.assertTrue(endpoint.secret_shown, "typed by the admin: nothing to show")
        self.assertFalse(endpoint.new_secret)
        # Over RPC, ``secret`` itself can be set (as scripts do), never read.
        direct = Endpoint.create({"name": "Direct", "url": self.receiver.url, "secret": GOOD_SECRET})
        self.assertEqual(direct.sudo().secret, GOOD_SECRET)
        self.assertTrue(direct.secret_shown)
        with self.assertRaises(AccessError):
            direct.read(["secret"])
        with self.assertRaises(AccessError):
            Endpoint.create({"name": "Shown", "url": self.receiver.url, "secret_shown": True})
        with self.assertRaises(AccessError):
            Endpoint.create({"name": "Rotated", "url": self.receiver.url, "previous_secret": GOOD_SECRET})
        with self.assertRaises(AccessError):
            Endpoint.with_user(self.user_a).create({"name": "User", "url": self.receiver.url, "secret": GOOD_SECRET})
        # Replacing it: validated, noted (never the value), never readable.
        other = "whsec_" + "a" * 32
        endpoint.write({"new_secret": other})
        self.assertEqual(endpoint.sudo().secret, other)
        self.assertIn("Signing secret replaced by", endpoint.message_ids.mapped("body")[0])
        self.assertNotIn(other, str(endpoint.message_ids.mapped("body")))
        # A plain user sets none.
        with self.assertRaises(AccessError):
            endpoint.with_user(self.user_a).write({"new_secret": GOOD_SECRET})
        self.assertEqual(endpoint.sudo().secret, other)


@tagged("post_install", "-at_install")
class TestWallsOverRpc(CompanyWallsCommon, HttpCase):
    """The same calls as a browser or a script makes them, whatever the buttons show."""

    def call(self, login, model, method, ids, *args):
        self.authenticate(login, login)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": [ids, *args], "kwargs": {}},
        )

    def test_rpc_calls_meet_the_same_walls(self):
        delivery = self.queue_test_event(self.endpoint_a)
        delivery._write_internal({"state": "dead", "attempt_count": 1})
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"):
            self.call(self.user_a.login, delivery._name, "action_retry", delivery.ids)
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"):
            self.call(self.admin_a.login, self.endpoint_b._name, "action_show_secret", self.endpoint_b.ids)
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"):
            self.call(self.admin_a.login, delivery._name, "write", delivery.ids, {"payload": "{}"})
        self.env.invalidate_all()
        self.assertEqual((delivery.state, delivery.attempt_count), ("dead", 1))
        self.assertFalse(self.endpoint_b.secret_shown)
        # The admin of A reveals A's secret once; nobody reads it afterwards.
        action = self.call(self.admin_a.login, self.endpoint_a._name, "action_show_secret", self.endpoint_a.ids)
        self.assertEqual(action["context"]["default_secret"], self.endpoint_a.sudo().secret)
        for login in (self.admin_a.login, self.other_admin_a.login):
            rows = self.call(login, "order.visibility.webhook.secret.wizard", "search_read", [], ["secret"])
            self.assertEqual(rows, [])
            with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"):
                self.call(login, self.endpoint_a._name, "read", self.endpoint_a.ids, ["secret"])
            with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.UserError"):
                self.call(login, self.endpoint_a._name, "action_show_secret", self.endpoint_a.ids)
