# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Do no harm: installing the suite changes nothing Odoo does until an
admin switches a governance rule on; then every caller knows."""

from pathlib import Path

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.modules.migration import load_script
from odoo.tests import new_test_user, tagged

from .common import OrderVisibilityCommon

MIGRATION = Path(__file__).parents[1] / "migrations" / "19.0.1.1.0" / "post-migrate.py"
PRE_MIGRATION = MIGRATION.with_name("pre-migrate.py")
RULES = (
    "order_visibility.approve_high_value",
    "order_visibility.approve_low_margin",
    "order_visibility.use_credit_limit",
    "order_visibility.hold_overdue",
)


@tagged("post_install", "-at_install")
class TestGovernanceOptIn(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP = cls.env["ir.config_parameter"]
        for key in RULES:  # the state of a new installation
            cls.ICP.set_param(key, False)
        cls.ICP.set_param("order_visibility.high_value_amount", 1000)
        cls.ICP.set_param("order_visibility.min_margin_percent", 10)
        cls.salesperson = new_test_user(
            cls.env,
            "ov_gov_sales",
            groups="sales_team.group_sale_salesman_all_leads,stock.group_stock_user",
            company_id=cls.company.id,
        )
        cls.approver = new_test_user(
            cls.env,
            "ov_gov_approver",
            groups="sales_team.group_sale_salesman,order_visibility.group_order_visibility_manager",
            company_id=cls.company.id,
        )

    def governed_order(self):
        """High value (2,080 > 1,000) and low margin (4 % < 10 %), for a
        customer with receivables 45 days overdue and over their credit limit."""
        self.customer.credit_limit = 100.0
        self.overdue_invoice(self.customer)
        self.set_stock(self.goods, 80)
        order = self.create_order([(self.goods, 80)], user_id=self.salesperson.id)
        order.order_line.price_unit = 26.0
        return order

    def open_exceptions(self, order, code):
        self.flush()
        return self.env["order.visibility.exception"].search(
            [("sale_order_id", "=", order.id), ("code", "=", code), ("state", "!=", "resolved")]
        )

    def test_rules_are_off_after_installation(self):
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.ov_approve_high_value)
        self.assertFalse(settings.ov_approve_low_margin)
        self.assertFalse(settings.ov_use_credit_limit)
        self.assertFalse(settings.ov_hold_overdue)

    def test_default_settings_confirm_and_ship_as_odoo_does(self):
        order = self.governed_order()
        # By code, as another addon or an integration would; then in the form.
        self.assertIs(order.with_user(self.salesperson).action_confirm(), True)
        self.assertEqual(order.state, "sale")
        self.assertTrue(order.picking_ids, "confirmation created the delivery")
        self.assertFalse(order.visibility_ids.approval_ids, "no approval asked")
        visibility = self.assertStage(order, "ready_to_ship")
        self.assertFalse(visibility.credit_hold, "no credit policy holds it")
        self.deliver(order.picking_ids)
        self.assertStage(order, "shipped")
        # Observing stays on: the low margin is reported, not enforced.
        self.sweep()
        self.assertEqual(len(self.open_exceptions(order, "margin_exception")), 1)

    def test_default_settings_form_button_confirms_too(self):
        order = self.governed_order()
        self.assertIs(self.confirm_in_form(order, self.salesperson), True)
        self.assertEqual(order.state, "sale")

    def test_rule_on_code_or_rpc_caller_gets_an_error_and_nothing_changes(self):
        self.switch_on_governance("approve_high_value")
        order = self.governed_order()
        with self.assertRaisesRegex(UserError, "cannot be confirmed without an approval") as caught:
            order.with_user(self.salesperson).action_confirm()
        self.assertIn(order.name, str(caught.exception))
        self.assertIn("reaches the 1,000.00 approval threshold", str(caught.exception))
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.visibility_ids.approval_ids, "no request half-written")
        self.assertStage(order, "draft")

    def test_rule_on_form_button_requests_the_approval(self):
        self.switch_on_governance("approve_high_value", "approve_low_margin")
        order = self.governed_order()
        result = self.confirm_in_form(order, self.salesperson)
        self.assertEqual((result["tag"], result["params"]["title"]), ("display_notification", "Approval required"))
        self.assertEqual(order.state, "draft")
        self.assertStage(order, "pending_approval")
        self.assertEqual(sorted(order.visibility_ids.approval_ids.mapped("reason")), ["high_value", "low_margin"])
        self.assertFalse(any(order.visibility_ids.approval_ids.mapped("is_review")))

    def test_each_rule_has_its_own_switch(self):
        order = self.governed_order()
        self.switch_on_governance("approve_low_margin")
        self.confirm_in_form(order, self.salesperson)
        self.assertEqual(order.visibility_ids.approval_ids.mapped("reason"), ["low_margin"])

    def test_credit_rules_hold_only_when_switched_on(self):
        self.switch_on_governance("hold_overdue")
        order = self.governed_order()
        self.assertIs(order.with_user(self.salesperson).action_confirm(), True)
        self.assertEqual(order.state, "sale", "a credit hold follows the confirmation")
        visibility = self.assertStage(order, "credit_hold")
        self.assertIn("overdue by more than 30 days", visibility.credit_hold_reason)
        with self.assertRaisesRegex(UserError, "credit hold"):
            self.deliver(order.picking_ids)
        self.assertEqual(order.picking_ids.state, "assigned", "nothing was validated")

    def test_payment_confirms_the_order_and_opens_a_review(self):
        """Odoo's own payment flow, with a provider in test mode: the paid
        quotation is confirmed; the approval becomes a review after the fact."""
        self.switch_on_governance("approve_high_value")
        order = self.governed_order()
        # Providers register their accounting payment method at install
        # (``_setup_payment_method``); the code-less test provider has none.
        self.env["account.payment.method"].sudo().create(
            {"name": "Test payments", "code": "none", "payment_type": "inbound"}
        )
        provider = self.env["payment.provider"].create(
            {
                "name": "Test Provider",
                "code": "none",
                "state": "test",
                "is_published": True,
                "company_id": self.company.id,
                "journal_id": self.company_data["default_journal_bank"].id,
                "payment_method_ids": [Command.set(self.env.ref("payment.payment_method_unknown").ids)],
            }
        )
        self.env.ref("payment.payment_method_unknown").active = True
        transaction = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                    "reference": f"{order.name}-pay",
                    "amount": order.amount_total,
                    "currency_id": order.currency_id.id,
                    "partner_id": order.partner_id.id,
                    "operation": "online_redirect",
                    "sale_order_ids": [Command.set(order.ids)],
                }
            )
        )
        transaction._set_done()
        transaction._post_process()

        self.assertEqual(order.state, "sale", "the paid order is not stranded")
        self.assertIn(transaction.payment_id.state, ("in_process", "paid"), "account_payment registered the payment")
        self.assertTrue(order.picking_ids)
        stage = self.visibility(order).stage
        self.assertNotIn(stage, ("draft", "pending_approval"), "a review does not hold the order")
        review = order.visibility_ids.approval_ids
        self.assertEqual((review.reason, review.state, review.is_review), ("high_value", "pending", True))
        exception = self.open_exceptions(order, "approval_pending")
        self.assertEqual(len(exception), 1, "visible in the exception queue and on the order")
        self.assertIn("to review", exception.detail)
        self.assertTrue(exception.owner_id.has_group("order_visibility.group_order_visibility_manager"))

        review.with_user(self.approver).action_approve("Prepaid in full")
        self.assertFalse(self.open_exceptions(order, "approval_pending"))
        self.assertEqual(self.visibility(order).stage, stage, "approving a review changes no stage")

    def test_rejected_review_asks_the_salesperson_to_act(self):
        self.switch_on_governance("approve_low_margin")
        order = self.governed_order()
        # The customer signs the quotation online: the portal validates it.
        order.with_user(self.salesperson)._validate_order()
        self.assertEqual(order.state, "sale")
        review = order.visibility_ids.approval_ids
        self.assertTrue(review.is_review)
        review.with_user(self.approver).action_reject("Margin under the floor: renegotiate the next order")
        self.assertEqual(order.state, "sale", "the order went ahead; rejecting it is the salesperson's call")
        activity = order.activity_ids.filtered(lambda a: a.user_id == self.salesperson)
        self.assertEqual(len(activity), 1)
        self.assertIn("Review rejected", activity.summary)
        self.assertFalse(self.open_exceptions(order, "approval_pending"))

    def test_upgrade_keeps_the_rules_a_database_had(self):
        migration = load_script(str(MIGRATION), "order_visibility_post_migrate")
        for key in RULES:
            self.env["ir.config_parameter"].search([("key", "=", key)]).unlink()
        # A new installation: nothing switched on.
        migration.migrate(self.env.cr, None)
        self.assertFalse(any(self.ICP.get_param(key) for key in RULES))
        # An upgrade from 19.0.1.0.0, where the rules were live from install.
        migration.migrate(self.env.cr, "19.0.1.0.0")
        Settings = self.env["res.config.settings"]
        for key in ("order_visibility.approve_high_value", "order_visibility.approve_low_margin"):
            self.assertIs(Settings._get_visibility_param(key), True, key)
        self.assertIs(Settings._get_visibility_param("order_visibility.hold_overdue"), True)
        self.assertIs(Settings._get_visibility_param("order_visibility.use_credit_limit"), False, "was opt-in already")
        # A high-value amount of 0 meant that rule was off: it stays off.
        for key in RULES:
            self.env["ir.config_parameter"].search([("key", "=", key)]).unlink()
        self.ICP.set_param("order_visibility.high_value_amount", 0)
        migration.migrate(self.env.cr, "19.0.1.0.0")
        self.assertIs(Settings._get_visibility_param("order_visibility.approve_high_value"), False)
        self.assertIs(Settings._get_visibility_param("order_visibility.approve_low_margin"), True)

    def test_upgrade_makes_the_at_risk_rule_follow_the_setting(self):
        migration = load_script(str(MIGRATION), "order_visibility_post_migrate")
        rule = self.env.ref("order_visibility.automation_order_at_risk")
        shipped = {
            "filter_pre_domain": rule.filter_pre_domain,
            "filter_domain": rule.filter_domain,
        }
        rule.write(dict(zip(("filter_pre_domain", "filter_domain"), migration.OLD_AT_RISK_DOMAINS, strict=True)))
        migration.migrate(self.env.cr, "19.0.1.0.0")
        self.assertEqual({"filter_pre_domain": rule.filter_pre_domain, "filter_domain": rule.filter_domain}, shipped)
        edited = "[('risk_score', '>=', 70)]"
        rule.filter_domain = edited
        migration.migrate(self.env.cr, "19.0.1.0.0")
        self.assertEqual(rule.filter_domain, edited, "an admin's own domain is kept")

    def test_upgrade_lets_server_action_code_update(self):
        pre_migration = load_script(str(PRE_MIGRATION), "order_visibility_pre_migrate")
        data = self.env["ir.model.data"].search(
            [("module", "=", "order_visibility"), ("name", "in", pre_migration.SERVER_ACTIONS)]
        )
        self.assertEqual(len(data), 3)
        data.noupdate = True  # as 19.0.1.0.0 shipped them
        data.flush_recordset()
        pre_migration.migrate(self.env.cr, "19.0.1.0.0")
        data.invalidate_recordset(["noupdate"])
        self.assertFalse(any(data.mapped("noupdate")))

    def test_upgrade_turns_transition_causes_into_codes(self):
        pre_migration = load_script(str(PRE_MIGRATION), "order_visibility_pre_migrate")
        order = self.create_order([(self.goods, 1)])
        order.action_confirm()
        transition = self.visibility(order).transition_ids[:1]
        self.env.cr.execute(
            "UPDATE order_visibility_transition SET cause = 'order confirmed' WHERE id = %s", [transition.id]
        )
        pre_migration.migrate(self.env.cr, "19.0.1.0.0")
        transition.invalidate_recordset(["cause"])
        self.assertEqual(transition.cause, "order_confirmed")

    def test_switching_a_rule_on_needs_a_threshold(self):
        with self.assertRaisesRegex(Exception, "high-value amount above 0"):
            self.env["res.config.settings"].create({"ov_approve_high_value": True, "ov_high_value_amount": 0}).execute()
