# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""OCA RMAs in the order's returns lifecycle: RMAs created from a delivered
order's delivery and driven through rma's own actions (confirm, reception,
refund, replacement wizard) and Odoo's payment wizard feed return_state,
the returned quantity and value, the return steps, the return
authorization and the return exceptions."""

from datetime import timedelta

from odoo import fields
from odoo.addons.order_visibility.tests.test_returns import ReturnsCommon
from odoo.exceptions import UserError
from odoo.tests import Form, tagged


class RmaCommon(ReturnsCommon):
    """Sale orders returned through rma's own actions."""

    @classmethod
    def get_default_groups(cls):
        return super().get_default_groups() | cls.env.ref("rma.rma_group_manager")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP = cls.env["ir.config_parameter"]
        cls.approver = cls.new_user("ov_rma_approver", "order_visibility.group_order_visibility_manager")
        cls.refund_operation = cls.env.ref("rma.rma_operation_refund")
        cls.replace_operation = cls.env.ref("rma.rma_operation_replace")

    # -- rma's own actions -------------------------------------------------

    def create_rma(self, order, qty, operation=None):
        """A draft RMA of ``qty`` units of the order's first done delivery move."""
        picking = order.picking_ids.filtered(lambda p: p.state == "done" and p.picking_type_code == "outgoing")[:1]
        move = picking.move_ids[:1]
        return self.env["rma"].create(
            {
                "partner_id": order.partner_id.id,
                "picking_id": picking.id,
                "move_id": move.id,
                "product_id": move.product_id.id,
                "product_uom_qty": qty,
                "product_uom": move.product_uom.id,
                "operation_id": (operation or self.refund_operation).id,
            }
        )

    def confirm(self, rma, user=None):
        (rma.with_user(user).with_context(lang=user.lang) if user else rma).action_confirm()
        self.flush()
        return rma

    def receive_rma(self, rma):
        reception = rma.reception_move_id
        reception.quantity = rma.product_uom_qty
        reception.picked = True
        reception.picking_id.button_validate()
        self.flush()

    def refund_rma(self, rma):
        rma.action_refund()
        rma.refund_id.action_post()
        self.flush()
        return rma.refund_id

    def replace_rma(self, rma):
        wizard = Form(
            self.env["rma.delivery.wizard"].with_context(
                active_ids=rma.ids, active_id=rma.id, rma_delivery_type="replace"
            )
        )
        wizard.product_id = rma.product_id
        wizard.product_uom_qty = rma.product_uom_qty
        wizard.save().action_deliver()
        self.flush()
        return rma.delivery_move_ids.picking_id

    def open_exceptions(self, order, code):
        self.flush()
        return self.env["order.visibility.exception"].search(
            [("sale_order_id", "=", order.id), ("code", "=", code), ("state", "!=", "resolved")]
        )


@tagged("post_install", "-at_install")
class TestRmaReturns(RmaCommon):
    def test_rma_requested_received_refunded(self):
        order, _invoice = self.paid_order(5)
        path_before = self.stage_path(order)
        rma = self.create_rma(order, 2)
        self.flush()
        self.assertReturn(order, "none", 0, 0)  # a draft RMA asks for nothing yet

        self.confirm(rma)
        visibility = self.assertReturn(order, "requested", 2, 80.0)
        self.assertEqual(self.steps(order), [("none", "requested")])
        self.assertIn(rma.name, visibility.return_step_ids.note)

        self.receive_rma(rma)
        self.assertEqual(rma.state, "received")
        self.assertReturn(order, "received", 2, 80.0)

        refund = self.refund_rma(rma)
        self.assertEqual(rma.state, "refunded")
        self.assertReturn(order, "received", 2, 80.0)  # posted, not paid yet

        self.pay(refund)
        self.flush()
        visibility = self.assertReturn(order, "refunded", 2, 80.0)
        self.assertEqual(
            self.steps(order), [("none", "requested"), ("requested", "received"), ("received", "refunded")]
        )
        self.assertIn(refund.name, visibility.return_step_ids.sorted("id")[-1].note)
        self.assertStage(order, "paid")
        self.assertEqual(self.stage_path(order), path_before, "no stage change for an RMA or its refund")

    def test_rmas_from_the_return_wizard_count_once(self):
        order = self.shipped_order(5)
        picking = order.picking_ids.filtered(lambda p: p.state == "done")
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=picking.id, active_ids=picking.ids, active_model="stock.picking")
            .create({"create_rma": True, "rma_operation_id": self.refund_operation.id})
        )
        wizard.product_return_moves.quantity = 2
        wizard.action_create_returns()
        self.flush()
        rma = picking.move_ids.rma_ids
        self.assertEqual(rma.state, "confirmed")
        self.assertReturn(order, "requested", 2, 80.0)
        self.receive_rma(rma)
        self.assertReturn(order, "received", 2, 80.0)
        self.assertEqual(self.steps(order), [("none", "requested"), ("requested", "received")])

    def test_rma_replacement_delivered(self):
        order = self.shipped_order(5)
        rma = self.confirm(self.create_rma(order, 1, self.replace_operation))
        self.receive_rma(rma)
        self.assertReturn(order, "received", 1, 40.0)
        self.set_stock(self.goods, 1)
        replacement = self.replace_rma(rma)
        self.assertReturn(order, "received", 1, 40.0)  # not shipped yet
        self.deliver(replacement)
        self.flush()
        self.assertEqual(rma.state, "replaced")
        visibility = self.assertReturn(order, "replaced", 1, 40.0)
        self.assertEqual(self.steps(order)[-1], ("received", "replaced"))
        self.assertIn(replacement.name, visibility.return_step_ids.sorted("id")[-1].note)

    def test_goods_returned_to_the_customer_are_no_replacement(self):
        order = self.shipped_order(5)
        rma = self.confirm(self.create_rma(order, 1, self.env.ref("rma.rma_operation_return")))
        self.receive_rma(rma)
        wizard = Form(
            self.env["rma.delivery.wizard"].with_context(
                active_ids=rma.ids, active_id=rma.id, rma_delivery_type="return"
            )
        )
        wizard.product_uom_qty = 1
        wizard.save().action_deliver()
        self.deliver(rma.delivery_move_ids.picking_id)
        self.flush()
        self.assertEqual(rma.state, "returned")
        self.assertReturn(order, "received", 1, 40.0)

    def test_cancelled_rma_closes_the_return(self):
        order = self.shipped_order(5)
        rma = self.confirm(self.create_rma(order, 2))
        self.assertReturn(order, "requested", 2, 80.0)
        rma.action_cancel()
        self.flush()
        self.assertReturn(order, "none", 0, 0)

    def test_rma_above_the_amount_waits_for_its_authorization(self):
        self.ICP.set_param("order_visibility.approve_returns", True)
        self.ICP.set_param("order_visibility.return_approval_amount", 50)
        order, _invoice = self.paid_order(5)
        rma = self.confirm(self.create_rma(order, 2))  # 80.00 > 50.00
        visibility = self.assertStage(order, "paid")
        approval = visibility.approval_ids.filtered(lambda a: a.reason == "return_authorization")
        self.assertEqual(approval.state, "pending")
        self.assertAlmostEqual(approval.amount_company, 80.0)
        with self.assertRaisesRegex(UserError, "waits for its authorization"):
            self.receive_rma(rma)
        with self.assertRaisesRegex(UserError, "cannot be confirmed: the return waits for its authorization"):
            self.confirm(self.create_rma(order, 1))
        approval.with_user(self.approver).action_approve(note="Checked")
        self.flush()
        self.receive_rma(rma)
        self.assertEqual(visibility.return_state, "received")
        self.assertEqual(len(visibility.approval_ids.filtered(lambda a: a.reason == "return_authorization")), 1)

    def test_rejected_rma_stays_blocked(self):
        self.ICP.set_param("order_visibility.approve_returns", True)
        self.ICP.set_param("order_visibility.return_approval_amount", 50)
        order, _invoice = self.paid_order(5)
        rma = self.confirm(self.create_rma(order, 2))
        approval = self.visibility(order).approval_ids.filtered(lambda a: a.reason == "return_authorization")
        approval.with_user(self.approver).action_reject(note="Outside the return window")
        self.flush()
        with self.assertRaisesRegex(UserError, "rejected"):
            self.receive_rma(rma)
        self.assertEqual(rma.state, "confirmed")

    def test_blocked_rma_message_in_dutch(self):
        self.setup_dutch(("order_visibility", "order_visibility_rma"))
        self.ICP.set_param("order_visibility.approve_returns", True)
        self.ICP.set_param("order_visibility.return_approval_amount", 50)
        order, _invoice = self.paid_order(5)
        self.confirm(self.create_rma(order, 2))
        dutch = self.new_user(
            "ov_rma_nl", "sales_team.group_sale_salesman_all_leads,stock.group_stock_user,rma.rma_group_user_all",
            lang="nl_NL",
        )  # fmt: skip
        second = self.create_rma(order, 1)
        with self.assertRaisesRegex(UserError, "kan niet worden bevestigd"):
            self.confirm(second, user=dutch)

    def test_rma_not_received_then_refund_overdue(self):
        self.ICP.set_param("order_visibility.return_receipt_days", 5)
        self.ICP.set_param("order_visibility.refund_days", 7)
        order, _invoice = self.paid_order(5)
        rma = self.confirm(self.create_rma(order, 2))
        later = fields.Datetime.now()
        self.sweep(later + timedelta(days=6))
        late = self.open_exceptions(order, "return_not_received")
        self.assertEqual(len(late), 1)
        self.receive_rma(rma)
        self.sweep(later + timedelta(days=6))
        self.assertEqual(late.state, "resolved")
        self.sweep(later + timedelta(days=8))
        overdue = self.open_exceptions(order, "refund_overdue")
        self.assertEqual(len(overdue), 1)
        self.pay(self.refund_rma(rma))
        self.flush()
        self.sweep(later + timedelta(days=8))
        self.assertEqual(overdue.state, "resolved")
        self.assertEqual(self.visibility(order).return_state, "refunded")

    def test_other_company_admin_never_sees_the_rma(self):
        order = self.shipped_order(5)
        self.confirm(self.create_rma(order, 2))
        self.assertReturn(order, "requested", 2, 80.0)
        company_b = self.setup_second_company("OV RMA Company B")["company"]
        admin_b = self.new_user(
            "ov_rma_admin_b", "base.group_user,order_visibility.group_order_visibility_admin", company_b
        )
        Visibility = self.env["order.visibility"].with_user(admin_b)
        self.assertFalse(Visibility.search([("return_state", "!=", "none")]))
        self.assertFalse(self.env["order.visibility.return.step"].with_user(admin_b).search([]))
