# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Expedite approvals: requested with a cost, decided with segregation of
duties, the approved cost counted in the margin and the risk explanation."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestExpediteApprovals(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.requester = cls.new_user("ov_exp_requester", "order_visibility.group_order_visibility_user")
        cls.colleague = cls.new_user("ov_exp_colleague", "order_visibility.group_order_visibility_user")
        cls.manager = cls.new_user("ov_exp_manager", "order_visibility.group_order_visibility_manager")

    def late_order(self):
        """10 x 40.00 = 400.00 untaxed, cost 250.00: margin 37.5 %; short and promised in two days."""
        order = self.create_order([(self.goods, 10)], commitment_date=fields.Datetime.now() + timedelta(days=2))
        order.action_confirm()
        self.assertStage(order, "awaiting_stock")
        return order

    def approval(self, order):
        return self.visibility(order).approval_ids.filtered(lambda a: a.reason == "expedite")

    def test_request_approve_counts_the_cost_in_the_margin(self):
        order = self.late_order()
        visibility = self.visibility(order)
        self.assertAlmostEqual(visibility.margin_percent, 37.5)
        visibility.with_user(self.requester).action_request_expedite(60.0, "Customer's event on Friday")
        approval = self.approval(order)
        self.assertEqual(approval.state, "pending")
        self.assertEqual(approval.expedite_cost, 60.0)
        self.assertEqual(approval.currency_id, order.currency_id)
        self.assertAlmostEqual(approval.margin_before, 37.5)
        self.assertAlmostEqual(approval.margin_after, 22.5)
        self.assertEqual(approval.requested_by, self.requester)
        self.assertIn("Customer's event on Friday", approval.message_ids.mapped("body")[0])
        # The order goes on while the request waits.
        self.assertStage(order, "awaiting_stock")
        self.assertEqual(len(visibility.exception_ids.filtered(lambda e: e.code == "approval_pending")), 1)

        # Segregation of duties: the requester cannot decide it.
        with self.assertRaisesRegex(AccessError, "another approver must decide it"):
            approval.with_user(self.requester).action_approve()
        self.assertEqual(approval.state, "pending")
        # Below the Settings amount (500), another Order Visibility user may approve.
        self.assertTrue(approval.with_user(self.colleague).can_decide)
        approval.with_user(self.colleague).action_approve("Go")
        self.assertEqual((approval.state, approval.decided_by), ("approved", self.colleague))
        visibility = self.assertStage(order, "awaiting_stock")
        self.assertAlmostEqual(visibility.margin_percent, 22.5, msg="the approved cost counts in the margin")
        self.assertEqual(visibility.expedite_cost, 60.0)
        self.assertIn("expedited freight approved (60.00", visibility.risk_explanation)
        self.assertIn("expedited", [code for code, _figures in visibility.risk_reasons])
        self.assertFalse(
            visibility.exception_ids.filtered(lambda e: e.code == "approval_pending" and e.state != "resolved")
        )
        notified = approval.message_ids.filtered(lambda m: self.requester.partner_id in m.partner_ids)
        self.assertEqual(len(notified), 1, "the requester is notified of the decision")
        self.assertTrue(order.message_ids.filtered(lambda m: "Expedited freight approved" in (m.body or "")))
        # The order was not changed: no line, same amounts for the customer.
        self.assertEqual(len(order.order_line), 1)
        self.assertEqual(order.amount_untaxed, 400.0)

    def test_above_the_settings_amount_only_managers_approve(self):
        self.env["ir.config_parameter"].set_param("order_visibility.expedite_manager_amount", 100.0)
        order = self.late_order()
        self.visibility(order).with_user(self.requester).action_request_expedite(150.0, "")
        approval = self.approval(order)
        self.assertFalse(approval.with_user(self.colleague).can_decide)
        with self.assertRaisesRegex(AccessError, "Only Order Visibility managers can approve expedited freight above"):
            approval.with_user(self.colleague).action_approve()
        approval.with_user(self.manager).action_approve()
        self.assertEqual(approval.state, "approved")

    def test_users_still_cannot_decide_other_approvals(self):
        self.switch_on_governance("approve_high_value")
        self.env["ir.config_parameter"].set_param("order_visibility.high_value_amount", 100.0)
        order = self.create_order([(self.goods, 10)])
        self.confirm_in_form(order)
        approval = self.visibility(order).approval_ids
        self.assertEqual(approval.reason, "high_value")
        with self.assertRaisesRegex(AccessError, "Only Order Visibility managers can decide approvals"):
            approval.with_user(self.colleague).action_approve()

    def test_rejecting_needs_a_reason(self):
        order = self.late_order()
        self.visibility(order).with_user(self.requester).action_request_expedite(60.0, "")
        approval = self.approval(order)
        with self.assertRaisesRegex(ValidationError, "reason of the rejection"):
            approval.with_user(self.manager).action_reject("  ")
        approval.with_user(self.manager).action_reject("Truck is full anyway")
        self.assertEqual(approval.state, "rejected")
        self.assertAlmostEqual(self.visibility(order).margin_percent, 37.5, msg="a rejected cost never counts")

    def test_bad_costs_are_refused_and_nothing_is_written(self):
        order = self.late_order()
        visibility = self.visibility(order).with_user(self.requester)
        eur = self.env.ref("base.EUR")
        other = eur if order.currency_id != eur else self.env.ref("base.USD")
        other.active = True
        cases = [
            (-10.0, None, "must be positive"),
            (0.0, None, "must be positive"),
            ("a lot", None, "must be an amount"),
            (50.0, other.id, "in the currency of"),
        ]
        for cost, currency_id, message in cases:
            with self.subTest(cost=cost, currency=currency_id), self.assertRaisesRegex(ValidationError, message):
                visibility.action_request_expedite(cost, "note", currency_id=currency_id)
        self.assertFalse(self.approval(order))
        # Once requested, a second request is refused.
        visibility.action_request_expedite(50.0, "", currency_id=order.currency_id.id)
        with self.assertRaisesRegex(UserError, "already requested"):
            visibility.action_request_expedite(70.0, "")
        self.assertEqual(len(self.approval(order)), 1)

    def test_refused_for_a_shipped_order(self):
        self.set_stock(self.goods, 10)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        self.deliver(order.picking_ids)
        visibility = self.assertStage(order, "shipped")
        with self.assertRaisesRegex(UserError, "expedited freight is requested for a confirmed order"):
            visibility.with_user(self.requester).action_request_expedite(60.0, "")
        self.assertFalse(self.approval(order))

    def test_wizard_shows_the_margin_after_and_requests(self):
        order = self.late_order()
        action = self.visibility(order).with_user(self.requester).action_open_expedite_wizard()
        Wizard = self.env[action["res_model"]].with_user(self.requester).with_context(**action["context"])
        wizard = Wizard.create({"cost": 40.0, "note": "Rush"})
        self.assertEqual(wizard.currency_id, order.currency_id)
        self.assertAlmostEqual(wizard.margin_before, 37.5)
        self.assertAlmostEqual(wizard.margin_after, 27.5)
        wizard.action_confirm()
        self.assertEqual(self.approval(order).expedite_cost, 40.0)

    def test_people_without_order_visibility_rights_cannot_act(self):
        salesman = self.new_user("ov_exp_salesman", "sales_team.group_sale_salesman_all_leads,stock.group_stock_user")
        order = self.late_order()
        visibility = self.visibility(order).with_user(salesman)
        actions = {
            "options": visibility.get_fulfilment_options,
            "apply": lambda: visibility.apply_fulfilment_option(self.warehouse.id),
            "expedite": lambda: visibility.action_request_expedite(50.0, ""),
            "customer update": visibility.action_draft_customer_update,
        }
        for name, action in actions.items():
            with self.subTest(action=name), self.assertRaises(AccessError):
                action()
        self.assertFalse(self.approval(order))
        self.assertEqual(len(order.picking_ids), 1, "nothing was reassigned")
