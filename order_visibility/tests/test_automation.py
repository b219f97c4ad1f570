# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.addons.base_automation.models.base_automation import WRITE_TRIGGERS
from odoo.tests import new_test_user, tagged

from ..models.base_automation import AUTOMATIONS_KEY
from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestAutomationAndRisk(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = new_test_user(
            cls.env,
            "ov_risk_sales",
            groups="sales_team.group_sale_salesman_all_leads,order_visibility.group_order_visibility_user",
            company_id=cls.company.id,
        )
        cls.rules = cls.env["base.automation"].search(
            [
                (
                    "id",
                    "in",
                    cls.env["ir.model.data"]
                    .search([("module", "=", "order_visibility"), ("model", "=", "base.automation")])
                    .mapped("res_id"),
                )
            ]
        )

    def activities(self, record, summary):
        self.flush()
        return record.activity_ids.filtered(lambda a: a.summary == summary)

    def test_rules_are_shipped_as_editable_data(self):
        self.assertEqual(len(self.rules), 3)
        self.assertTrue(all(self.rules.mapped("active")))
        self.assertTrue(all(rule.action_server_ids for rule in self.rules))

    def test_rules_keep_admin_edits_and_action_code_updates(self):
        """Automation rules are noupdate (an admin's tuning survives an
        upgrade); the code of the Action-menu server actions is not."""
        data = self.env["ir.model.data"].search([("module", "=", "order_visibility")])
        noupdate = {(d.model, d.name): d.noupdate for d in data}
        rules = {name: flag for (model, name), flag in noupdate.items() if model == "base.automation"}
        self.assertEqual(len(rules), 3)
        self.assertTrue(all(rules.values()), rules)
        contextual = {
            name: flag
            for (model, name), flag in noupdate.items()
            if model == "ir.actions.server" and name.startswith("action_server_")
        }
        self.assertIn("action_server_visibility_recompute", contextual)
        self.assertFalse(any(contextual.values()), contextual)

    def test_late_promise_gives_a_high_explained_risk_and_a_todo(self):
        self.set_stock(self.goods, 3)
        order = self.create_order(
            [(self.goods, 3)],
            user_id=self.salesperson.id,
            commitment_date=fields.Datetime.now() - timedelta(days=2),
        )
        order.action_confirm()
        visibility = self.assertStage(order, "ready_to_ship")
        self.assertGreaterEqual(visibility.risk_score, 60)
        self.assertIn("after the promise", visibility.risk_explanation)
        self.assertIn("important customer", visibility.risk_explanation)
        self.assertTrue(visibility.is_at_risk)
        self.assertIn(visibility, self.env["order.visibility"].search([("is_at_risk", "=", True)]))
        todo = self.activities(visibility, "Order at risk of missing its promised date")
        self.assertEqual(todo.user_id, self.salesperson)

    def test_at_risk_rule_follows_the_setting(self):
        """Less than a day of slack for an important customer scores 45: not
        at risk with the default threshold (60), at risk with 40."""
        todo_summary = "Order at risk of missing its promised date"
        rule = self.env.ref("order_visibility.automation_order_at_risk")
        self.assertNotIn("60", rule.filter_domain + rule.filter_pre_domain, "no hard-coded threshold")

        def tight_order():
            self.set_stock(self.goods, 1)
            order = self.create_order(
                [(self.goods, 1)],
                user_id=self.salesperson.id,
                commitment_date=fields.Datetime.now() + timedelta(hours=12),
            )
            order.action_confirm()
            visibility = self.assertStage(order, "ready_to_ship")
            self.assertEqual(visibility.risk_score, 45)
            return visibility

        self.assertFalse(self.activities(tight_order(), todo_summary))
        self.env["ir.config_parameter"].set_param("order_visibility.at_risk_threshold", 40)
        self.assertEqual(self.activities(tight_order(), todo_summary).user_id, self.salesperson)

    def test_comfortable_slack_is_low_risk(self):
        self.set_stock(self.goods, 3)
        order = self.create_order([(self.goods, 3)], commitment_date=fields.Datetime.now() + timedelta(days=10))
        order.action_confirm()
        visibility = self.visibility(order)
        self.assertEqual(visibility.risk_score, 0)
        self.assertEqual(visibility.risk_explanation, "No risk factor found.")

    def test_risk_reasons_follow_when_the_score_stays(self):
        """The days of slack change, the score (20) does not: the reasons and
        the explanation read at once, and from the database, say the new figure
        (20 points of slack, 5 of an important customer)."""
        self.set_stock(self.goods, 3)
        order = self.create_order([(self.goods, 3)], commitment_date=fields.Datetime.now() + timedelta(days=2))
        order.action_confirm()
        visibility = self.assertStage(order, "ready_to_ship")
        self.assertEqual(visibility.risk_score, 25)
        self.assertIn("2.0 days of slack", visibility.risk_explanation)
        order.commitment_date = fields.Datetime.now() + timedelta(days=2, hours=12)
        self.env["order.visibility"]._recompute_orders(order)
        reasons = [["slack", {"days": 2.5}], ["important_customer", {}]]
        self.assertEqual(visibility.risk_score, 25)
        self.assertEqual(visibility.risk_reasons, reasons)
        self.assertIn("2.5 days of slack", visibility.risk_explanation)
        self.env.invalidate_all()
        self.assertEqual(visibility.risk_reasons, reasons)
        self.assertIn("2.5 days of slack", visibility.risk_explanation)

    def test_short_order_uses_vendor_lead_time(self):
        vendor = self.env["res.partner"].create({"name": "Nordic Grain AB"})
        self.goods_b.seller_ids = [fields.Command.create({"partner_id": vendor.id, "delay": 12})]
        order = self.create_order([(self.goods_b, 4)], commitment_date=fields.Datetime.now() + timedelta(days=5))
        order.action_confirm()
        visibility = self.assertStage(order, "awaiting_stock")
        self.assertIn("after the promise", visibility.risk_explanation)

    def test_critical_exception_rule_gives_owner_an_urgent_todo(self):
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 4)])
        order.action_confirm()
        shortage = self.visibility(order).exception_ids
        self.assertEqual(shortage.severity, "high")
        shortage._escalate("test")
        self.assertEqual(shortage.severity, "critical")
        todo = self.activities(shortage, "Critical exception: act today")
        self.assertEqual(todo.user_id, shortage.owner_id)
        self.assertEqual(todo.date_deadline, fields.Date.context_today(shortage))

    def stage_rule(self, summary, **values):
        """A rule on the stage of order.visibility: a to-do ``summary`` for the salesperson."""
        rule = self.env["base.automation"].create(
            {
                "name": "Stage changed: to-do",
                "model_id": self.env["ir.model"]._get_id("order.visibility"),
                "trigger": "on_create_or_write",
                "trigger_field_ids": [
                    fields.Command.set([self.env.ref("order_visibility.field_order_visibility__stage").id])
                ],
                **values,
            }
        )
        self.env["ir.actions.server"].create(
            {
                "name": "To-do on a stage change",
                "model_id": rule.model_id.id,
                "base_automation_id": rule.id,
                "state": "next_activity",
                "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
                "activity_summary": summary,
                "activity_user_type": "specific",
                "activity_user_id": self.salesperson.id,
            }
        )
        return rule

    def test_a_rule_created_in_the_transaction_applies_at_once(self):
        """The rules of order.visibility are searched once per transaction
        (models/base_automation.py): a rule created after that search runs
        on the next write all the same."""
        self.set_stock(self.goods, 2)
        self.create_order([(self.goods, 1)]).action_confirm()
        self.flush()  # the engine wrote a record: the rules are searched and kept
        self.stage_rule("Stage changed")
        order = self.create_order([(self.goods, 1)])
        self.flush()
        order.action_confirm()
        todo = self.activities(self.visibility(order), "Stage changed")
        self.assertEqual(todo.user_id, self.salesperson)

    def test_a_change_evaluates_the_rules_of_its_fields_only(self):
        """The rules are kept in the registry's cache with the fields they
        watch: a write, or a recompute of stored fields, evaluates the
        conditions of the rules that watch one of the fields it changes, and
        those rules run as before."""
        stage_rule = self.stage_rule(
            "Now ready to ship",
            filter_pre_domain="[('stage', '!=', 'ready_to_ship')]",
            filter_domain="[('stage', '=', 'ready_to_ship')]",
        )
        at_risk = self.env.ref("order_visibility.automation_order_at_risk")
        self.set_stock(self.goods, 2)
        order = self.create_order([(self.goods, 1)])
        visibility = self.visibility(order)
        # What a commit does: the next transaction keeps the rules again.
        self.env.cr.cache.pop(AUTOMATIONS_KEY, None)
        Automation = type(self.env["base.automation"])
        filter_pre = Automation._filter_pre
        evaluated = []

        def count(rule, records, feedback=False):
            evaluated.append(rule.id)
            return filter_pre(rule, records, feedback)

        with patch.object(Automation, "_filter_pre", count):
            visibility.sudo().write({"risk_reasons": []})
            self.assertEqual(evaluated, [], "no rule watches the reasons")
            visibility.sudo().write({"risk_score": 1})
            self.assertEqual(evaluated, [at_risk.id])
            evaluated.clear()
            visibility.sudo().write({"credit_hold_reason": "x", "risk_score": 2})
            self.assertEqual(evaluated, [at_risk.id])
            evaluated.clear()
            order.action_confirm()
            self.flush()
            # The stage's write evaluates the stage's rule only, then the
            # risk's write the at-risk rule.
            self.assertIn(stage_rule.id, evaluated)
            self.assertNotIn(at_risk.id, evaluated[: evaluated.index(stage_rule.id) + 1])
        self.assertStage(order, "ready_to_ship")
        self.assertEqual(self.activities(visibility, "Now ready to ship").user_id, self.salesperson)
        watched = self.env["base.automation"]._order_visibility_watched
        self.assertTrue(watched("order.visibility", WRITE_TRIGGERS, "stage"))
        self.assertFalse(watched("order.visibility", WRITE_TRIGGERS, "risk_reasons"))

    def test_the_rules_model_is_known_without_reading_it(self):
        """The rules kept for the transaction are of the model they were
        searched for: their conditions read its name without a query."""
        self.env.invalidate_all()
        rules = self.env["base.automation"]._get_actions(self.env["order.visibility"], ["on_create_or_write"])
        self.assertEqual(rules, self.rules.filtered(lambda r: r.model_id.model == "order.visibility"))
        with self.assertQueryCount(0):
            self.assertEqual(rules.mapped("model_name"), ["order.visibility"])
            self.assertEqual(rules._get_eval_context()["model"]._name, "order.visibility")

    def test_stage_and_exceptions_do_not_depend_on_rules(self):
        """Scenario 10: every shipped rule off, the engine still keeps the truth."""
        self.rules.active = False
        self.set_stock(self.goods, 4)
        order = self.create_order(
            [(self.goods, 10)],
            user_id=self.salesperson.id,
            commitment_date=fields.Datetime.now() - timedelta(days=1),
        )
        order.action_confirm()
        visibility = self.assertStage(order, "awaiting_stock")
        self.assertEqual(visibility.exception_ids.code, "stock_shortage")
        self.assertGreaterEqual(visibility.risk_score, 60)
        self.assertFalse(self.activities(visibility, "Order at risk of missing its promised date"))
        self.receive(self.goods, 6)
        order.picking_ids.action_assign()
        self.assertStage(order, "ready_to_ship")
        self.assertEqual(visibility.exception_ids.state, "resolved")
        self.deliver(order.picking_ids)
        self.assertStage(order, "shipped")
