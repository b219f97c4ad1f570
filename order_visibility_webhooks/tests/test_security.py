# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Data minimisation, company isolation, group access, URL safety, secret handling."""

import json
import socket
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .common import WebhookCommon


@tagged("post_install", "-at_install")
class TestPayloadAndAccess(WebhookCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="OV Company B")["company"]
        cls.warehouse_b = cls.env["stock.warehouse"].search([("company_id", "=", cls.company_b.id)], limit=1)
        cls.user_a = new_test_user(
            cls.env,
            "ov_wh_user_a",
            groups="order_visibility.group_order_visibility_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.customer.write({"street": "1 Quay Street", "city": "Rotterdam", "zip": "3011"})

    def order_in(self, company, warehouse):
        order = (
            self.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": company.id,
                    "warehouse_id": warehouse.id,
                    "order_line": [Command.create({"product_id": self.goods.id, "product_uom_qty": 1})],
                }
            )
        )
        self.set_stock(self.goods, 1, warehouse.lot_stock_id)
        order.with_company(company).action_confirm()
        self.flush()
        return order

    def test_customer_data_follows_the_minimisation_setting(self):
        self.create_endpoint()
        self.confirmed_order()
        [first] = self.deliveries()
        self.assertNotIn("customer", json.loads(first.payload)["data"])
        self.assertNotIn("Harbor Foods", first.payload)
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.include_customer", "True")
        self.confirmed_order()
        second = self.deliveries() - first
        customer = json.loads(second.payload)["data"]["customer"]
        self.assertEqual(customer["name"], "Harbor Foods")
        self.assertEqual(customer["address"]["city"], "Rotterdam")

    def test_endpoints_get_only_their_company_events(self):
        endpoint_a = self.create_endpoint(name="A")
        endpoint_b = self.env["order.visibility.webhook.endpoint"].create(
            {"name": "B", "url": self.receiver.url, "company_id": self.company_b.id}
        )
        order_b = self.order_in(self.company_b, self.warehouse_b)
        self.assertFalse(self.deliveries(endpoint_id=endpoint_a.id))
        delivery_b = self.deliveries(endpoint_id=endpoint_b.id)
        self.assertEqual(delivery_b.sale_order_id, order_b)
        self.assertEqual(delivery_b.company_id, self.company_b)

        # A user of company A neither sees company B's deliveries nor their payloads.
        self.order_in(self.company, self.warehouse)
        Delivery = self.env["order.visibility.webhook.delivery"].with_user(self.user_a)
        visible = Delivery.search([])
        self.assertTrue(visible)
        self.assertEqual(visible.company_id, self.company)
        with self.assertRaises(AccessError):
            delivery_b.with_user(self.user_a).read(["payload"])
        with self.assertRaises(AccessError):
            endpoint_b.with_user(self.user_a).read(["name"])

    def test_users_never_read_secrets(self):
        endpoint = self.create_endpoint()
        as_user = endpoint.with_user(self.user_a)
        self.assertEqual(as_user.read(["name"])[0]["name"], "Receiver", "users read the endpoint")
        with self.assertRaises(AccessError):
            as_user.read(["secret"])
        with self.assertRaises(AccessError):
            as_user.read(["previous_secret"])
        self.assertNotIn("secret", as_user.fields_get())
        with self.assertRaises(AccessError):
            as_user.write({"url": self.receiver.url + "/x"})
        with self.assertRaises(AccessError):
            as_user.action_rotate_secret()
        with self.assertRaises(AccessError):
            self.env["order.visibility.webhook.secret.wizard"].with_user(self.user_a).search([])

    def test_secret_validation_never_echoes_the_value(self):
        bad = "whsec_not-base64!!"
        with self.assertRaises(ValidationError) as caught:
            self.create_endpoint(secret=bad)
        self.assertNotIn(bad, str(caught.exception))
        good = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes
        endpoint = self.create_endpoint(secret=good)
        self.assertEqual(endpoint.sudo().secret, good)
        self.assertTrue(endpoint.secret_shown, "an admin-typed secret needs no reveal")
        tracked = endpoint.message_ids.mapped("tracking_value_ids.field_id.name")
        self.assertNotIn("secret", tracked)


@tagged("post_install", "-at_install")
class TestUrlSafety(WebhookCommon):
    def check(self, url):
        self.env["order.visibility.webhook.endpoint"]._check_target_url(url)

    def test_private_targets_refused_unless_allowed(self):
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "False")
        for url in (
            "https://127.0.0.1/hooks",
            "https://10.1.2.3/hooks",
            "https://192.168.1.10/hooks",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hooks",
            "https://localhost/hooks",  # a name that resolves to loopback
        ):
            with self.subTest(url=url), self.assertRaises(UserError) as caught:
                self.check(url)
            self.assertIn("private, loopback or link-local", str(caught.exception))
        with self.assertRaises(ValidationError):
            self.create_endpoint()
        # Allowed: tests and local demos (plain http to a private target too).
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "True")
        self.check(self.receiver.url)
        self.check("http://localhost:8080/hooks")

    def test_public_name_resolving_to_a_private_address_is_refused(self):
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "False")
        real = socket.getaddrinfo

        def resolver(host, *args, **kwargs):
            if host == "hooks.example.com":  # DNS answers with a public and a private address
                return [
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443)),
                ]
            return real(host, *args, **kwargs)

        with patch("socket.getaddrinfo", resolver):
            with self.assertRaises(UserError) as caught:
                self.check("https://hooks.example.com/in")
            self.assertIn("10.0.0.5", str(caught.exception))

    def test_https_required_and_malformed_urls(self):
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "False")
        real = socket.getaddrinfo

        def resolver(host, *args, **kwargs):
            if host == "hooks.example.com":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))]
            return real(host, *args, **kwargs)

        with patch("socket.getaddrinfo", resolver):
            self.check("https://hooks.example.com/in")
            with self.assertRaises(UserError) as caught:
                self.check("http://hooks.example.com/in")
            self.assertIn("must use HTTPS", str(caught.exception))
        for url in ("not a url", "ftp://hooks.example.com/x", "https://", "https://host:99999/"):
            with self.subTest(url=url), self.assertRaises(UserError) as caught:
                self.check(url)
            self.assertIn("not a valid http(s) URL", str(caught.exception))
        with self.assertRaises(ValidationError):
            self.create_endpoint(url="https//missing-colon")

    def test_send_time_check_refuses_a_target_that_became_private(self):
        endpoint = self.create_endpoint()
        self.confirmed_order()
        [delivery] = self.deliveries()
        # DNS changed, or the parameter was switched off after saving.
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "False")
        self.dispatch()
        self.assertEqual(delivery.state, "failed")
        self.assertIn("Refused at send time", delivery.last_error)
        self.assertFalse(self.receiver.received)
        self.assertEqual(endpoint.consecutive_failures, 1)
