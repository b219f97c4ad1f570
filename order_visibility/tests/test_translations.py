# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Stored texts are language-neutral; each reader reads their own language.

Dutch is installed as the second language (i18n/nl.po translates the risk
reasons, the causes of the timeline and some stages).
"""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestLanguageNeutralTexts(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_dutch()
        cls.dutch_manager = cls.new_user(
            "ov_nl_manager",
            "order_visibility.group_order_visibility_manager,sales_team.group_sale_salesman_all_leads",
            lang="nl_NL",
        )

    def as_dutch(self, records):
        """``records`` as the Dutch manager reads them in the web client."""
        return records.with_user(self.dutch_manager).with_context(lang="nl_NL")

    def late_order(self):
        self.set_stock(self.goods, 3)
        order = self.create_order([(self.goods, 3)], commitment_date=fields.Datetime.now() - timedelta(days=2))
        order.action_confirm()
        return order

    def test_risk_explanation_is_stored_neutral_and_read_in_each_language(self):
        visibility = self.assertStage(self.late_order(), "ready_to_ship")
        reasons = visibility.risk_reasons
        self.assertEqual([code for code, _figures in reasons], ["late", "important_customer"])
        english = visibility.with_context(lang="en_US").risk_explanation
        self.assertEqual(english, "can ship 2.0 days after the promise; important customer")

        # A recompute by a Dutch user stores the same, language-neutral reasons...
        self.as_dutch(visibility).action_recompute()
        self.flush()
        visibility.invalidate_recordset()
        self.assertEqual(visibility.risk_reasons, reasons)
        # ...and each reader reads their own language.
        self.assertEqual(
            self.as_dutch(visibility).risk_explanation,
            "kan 2.0 dagen na de toezegging verzenden; belangrijke klant",
        )
        self.assertEqual(visibility.with_context(lang="en_US").risk_explanation, english)

    def test_blocked_stage_in_the_explanation_follows_the_reader(self):
        self.switch_on_governance("use_credit_limit")
        self.customer.credit_limit = 10.0
        self.set_stock(self.goods, 3)
        order = self.create_order([(self.goods, 3)], commitment_date=fields.Datetime.now() + timedelta(days=10))
        order.action_confirm()
        visibility = self.assertStage(order, "credit_hold")
        self.assertIn("blocked (Credit Hold)", visibility.with_context(lang="en_US").risk_explanation)
        self.assertIn("geblokkeerd (Kredietblokkade)", self.as_dutch(visibility).risk_explanation)

    def test_transition_causes_are_codes_shown_in_the_readers_language(self):
        visibility = self.assertStage(self.late_order(), "ready_to_ship")
        transition = visibility.transition_ids.sorted("id")[-1]
        self.assertEqual(transition.cause, "stock_reserved", "a code, not a sentence")
        field = transition._fields["cause"]
        self.assertEqual(
            dict(field._description_selection(self.as_dutch(transition).env))["stock_reserved"], "Voorraad gereserveerd"
        )
        self.assertEqual(
            dict(field._description_selection(transition.with_context(lang="en_US").env))["stock_reserved"],
            "Stock reserved",
        )

    def test_unknown_cause_is_refused(self):
        with self.assertRaisesRegex(ValueError, "unknown order visibility cause"):
            self.env["order.visibility"]._schedule_recompute(self.create_order([(self.goods, 1)]), "something happened")

    def test_a_refused_snooze_is_explained_in_the_readers_language(self):
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        shortage = self.visibility(order).exception_ids.filtered(lambda e: e.code == "stock_shortage")
        too_long = fields.Datetime.now() + timedelta(days=30)
        with self.assertRaisesRegex(ValidationError, "hoogstens 14 dagen worden uitgesteld"):
            self.as_dutch(shortage).action_snooze(too_long, "Volgende maand")
        with self.assertRaisesRegex(ValidationError, "snoozed for 14 days at most"):
            shortage.with_context(lang="en_US").action_snooze(too_long, "Next month")
