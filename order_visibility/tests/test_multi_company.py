# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Two companies: per-company exception types and company-bound links."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestMultiCompany(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_b = cls.setup_second_company()
        cls.company_b, cls.warehouse_b = company_b["company"], company_b["warehouse"]
        cls.user_b = cls.new_user("ov_mc_manager_b", "order_visibility.group_order_visibility_manager", cls.company_b)
        cls.shared_late = cls.env.ref("order_visibility.exception_type_late_shipment")

    def late_order(self, company, warehouse):
        """A confirmed order, everything reserved, promised three days ago."""
        order = (
            self.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": company.id,
                    "warehouse_id": warehouse.id,
                    "commitment_date": fields.Datetime.now() - timedelta(days=3),
                    "order_line": [Command.create({"product_id": self.goods.id, "product_uom_qty": 2})],
                }
            )
        )
        self.set_stock(self.goods, 2, warehouse.lot_stock_id)
        order.with_company(company).action_confirm()
        return order

    def late_exception(self, order):
        self.flush()
        return self.env["order.visibility.exception"].search(
            [("sale_order_id", "=", order.id), ("code", "=", "late_shipment"), ("state", "!=", "resolved")]
        )

    def override_late_shipment(self, company):
        return self.shared_late.copy(
            {"company_id": company.id, "name": "Late shipment (B)", "severity": "critical", "user_ids": False}
        )

    def test_company_type_applies_to_its_company_only(self):
        order_a = self.late_order(self.company, self.warehouse)
        order_b = self.late_order(self.company_b, self.warehouse_b)
        type_b = self.override_late_shipment(self.company_b)
        self.sweep()
        late_a, late_b = self.late_exception(order_a), self.late_exception(order_b)
        self.assertEqual((late_a.type_id, late_a.severity), (self.shared_late, "high"))
        self.assertEqual((late_b.type_id, late_b.severity), (type_b, "critical"))
        self.sweep()
        self.assertEqual(self.late_exception(order_a) | self.late_exception(order_b), late_a | late_b, "no duplicate")
        # Both resolve when their condition clears.
        self.deliver(order_a.picking_ids)
        self.deliver(order_b.picking_ids)
        self.sweep()
        self.assertEqual((late_a.state, late_b.state), ("resolved", "resolved"))

    def test_exception_opened_before_a_company_type_still_resolves(self):
        order_b = self.late_order(self.company_b, self.warehouse_b)
        self.sweep()
        before = self.late_exception(order_b)
        self.assertEqual(before.type_id, self.shared_late)
        self.override_late_shipment(self.company_b)
        self.sweep()
        self.assertEqual(self.late_exception(order_b), before, "the open exception is kept, not duplicated")
        self.deliver(order_b.picking_ids)
        self.sweep()
        self.assertEqual(before.state, "resolved")

    def test_a_company_without_a_type_of_that_code_gets_no_exception(self):
        self.shared_late.company_id = self.company  # now company A's own type; B has none
        order_b = self.late_order(self.company_b, self.warehouse_b)
        self.sweep()
        self.assertFalse(self.late_exception(order_b))

    def test_cross_company_links_are_refused(self):
        order_a = self.late_order(self.company, self.warehouse)
        self.sweep()
        exception = self.late_exception(order_a)
        with self.assertRaisesRegex(UserError, "compan"):
            exception.write({"owner_id": self.user_b.id})
        type_b = self.override_late_shipment(self.company_b)
        with self.assertRaisesRegex(UserError, "compan"):
            self.env["order.visibility.exception"].sudo().create(
                {"visibility_id": exception.visibility_id.id, "type_id": type_b.id, "severity": "low"}
            )
        type_a = self.shared_late.copy({"company_id": self.company.id, "code": "late_shipment_a"})
        with self.assertRaisesRegex(UserError, "compan"):
            type_a.user_ids = self.user_b

    def test_owners_outside_the_company_are_skipped(self):
        self.shared_late.user_ids = self.user_b  # works in company B only
        order_a = self.late_order(self.company, self.warehouse)
        self.sweep()
        owner = self.late_exception(order_a).owner_id
        self.assertTrue(owner)
        self.assertNotEqual(owner, self.user_b)
        self.assertIn(self.company, owner.company_ids)
