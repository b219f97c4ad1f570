# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Milestones with Dutch installed: labels and the risk reason follow the
reader; the chatter note and the exception detail, written once, are in the
company's language (the sender has none)."""

from datetime import UTC, datetime, timedelta

from odoo.tests import new_test_user, tagged

from .common_inbound import InboundCommon, iso


@tagged("post_install", "-at_install")
class TestInboundTranslations(InboundCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("nl_NL")
        cls.env["ir.module.module"]._load_module_terms(
            ["order_visibility", "order_visibility_webhooks"], ["nl_NL"], overwrite=True
        )
        cls.company.partner_id.lang = "nl_NL"
        cls.dutch_manager = new_test_user(
            cls.env,
            "ov_nl_inbound_manager",
            groups="order_visibility.group_order_visibility_manager,sales_team.group_sale_salesman_all_leads",
            company_id=cls.company.id,
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
