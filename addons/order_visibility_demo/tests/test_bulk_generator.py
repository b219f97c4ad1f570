# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.addons.order_visibility_demo.bulk import BULK_PREFIX, PROFILES, BulkGenerator
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestBulkGenerator(TransactionCase):
    """The benchmark data: copies of real orders the engine agrees with."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.generator = BulkGenerator(cls.env, batch=150, commit=False, templates_per_profile=1, customers=20)
        cls.figures = cls.generator.run(400)
        cls.copies = cls.env["sale.order"].search([("name", "=like", f"{BULK_PREFIX}%")])

    def test_copies_are_complete_orders(self):
        self.assertEqual(self.figures["templates"][0], len(PROFILES))
        self.assertEqual(len(self.copies), 400, "asked for 400 orders, in batches of 150")
        self.assertEqual(len(set(self.copies.mapped("name"))), 400, "unique names")
        self.assertEqual(self.generator.existing(), 400)
        self.assertEqual(self.generator.run(400), {}, "nothing more to do")
        lines = self.copies.order_line
        self.assertGreater(len(lines), 2 * len(self.copies))
        self.assertEqual(lines.order_id, self.copies)
        self.assertGreater(len(self.copies.partner_id), 5, "copies are spread over the customers")
        for visibility in self.copies.visibility_ids:
            self.assertEqual(visibility.customer_priority, visibility.partner_id.ov_priority)
        # Transfers, moves and invoices belong to their own copy.
        for order in self.copies.filtered("picking_ids")[:50]:
            self.assertEqual(order.picking_ids.move_ids.sale_line_id, order.order_line.filtered("move_ids"))
            self.assertEqual(order.picking_ids.move_ids.picking_id, order.picking_ids)
        invoiced = self.copies.filtered("invoice_ids")
        self.assertTrue(invoiced)
        for order in invoiced[:50]:
            self.assertEqual(len(order.invoice_ids), 1)
            self.assertEqual(order.invoice_ids.line_ids.sale_line_ids.order_id, order)
            self.assertEqual(order.invoice_ids.partner_id, order.partner_id)

    def test_engine_agrees_with_the_copied_stages(self):
        visibilities = self.copies.visibility_ids
        self.assertEqual(len(visibilities), 400, "one visibility record per copy")
        stages = set(visibilities.mapped("stage"))
        self.assertLessEqual(
            {"draft", "awaiting_stock", "ready_to_ship", "partially_shipped", "shipped", "invoiced", "cancelled"},
            stages,
        )
        self.assertTrue(stages & {"paid", "invoiced"})
        transitions = self.env["order.visibility"]._recompute_orders(self.copies, cause="reconciliation")
        self.assertFalse(transitions, "the engine derives the stage each copy carries: no drift")
        self.assertTrue(
            all(v.transition_ids for v in visibilities - visibilities.filtered(lambda v: v.stage == "draft"))
        )
