# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields
from odoo.tests import TransactionCase, tagged

MODULE = "order_visibility_demo"

# Stage the engine must derive for each scenario order (DESIGN.md §1).
EXPECTED_STAGES = {
    "sale_order_iberia_quotation": "draft",
    "sale_order_boulangerie_stale_quotation": "draft",
    "sale_order_nordic_quotation_sent": "draft",
    "sale_order_ferretti_awaiting_stock": "awaiting_stock",
    "sale_order_harbor_awaiting_stock": "awaiting_stock",
    "sale_order_alpen_ready_to_ship": "ready_to_ship",
    "sale_order_vlaamse_ready_to_ship": "ready_to_ship",
    "sale_order_nordic_partially_shipped": "partially_shipped",
    "sale_order_iberia_shipped": "shipped",
    "sale_order_harbor_shipped_rdc": "shipped",
    "sale_order_alpen_invoiced": "invoiced",
    "sale_order_ferretti_paid": "paid",
    "sale_order_harbor_services": "confirmed",
    "sale_order_boulangerie_cancelled": "cancelled",
}


@tagged("post_install", "-at_install")
class TestDemoScenario(TransactionCase):
    """The installed demo database tells the story of a real distributor."""

    def ref_demo(self, name):
        return self.env.ref(f"{MODULE}.{name}")

    def test_orders_cover_the_canonical_stages(self):
        orders = self.env["sale.order"].browse(
            self.env["ir.model.data"].search([("module", "=", MODULE), ("model", "=", "sale.order")]).mapped("res_id")
        )
        visibilities = self.env["order.visibility"].search([("sale_order_id", "in", orders.ids)])
        self.assertEqual(len(visibilities), len(orders), "every demo order has its visibility record")
        self.assertLessEqual(
            {
                "draft",
                "awaiting_stock",
                "ready_to_ship",
                "partially_shipped",
                "shipped",
                "invoiced",
                "paid",
                "confirmed",
                "cancelled",
            },
            set(visibilities.mapped("stage")),
        )

    def test_each_order_is_in_its_stage(self):
        for xmlid, stage in EXPECTED_STAGES.items():
            with self.subTest(order=xmlid):
                order = self.ref_demo(xmlid)
                self.assertEqual(order.visibility_ids.stage, stage)
                self.assertEqual(order.visibility_stage, stage, "the sale.order mirror follows")

    def test_stages_come_from_real_documents(self):
        awaiting = self.ref_demo("sale_order_ferretti_awaiting_stock")
        degreaser = self.ref_demo("product_degreaser").product_variant_id
        self.assertLess(degreaser.with_context(warehouse_id=awaiting.warehouse_id.id).qty_available, 12)
        partial = self.ref_demo("sale_order_nordic_partially_shipped")
        self.assertEqual(sorted(partial.picking_ids.mapped("state")), ["confirmed", "done"], "delivery + backorder")
        rdc_order = self.ref_demo("sale_order_harbor_shipped_rdc")
        self.assertEqual(rdc_order.warehouse_id, self.ref_demo("warehouse_rotterdam_dc"))
        self.assertEqual(len(rdc_order.picking_ids), 2, "pick, then deliver")
        self.assertEqual(set(rdc_order.picking_ids.mapped("state")), {"done"})
        invoiced = self.ref_demo("sale_order_alpen_invoiced")
        self.assertEqual(invoiced.invoice_ids.mapped("state"), ["posted"])
        self.assertEqual(invoiced.invoice_ids.payment_state, "not_paid")
        self.assertLess(invoiced.invoice_ids.invoice_date_due, fields.Date.today(), "an overdue receivable")
        paid = self.ref_demo("sale_order_ferretti_paid")
        self.assertIn(paid.invoice_ids.payment_state, ("paid", "in_payment"))
        services = self.ref_demo("sale_order_harbor_services")
        self.assertFalse(services.picking_ids)
        self.assertEqual(set(services.order_line.product_id.mapped("type")), {"service"})
        # Open orders past their commitment date: late.
        late = self.env["sale.order"].search(
            [
                ("id", "in", [self.ref_demo(x).id for x in EXPECTED_STAGES]),
                ("commitment_date", "<", fields.Datetime.now()),
                ("visibility_stage", "in", ("awaiting_stock", "ready_to_ship", "partially_shipped")),
            ]
        )
        self.assertGreaterEqual(len(late), 3)
        # Replenishment on order, not received.
        purchase = self.ref_demo("purchase_order_degreaser")
        self.assertEqual(purchase.state, "purchase")
        self.assertEqual(purchase.picking_ids.mapped("state"), ["assigned"])

    def test_master_data(self):
        company = self.env.ref("base.main_company")
        rdc = self.ref_demo("warehouse_rotterdam_dc")
        self.assertEqual((rdc.name, rdc.code, rdc.company_id), ("Rotterdam DC", "RDC", company))
        self.assertGreaterEqual(self.env["stock.warehouse"].search_count([("company_id", "=", company.id)]), 2)

        customers = self.env["res.partner"].browse(
            self.env["ir.model.data"]
            .search([("module", "=", MODULE), ("model", "=", "res.partner"), ("name", "=like", "customer\\_%")])
            .mapped("res_id")
        )
        companies = customers.filtered("is_company")
        self.assertTrue(6 <= len(companies) <= 8)
        self.assertEqual(set(companies.mapped("ov_priority")), {"0", "1", "2"})
        self.assertTrue(all(companies.mapped("country_id.code")))
        self.assertGreaterEqual(len(companies.filtered(lambda p: p.credit_limit > 0)), 3)

        vendors = self.env["res.partner"].browse(
            self.env["ir.model.data"]
            .search([("module", "=", MODULE), ("model", "=", "res.partner"), ("name", "=like", "vendor\\_%")])
            .mapped("res_id")
        )
        self.assertEqual(len(vendors), 3)
        supplierinfo = self.env["product.supplierinfo"].search([("partner_id", "in", vendors.ids)])
        self.assertEqual(supplierinfo.partner_id, vendors)
        self.assertTrue(all(delay > 0 for delay in supplierinfo.mapped("delay")))

        templates = self.env["product.template"].browse(
            self.env["ir.model.data"]
            .search([("module", "=", MODULE), ("model", "=", "product.template")])
            .mapped("res_id")
        )
        goods = templates.filtered("is_storable")
        services = templates.filtered(lambda t: t.type == "service")
        self.assertGreaterEqual(len(goods), 10)
        self.assertEqual(set(goods.mapped("invoice_policy")), {"delivery"})
        self.assertEqual(set(services.mapped("invoice_policy")), {"order"})
        self.assertTrue(all(t.standard_price and t.list_price > t.standard_price for t in templates))
        self.assertTrue(goods.seller_ids, "goods are bought from the vendors")
