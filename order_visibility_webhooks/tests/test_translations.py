# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A second language installed: errors, views and catalogue names follow the reader (i18n/nl.po)."""

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import WebhookCommon


@tagged("post_install", "-at_install")
class TestWebhookTranslations(WebhookCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_dutch(modules=("order_visibility_webhooks",))
        cls.dutch_admin = cls.new_user(
            "ov_nl_webhook_admin", "order_visibility.group_order_visibility_admin", lang="nl_NL"
        )

    def as_dutch(self, model):
        return self.env[model].with_user(self.dutch_admin).with_context(lang="nl_NL")

    def test_errors_are_translated(self):
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "False")
        Endpoint = self.as_dutch("order.visibility.webhook.endpoint")
        with self.assertRaises(ValidationError) as caught:
            Endpoint.create({"name": "x", "url": "ftp://x"})
        self.assertEqual(str(caught.exception), "De webhook-URL ftp://x is geen geldige http(s)-URL.")
        with self.assertRaises(ValidationError) as caught:
            Endpoint.create({"name": "x", "url": "https://127.0.0.1/", "secret": "whsec_nope"})
        self.assertIn("Het ondertekeningsgeheim is ongeldig", str(caught.exception))
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "True")
        endpoint = self.create_endpoint()
        self.confirmed_order()
        delivery = self.deliveries(endpoint_id=endpoint.id)
        with self.assertRaises(UserError) as caught:
            delivery.with_user(self.dutch_admin).with_context(lang="nl_NL").action_retry()
        self.assertEqual(
            str(caught.exception), "Alleen mislukte of opgegeven leveringen kunnen opnieuw worden verstuurd."
        )
        # The English reader still reads English.
        with self.assertRaises(UserError) as caught:
            delivery.with_context(lang="en_US").action_retry()
        self.assertEqual(str(caught.exception), "Only failed or dead deliveries can be retried.")

    def test_views_and_catalogue_follow_the_reader(self):
        arch = self.as_dutch("order.visibility.webhook.endpoint").get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("Testgebeurtenis versturen", arch)
        self.assertIn("Geheim vervangen", arch)
        status = self.env.ref("order_visibility_webhooks.event_type_status_changed")
        self.assertEqual(status.with_context(lang="nl_NL").name, "Orderfase gewijzigd")
        self.assertEqual(status.with_context(lang="en_US").name, "Order stage changed")
        self.assertEqual(status.code, "order.status_changed", "the code in payloads never changes")
        states = dict(
            self.env["order.visibility.webhook.delivery"]
            ._fields["state"]
            ._description_selection(self.as_dutch("order.visibility.webhook.delivery").env)
        )
        self.assertEqual(states["dead"], "Opgegeven")
