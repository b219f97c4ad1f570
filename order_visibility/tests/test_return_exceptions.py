# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Return governance and follow-up: the return authorization above the
Settings amount, and the sweep's return_not_received and refund_overdue
exceptions (each off until its number of days is set)."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .test_returns import ReturnsCommon


@tagged("post_install", "-at_install")
class TestReturnExceptions(ReturnsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP = cls.env["ir.config_parameter"]
        cls.approver = cls.new_user("ov_ret_approver", "order_visibility.group_order_visibility_manager")

    def open_exceptions(self, order, code):
        self.flush()
        return self.env["order.visibility.exception"].search(
            [("sale_order_id", "=", order.id), ("code", "=", code), ("state", "!=", "resolved")]
        )

    def later(self, days):
        return fields.Datetime.now() + timedelta(days=days)

    def test_follow_up_is_off_until_days_are_set(self):
        order, _invoice = self.paid_order(5)
        back = self.return_goods(order, 2)
        self.sweep(self.later(60))
        self.assertFalse(self.open_exceptions(order, "return_not_received"))
        self.receive_return(back)
        self.sweep(self.later(60))
        self.assertFalse(self.open_exceptions(order, "refund_overdue"))

    def test_return_not_received_then_refund_overdue(self):
        self.ICP.set_param("order_visibility.return_receipt_days", 5)
        self.ICP.set_param("order_visibility.refund_days", 7)
        order, invoice = self.paid_order(5)
        back = self.return_goods(order, 2)
        self.sweep(self.later(3))
        self.assertFalse(self.open_exceptions(order, "return_not_received"), "not yet 5 days")
        self.sweep(self.later(6))
        late = self.open_exceptions(order, "return_not_received")
        self.assertEqual(len(late), 1)
        self.assertEqual(late.detail, "Return requested more than 5 days ago, goods not back")
        self.assertEqual(late.type_id.group_id, self.env.ref("stock.group_stock_user"))
        self.assertTrue(late.owner_id)
        self.sweep(self.later(6))
        self.assertEqual(self.open_exceptions(order, "return_not_received"), late, "never duplicated")

        self.receive_return(back)
        self.sweep(self.later(6))
        self.assertEqual(late.state, "resolved", "goods back: the condition cleared")
        self.assertFalse(self.open_exceptions(order, "refund_overdue"), "received today, 7 days to refund")
        self.sweep(self.later(8))
        overdue = self.open_exceptions(order, "refund_overdue")
        self.assertEqual(len(overdue), 1)
        self.assertEqual(overdue.detail, "Goods back more than 7 days ago, not refunded")
        self.assertEqual(overdue.type_id.group_id, self.env.ref("account.group_account_invoice"))

        refund = self.credit_note(invoice, qty=2)
        self.pay(refund)
        self.flush()
        self.sweep(self.later(8))
        self.assertEqual(overdue.state, "resolved")
        self.assertEqual(self.visibility(order).return_state, "refunded")
        self.assertFalse(self.open_exceptions(order, "invoice_blocked"))
        self.assertStage(order, "paid")

    def test_other_detectors_stay_quiet_on_a_returned_paid_order(self):
        self.ICP.set_param("order_visibility.return_receipt_days", 1)
        order, _invoice = self.paid_order(5)
        self.receive_return(self.return_goods(order, 5))
        self.sweep(self.later(30))
        codes = set(self.visibility(order).exception_ids.filtered(lambda e: e.state != "resolved").mapped("code"))
        self.assertFalse(codes & {"invoice_blocked", "late_shipment", "stale_order", "stock_shortage"}, codes)

    def test_return_above_the_amount_waits_for_its_authorization(self):
        self.ICP.set_param("order_visibility.approve_returns", True)
        self.ICP.set_param("order_visibility.return_approval_amount", 50)
        order, _invoice = self.paid_order(5)
        back = self.return_goods(order, 2)  # 80.00 > 50.00
        visibility = self.assertStage(order, "paid")  # the order is not held: the return is
        approval = visibility.approval_ids.filtered(lambda a: a.reason == "return_authorization")
        self.assertEqual(approval.state, "pending")
        self.assertAlmostEqual(approval.amount_company, 80.0)
        self.assertIn("80.00", approval.detail)
        with self.assertRaisesRegex(UserError, "waits for its authorization"):
            self.receive_return(back)
        with self.assertRaises(AccessError):  # the requester cannot decide it
            approval.action_approve()
        approval.with_user(self.approver).action_approve(note="Damaged in transit, photos checked")
        self.flush()
        self.receive_return(back)
        self.assertEqual(visibility.return_state, "received")
        self.assertEqual(len(visibility.approval_ids.filtered(lambda a: a.reason == "return_authorization")), 1)

    def test_rejected_return_stays_blocked(self):
        self.ICP.set_param("order_visibility.approve_returns", True)
        self.ICP.set_param("order_visibility.return_approval_amount", 50)
        order, _invoice = self.paid_order(5)
        back = self.return_goods(order, 2)
        approval = self.visibility(order).approval_ids.filtered(lambda a: a.reason == "return_authorization")
        approval.with_user(self.approver).action_reject(note="Outside the return window")
        self.flush()
        with self.assertRaisesRegex(UserError, "rejected"):
            self.receive_return(back)

    def test_small_return_or_rule_off_needs_no_authorization(self):
        self.ICP.set_param("order_visibility.return_approval_amount", 50)
        order, _invoice = self.paid_order(5)
        self.receive_return(self.return_goods(order, 2))  # rule off
        self.ICP.set_param("order_visibility.approve_returns", True)
        order_b, _invoice_b = self.paid_order(5)
        self.receive_return(self.return_goods(order_b, 1))  # 40.00 <= 50.00
        approvals = (self.visibility(order) | self.visibility(order_b)).approval_ids
        self.assertFalse(approvals.filtered(lambda a: a.reason == "return_authorization"))

    def test_second_company_never_sees_first_company_return_exceptions(self):
        self.ICP.set_param("order_visibility.return_receipt_days", 5)
        order, _invoice = self.paid_order(5)
        self.return_goods(order, 2)
        self.sweep(self.later(6))
        self.assertTrue(self.open_exceptions(order, "return_not_received"))
        company_b = self.setup_second_company()["company"]
        admin_b = self.new_user("ov_ret_exc_admin_b", "order_visibility.group_order_visibility_admin", company_b)
        self.assertFalse(
            self.env["order.visibility.exception"].with_user(admin_b).search([("code", "=", "return_not_received")])
        )

    def test_dutch_details(self):
        self.setup_dutch()
        self.ICP.set_param("order_visibility.return_receipt_days", 5)
        order, _invoice = self.paid_order(5)
        self.return_goods(order, 2)
        self.flush()
        Exception_ = self.env["order.visibility.exception"].with_context(lang="nl_NL")
        detected = Exception_._detect_return_not_received(self.later(6))
        visibility = self.visibility(order)
        self.assertEqual(
            detected[(visibility.id, "", 0)]["detail"],
            "Retour meer dan 5 dagen geleden aangevraagd, goederen niet terug",
        )
        dutch = self.env(context={**self.env.context, "lang": "nl_NL"})
        exception_type = self.env.ref("order_visibility.exception_type_refund_overdue").with_env(dutch)
        self.assertEqual(exception_type.name, "Terugbetaling achterstallig")
