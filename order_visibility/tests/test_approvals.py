# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestApprovals(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sales = "sales_team.group_sale_salesman_all_leads,stock.group_stock_user"
        cls.salesperson = new_test_user(
            cls.env,
            "ov_sales",
            groups=f"{sales},order_visibility.group_order_visibility_user",
            company_id=cls.company.id,
        )
        cls.selling_manager = new_test_user(
            cls.env,
            "ov_selling_manager",
            groups=f"{sales},order_visibility.group_order_visibility_manager",
            company_id=cls.company.id,
        )
        cls.approver = new_test_user(
            cls.env,
            "ov_approver",
            groups=f"{sales},order_visibility.group_order_visibility_manager",
            company_id=cls.company.id,
        )
        cls.ICP = cls.env["ir.config_parameter"]
        cls.ICP.set_param("order_visibility.high_value_amount", 1000)
        cls.ICP.set_param("order_visibility.min_margin_percent", 10)
        cls.switch_on_governance("approve_high_value", "approve_low_margin", "hold_overdue")

    def approvals(self, order, state="pending"):
        self.flush()
        return self.env["order.visibility.approval"].search([("sale_order_id", "=", order.id), ("state", "=", state)])

    def open_exceptions(self, order, code):
        self.flush()
        return self.env["order.visibility.exception"].search(
            [("sale_order_id", "=", order.id), ("code", "=", code), ("state", "!=", "resolved")]
        )

    # -- scenario 4: high value / low margin ------------------------------

    def test_high_value_waits_for_an_approver_then_proceeds(self):
        self.set_stock(self.goods, 50)
        order = self.create_order([(self.goods, 50)], user_id=self.salesperson.id)  # 2000 > 1000
        result = self.confirm_in_form(order, self.salesperson)
        self.assertEqual(result["params"]["title"], "Approval required")
        self.assertEqual(order.state, "draft", "not confirmed")
        self.assertStage(order, "pending_approval")
        approval = self.approvals(order)
        self.assertEqual((approval.reason, approval.requested_by), ("high_value", self.salesperson))
        self.assertEqual(len(self.open_exceptions(order, "approval_pending")), 1)

        # Asking again does not duplicate the request.
        self.confirm_in_form(order, self.salesperson)
        self.assertEqual(len(self.approvals(order)), 1)

        # Segregation of duties, enforced by the server.
        with self.assertRaises(AccessError):
            approval.with_user(self.salesperson).action_approve()
        order.user_id = self.selling_manager
        with self.assertRaisesRegex(AccessError, "salesperson"):
            approval.with_user(self.selling_manager).action_approve()
        self.assertEqual(approval.state, "pending")

        approval.with_user(self.approver).action_approve("Key account, volume deal")
        self.assertEqual(order.state, "sale")
        self.assertEqual((approval.state, approval.decided_by), ("approved", self.approver))
        self.assertTrue(approval.decided_at)
        self.assertStage(order, "ready_to_ship")
        self.assertFalse(self.open_exceptions(order, "approval_pending"))
        self.assertEqual([to for _from, to in self.stage_path(order)], ["pending_approval", "ready_to_ship"])
        with self.assertRaisesRegex(UserError, "already decided"):
            approval.with_user(self.approver).action_approve()

    def test_low_margin_rejected_stays_blocked_with_reason(self):
        order = self.create_order([(self.goods, 2)], user_id=self.salesperson.id)
        order.order_line.price_unit = 26.0  # cost 25: 3.8 % < 10 %
        self.confirm_in_form(order, self.salesperson)
        approval = self.approvals(order)
        self.assertEqual(approval.reason, "low_margin")
        self.assertEqual(approval.detail, "Margin 3.8 % is below the 10.0 % minimum")
        with self.assertRaisesRegex(ValidationError, "reason"):
            approval.with_user(self.approver).action_reject("")
        approval.with_user(self.approver).action_reject("Price below floor, requote")
        self.assertEqual(approval.state, "rejected")
        self.assertEqual(order.state, "draft")
        self.assertStage(order, "draft")
        self.assertIn("Price below floor", order.message_ids[0].body)
        # Confirming again asks again: a rejection does not unblock.
        self.confirm_in_form(order, self.salesperson)
        self.assertEqual(order.state, "draft")
        self.assertEqual(len(self.approvals(order)), 1)
        self.assertStage(order, "pending_approval")

    def test_orders_under_thresholds_confirm_directly(self):
        self.set_stock(self.goods, 5)
        order = self.create_order([(self.goods, 5)], user_id=self.salesperson.id)  # 200, margin 37.5 %
        self.assertIs(self.confirm_in_form(order, self.salesperson), True)
        self.assertEqual(order.state, "sale")
        self.assertFalse(self.approvals(order))

    def test_margin_follows_lines_changed_after_the_approval_check(self):
        """The approval check's lines are kept for the transaction, for the
        engine's margin: a line written or added after the check (same
        transaction) drops them, and the record's margin is the new one."""
        self.set_stock(self.goods, 5)
        self.set_stock(self.goods_b, 10)
        order = self.create_order([(self.goods, 2), (self.goods_b, 2)], user_id=self.salesperson.id)
        self.flush()
        self.env.invalidate_all()
        order.action_confirm()  # 124, margin 37.1 %: no approval
        order.order_line.filtered(lambda line: line.product_id == self.goods_b).product_uom_qty = 8
        # 2 x 40 + 8 x 22 = 256 untaxed, 2 x 25 + 8 x 14 = 162 at cost.
        self.assertAlmostEqual(self.visibility(order).margin_percent, round(94 / 256 * 100, 2), places=2)
        order._visibility_margins()  # as the check does: the lines read and kept
        self.env["sale.order.line"].create({"order_id": order.id, "product_id": self.goods.id, "product_uom_qty": 2})
        self.env["order.visibility"]._schedule_recompute(order, "order_updated")
        # 256 + 80 = 336 untaxed, 162 + 50 = 212 at cost.
        self.assertAlmostEqual(self.visibility(order).margin_percent, round(124 / 336 * 100, 2), places=2)

    def test_wizard_decides_with_note(self):
        order = self.create_order([(self.goods, 50)], user_id=self.salesperson.id)
        self.confirm_in_form(order, self.salesperson)
        approval = self.approvals(order)
        wizard = (
            self.env["order.visibility.approval.wizard"]
            .with_user(self.approver)
            .create({"approval_id": approval.id, "decision": "reject", "note": "Needs a deposit"})
        )
        wizard.action_confirm()
        self.assertEqual((approval.state, approval.note), ("rejected", "Needs a deposit"))

    # -- scenario 3: credit hold ------------------------------------------

    def test_over_credit_limit_holds_then_release_needs_another_approver(self):
        self.ICP.set_param("order_visibility.use_credit_limit", True)
        self.customer.credit_limit = 100.0
        self.set_stock(self.goods, 10)
        order = self.create_order([(self.goods, 10)], user_id=self.salesperson.id)  # 400 > 100
        self.confirm_in_form(order, self.salesperson)
        self.assertEqual(order.state, "sale")
        visibility = self.assertStage(order, "credit_hold")
        self.assertIn("credit limit", visibility.credit_hold_reason)
        hold = self.open_exceptions(order, "credit_hold")
        self.assertEqual(len(hold), 1)
        with self.assertRaisesRegex(UserError, "credit hold"):
            self.deliver(order.picking_ids)

        visibility.with_user(self.salesperson).action_request_credit_release()
        release = self.approvals(order)
        self.assertEqual((release.reason, release.requested_by), ("credit_release", self.salesperson))
        self.assertStage(order, "pending_approval")
        with self.assertRaises(AccessError):
            release.with_user(self.salesperson).action_approve()
        release.with_user(self.approver).action_approve("Paid upfront by wire")
        self.assertFalse(visibility.credit_hold)
        self.assertStage(order, "ready_to_ship")
        self.assertEqual(hold.state, "resolved")
        self.deliver(order.picking_ids)
        self.assertStage(order, "shipped")

    def test_credit_limit_ignored_when_policy_off(self):
        self.ICP.set_param("order_visibility.use_credit_limit", False)
        self.customer.credit_limit = 100.0
        self.set_stock(self.goods, 10)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        self.assertStage(order, "ready_to_ship")

    def test_overdue_receivables_hold_the_order(self):
        self.ICP.set_param("order_visibility.overdue_days", 30)
        self.overdue_invoice(self.customer)
        self.set_stock(self.goods, 2)
        order = self.create_order([(self.goods, 2)])
        order.action_confirm()
        visibility = self.assertStage(order, "credit_hold")
        self.assertIn("overdue by more than 30 days", visibility.credit_hold_reason)
