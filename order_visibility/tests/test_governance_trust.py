# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Governance cannot be forged: nothing a caller sends (context, arguments,
field values) chooses the approval path, and an approval covers the figures
it approved, no more.

Over real HTTP (Odoo's JSON-2 API with API keys), as a salesperson who only
sees their own documents and as an integration user."""

import json
from datetime import datetime, timedelta

from odoo.addons.order_visibility.models.sale_order import automatic_confirmation
from odoo.fields import Command
from odoo.tests import HttpCase, get_db_name, new_test_user, tagged

FORGED_CONTEXTS = (
    {"order_visibility_approval": "review"},
    {"order_visibility_approval": "REVIEW"},
    {"order_visibility_approval": ["review"]},
    {"order_visibility_approval": {"mode": "review"}},
    {"order_visibility_approval": True},
    {"order_visibility_approval": "review", "active_test": False, "uid": 1, "su": True},
)


@tagged("post_install", "-at_install")
class TestGovernanceCannotBeForged(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ICP = cls.env["ir.config_parameter"]
        ICP.set_param("order_visibility.approve_high_value", True)
        ICP.set_param("order_visibility.high_value_amount", 1000)
        ICP.set_param("order_visibility.approve_low_margin", True)
        ICP.set_param("order_visibility.min_margin_percent", 20)
        cls.salesperson = new_test_user(
            cls.env, "ov_trust_own_docs", groups="sales_team.group_sale_salesman,stock.group_stock_user"
        )
        cls.integration = new_test_user(
            cls.env, "ov_trust_integration", groups="sales_team.group_sale_salesman_all_leads,stock.group_stock_user"
        )
        cls.approver = new_test_user(
            cls.env, "ov_trust_approver", groups="order_visibility.group_order_visibility_manager"
        )
        cls.keys = {
            user: cls.env["res.users.apikeys"]
            .with_user(user)
            ._generate(scope="rpc", name="trust", expiration_date=datetime.now() + timedelta(days=1))
            for user in (cls.salesperson, cls.integration)
        }
        cls.product = cls.env["product.product"].create(
            {"name": "Pallet of flour", "type": "consu", "list_price": 600.0, "standard_price": 400.0}
        )
        cls.customer = cls.env["res.partner"].create({"name": "Trust Customer"})

    def order(self, user, quantity=3, price=600.0):
        """A quotation of ``user`` (its salesperson): 3 x 600 = 1,800 by default."""
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": user.id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "product_uom_qty": quantity, "price_unit": price})
                ],
            }
        )

    def call(self, user, model, method, **params):
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.keys[user]}",
            "X-Odoo-Database": get_db_name(),
        }
        response = self.url_open(f"/json/2/{model}/{method}", data=json.dumps(params), headers=headers)
        return response.status_code, response.json()

    def read_order(self, user, order):
        status, rows = self.call(user, "sale.order", "read", ids=order.ids, fields=["state", "visibility_stage"])
        self.assertEqual(status, 200, rows)
        return rows[0]["state"], rows[0]["visibility_stage"]

    def approvals(self, order):
        return self.env["order.visibility.approval"].search([("sale_order_id", "=", order.id)])

    def test_no_context_key_skips_an_approval(self):
        for user in (self.salesperson, self.integration):
            for context in FORGED_CONTEXTS:
                with self.subTest(user=user.login, context=context):
                    order = self.order(user)
                    status, body = self.call(user, "sale.order", "action_confirm", ids=order.ids, context=context)
                    self.assertEqual(status, 422, body)
                    self.assertEqual(body["name"], "odoo.exceptions.UserError")
                    self.assertIn("cannot be confirmed without an approval", body["message"])
                    self.assertEqual(self.read_order(user, order), ("draft", "draft"))
                    self.assertFalse(self.approvals(order), "a refused confirmation writes nothing")

    def test_the_form_buttons_request_only(self):
        """The one key a caller may send asks for the approval: the order waits."""
        for user in (self.salesperson, self.integration):
            with self.subTest(user=user.login):
                order = self.order(user)
                status, result = self.call(
                    user,
                    "sale.order",
                    "action_confirm",
                    ids=order.ids,
                    context={"order_visibility_approval": "request"},
                )
                self.assertEqual(status, 200, result)
                self.assertEqual(result["params"]["title"], "Approval required")
                self.assertEqual(self.read_order(user, order), ("draft", "pending_approval"))
                approval = self.approvals(order)
                self.assertEqual(
                    (approval.reason, approval.state, approval.is_review), ("high_value", "pending", False)
                )
                self.assertEqual(approval.requested_by, user)

    def test_private_confirmation_paths_are_not_reachable_over_rpc(self):
        for method in (
            "_validate_order",
            "_action_confirm",
            "_visibility_approval_mode",
            "_request_visibility_approvals",
        ):
            with self.subTest(method=method):
                order = self.order(self.integration)
                status, body = self.call(self.integration, "sale.order", method, ids=order.ids)
                self.assertGreaterEqual(status, 400, body)
                self.assertLess(status, 500, body)
                self.assertEqual(self.read_order(self.integration, order), ("draft", "draft"))

    def test_odoo_confirming_by_itself_still_reviews(self):
        """The customer paid or signed: Odoo's own path confirms, the approval is a review."""
        order = self.order(self.salesperson)
        with automatic_confirmation():
            order.with_user(self.salesperson).action_confirm()
        self.assertEqual(order.state, "sale")
        review = self.approvals(order)
        self.assertEqual((review.reason, review.state, review.is_review), ("high_value", "pending", True))
        # The marker ends with the call: the next confirmation of a caller is refused again.
        other = self.order(self.salesperson)
        status, body = self.call(self.salesperson, "sale.order", "action_confirm", ids=other.ids)
        self.assertEqual(status, 422, body)
        self.assertEqual(self.read_order(self.salesperson, other), ("draft", "draft"))

    def test_an_approval_covers_what_it_approved_only(self):
        """Approve a 1,800 order, cancel it, reset it, raise it: a new approval is asked."""
        user = self.integration
        order = self.order(user)
        self.call(user, "sale.order", "action_confirm", ids=order.ids, context={"order_visibility_approval": "request"})
        approval = self.approvals(order)
        self.assertEqual(approval.amount_company, 1800.0, "the approval records the amount it approves")
        approval.with_user(self.approver).action_approve("Key account")
        self.assertEqual(order.state, "sale", "approving confirms the order")

        for method in ("action_cancel", "action_draft"):
            status, body = self.call(user, "sale.order", method, ids=order.ids)
            self.assertEqual(status, 200, body)
        self.assertEqual(self.read_order(user, order), ("draft", "draft"))
        status, body = self.call(
            user,
            "sale.order",
            "write",
            ids=order.ids,
            vals={"order_line": [Command.update(order.order_line.id, {"product_uom_qty": 2500000})]},
        )
        self.assertEqual(status, 200, body)

        status, body = self.call(user, "sale.order", "action_confirm", ids=order.ids)
        self.assertEqual(status, 422, "the old approval does not cover 1.5 billion")
        self.assertIn("1,500,000,000.00", body["message"])
        status, body = self.call(
            user, "sale.order", "action_confirm", ids=order.ids, context={"order_visibility_approval": "request"}
        )
        self.assertEqual(status, 200, body)
        self.assertEqual(self.read_order(user, order), ("draft", "pending_approval"))
        pending = self.approvals(order).filtered(lambda a: a.state == "pending")
        self.assertEqual(pending.reason, "high_value")
        self.assertEqual(pending.amount_company, 1500000000.0)

    def test_a_lower_or_equal_amount_stays_covered(self):
        user = self.salesperson
        order = self.order(user)
        self.call(user, "sale.order", "action_confirm", ids=order.ids, context={"order_visibility_approval": "request"})
        self.approvals(order).with_user(self.approver).action_approve("Key account")
        self.assertEqual(order.state, "sale")
        order.with_user(user).action_cancel()
        order.with_user(user).action_draft()
        order.order_line.with_user(user).product_uom_qty = 2  # 1,200: still high value, under what was approved
        status, body = self.call(user, "sale.order", "action_confirm", ids=order.ids)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.read_order(user, order)[0], "sale")
        self.assertEqual(len(self.approvals(order)), 1, "no new approval for figures already approved")

    def test_a_margin_approval_covers_its_margin_only(self):
        # 1 x 480: under the high-value amount; margin (480 - 400) / 480 = 16.7 % < 20 %.
        user = self.integration
        order = self.order(user, quantity=1, price=480.0)
        self.call(user, "sale.order", "action_confirm", ids=order.ids, context={"order_visibility_approval": "request"})
        approval = self.approvals(order)
        self.assertEqual(approval.reason, "low_margin")
        self.assertAlmostEqual(approval.margin_approved, 16.67, places=2)
        approval.with_user(self.approver).action_approve("Clearance")
        self.assertEqual(order.state, "sale")

        order.with_user(user).action_cancel()
        order.with_user(user).action_draft()
        order.order_line.with_user(user).price_unit = 420.0  # margin 4.8 %
        status, body = self.call(user, "sale.order", "action_confirm", ids=order.ids)
        self.assertEqual(status, 422, body)
        self.assertIn("Margin 4.8 %", body["message"])
        self.assertEqual(self.read_order(user, order)[0], "draft")
