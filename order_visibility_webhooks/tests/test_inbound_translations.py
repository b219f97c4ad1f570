# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Milestones with Dutch installed: labels and the risk reason follow the
reader; the chatter note and the exception detail, written once, are in the
company's language (the sender has none)."""

from datetime import UTC, datetime, timedelta

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools.misc import format_date

from .common_inbound import InboundCommon, iso


@tagged("post_install", "-at_install")
class TestInboundTranslations(InboundCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_dutch(modules=("order_visibility", "order_visibility_webhooks"))
        cls.company.partner_id.lang = "nl_NL"
        cls.dutch_manager = cls.new_user(
            "ov_nl_inbound_manager",
            "order_visibility.group_order_visibility_manager,sales_team.group_sale_salesman_all_leads",
            lang="nl_NL",
        )

    def test_a_delay_reads_in_dutch(self):
        order = self.shipped_order(promised_in_days=1)
        eta = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=3)
        status, _answer = self.post(self.milestone_body(order, "delayed", eta=iso(eta), carrier="DHL"))
        self.assertEqual(status, 200)

        self.assertIn("Mijlpaal vervoerder: Vertraagd", order.message_ids[0].body, "company language")
        exception = self.delivery_exceptions(order, "open")
        self.assertTrue(exception.detail.startswith("Vertraagd door DHL: nieuwe verwachte levering"), exception.detail)

        milestone = self.milestones(order)
        field = milestone._fields["milestone"]
        dutch_env = milestone.with_user(self.dutch_manager).with_context(lang="nl_NL").env
        self.assertEqual(dict(field._description_selection(dutch_env))["delayed"], "Vertraagd")
        english_env = milestone.with_context(lang="en_US").env
        self.assertEqual(dict(field._description_selection(english_env))["delayed"], "Delayed")

        visibility = self.visibility(order)
        self.assertEqual(visibility.risk_reasons[-1][0], "carrier_delay", "a code, not a sentence")
        self.assertIn(
            "de vervoerder verwacht levering 2.0 dagen na de toezegging",
            visibility.with_user(self.dutch_manager).with_context(lang="nl_NL").risk_explanation,
        )
        self.assertIn(
            "the carrier expects delivery 2.0 days after the promise",
            visibility.with_context(lang="en_US").risk_explanation,
        )

    def test_the_customer_update_of_a_delay_reads_in_the_customers_language(self):
        self.customer.write({"email": "orders@harborfoods.example.com", "lang": "nl_NL"})
        self.company.ov_auto_customer_updates = True
        self.customer.ov_auto_customer_updates = True
        order = self.shipped_order(promised_in_days=1)
        eta = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(days=3)
        status, _answer = self.post(self.milestone_body(order, "delayed", eta=iso(eta), carrier="DHL"))
        self.assertEqual(status, 200)

        def day(value, lang):
            return format_date(self.env, value, lang_code=lang, date_format="d MMMM")

        dutch = (
            f"Uw bestelling {order.name} is onderweg, maar de vervoerder heeft vertraging: die verwacht nu te "
            f"leveren op {day(eta, 'nl_NL')}. Dat is later dan de {day(order.commitment_date, 'nl_NL')} die we "
            "hadden toegezegd; onze excuses voor de vertraging."
        )
        visibility = self.visibility(order)
        sent = visibility.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(len(sent), 1, "sent automatically, once")
        self.assertIn(dutch, sent.body, "in the customer's language")
        # The order's link when an addon gives one (the portal), in Dutch too.
        link = visibility._customer_update_link()
        if link:
            self.assertIn(f'href="{link}"', sent.body)
            self.assertIn("Volg uw bestelling", sent.body)
            self.assertNotIn("Follow your order", sent.body)
        else:
            self.assertNotIn("ov_customer_update_link", sent.body)
        self.assertEqual(
            visibility.with_user(self.dutch_manager).with_context(lang="nl_NL").customer_update_text, dutch
        )
        self.assertIn(
            f"it now expects to deliver it on {day(eta, 'en_US')}",
            visibility.with_context(lang="en_US").customer_update_text,
        )

    def test_a_refused_change_is_explained_in_the_readers_language(self):
        company_b = self.setup_second_company(name="OV Inbound NL B")["company"]
        dutch_admin = self.new_user(
            "ov_nl_inbound_admin",
            "order_visibility.group_order_visibility_admin",
            self.company | company_b,
            lang="nl_NL",
        )
        source = self.source.with_user(dutch_admin).with_context(lang="nl_NL")
        with self.assertRaisesRegex(UserError, "Het bedrijf van een bron van inkomende mijlpalen kan niet worden"):
            source.write({"company_id": company_b.id})
        with self.assertRaisesRegex(ValidationError, "moet tussen 1 en 10000 verzoeken per minuut liggen"):
            source.write({"rate_limit": 0})
        self.assertEqual(self.source.company_id, self.company)
