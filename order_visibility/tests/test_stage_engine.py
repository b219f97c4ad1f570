# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestStageEngine(OrderVisibilityCommon):
    def test_new_quotation_is_draft_without_transition(self):
        order = self.create_order([(self.goods, 2)])
        visibility = self.assertStage(order, "draft")
        self.assertFalse(visibility.transition_ids)
        self.assertEqual(visibility.partner_id, self.customer)
        self.assertEqual(visibility.customer_priority, "1")
        self.assertEqual(visibility.user_id, order.user_id)
        self.assertEqual(visibility.stage_since, order.create_date)
        # The engine keeps the record: nothing logged in its chatter for that.
        self.assertFalse(visibility.message_ids)

    def test_shortage_then_receipt(self):
        """10 ordered, 4 on hand: awaiting stock until goods are received."""
        self.set_stock(self.goods, 4)
        order = self.create_order([(self.goods, 10)])
        with freeze_time(fields.Datetime.now() - timedelta(hours=5)):
            order.action_confirm()
            self.assertStage(order, "awaiting_stock")
        self.receive(self.goods, 6)
        order.picking_ids.action_assign()
        visibility = self.assertStage(order, "ready_to_ship")
        self.assertEqual(
            self.stage_path(order),
            [("draft", "awaiting_stock"), ("awaiting_stock", "ready_to_ship")],
        )
        last = visibility.last_transition_id
        self.assertEqual(last.to_stage, "ready_to_ship")
        self.assertAlmostEqual(last.duration_hours, 5.0, delta=0.1)

    def test_partial_shipment_backorder_invoice_payment(self):
        self.set_stock(self.goods, 10)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        self.assertStage(order, "ready_to_ship")
        self.deliver(order.picking_ids, {self.goods: 4})
        self.assertStage(order, "partially_shipped")
        backorder = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        self.assertEqual(len(backorder), 1)
        self.deliver(backorder)
        self.assertStage(order, "shipped")
        invoices = self.invoice(order)
        self.assertStage(order, "invoiced")
        self.pay(invoices)
        self.assertStage(order, "paid")
        self.assertEqual(
            [to for _from, to in self.stage_path(order)],
            ["ready_to_ship", "partially_shipped", "shipped", "invoiced", "paid"],
        )

    def test_partial_shipment_without_backorder_is_shipped(self):
        self.set_stock(self.goods, 10)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        self.deliver(order.picking_ids, {self.goods: 6}, backorder=False)
        self.assertStage(order, "shipped")

    def test_services_only_skip_shipping_stages(self):
        order = self.create_order([(self.service, 1)])
        order.action_confirm()
        self.assertStage(order, "confirmed")
        invoices = self.invoice(order)
        self.assertStage(order, "invoiced")
        self.pay(invoices)
        self.assertStage(order, "paid")
        self.assertEqual(
            self.stage_path(order),
            [("draft", "confirmed"), ("confirmed", "invoiced"), ("invoiced", "paid")],
        )

    def test_pick_pack_ship_counts_the_step_leaving_the_warehouse(self):
        warehouse = self.env["stock.warehouse"].create(
            {"name": "Three-Step DC", "code": "3DC", "delivery_steps": "pick_pack_ship"}
        )
        self.set_stock(self.goods, 5, warehouse.lot_stock_id)
        order = self.create_order([(self.goods, 5)], warehouse=warehouse)
        order.action_confirm()
        self.assertStage(order, "ready_to_ship")
        # Odoo 19 pushes each step when the previous one is done.
        for step in (warehouse.pick_type_id, warehouse.pack_type_id):
            picking = order.picking_ids.filtered(lambda p, t=step: p.picking_type_id == t and p.state != "done")
            self.assertEqual(len(picking), 1)
            picking.action_assign()
            self.deliver(picking)
            self.assertStage(order, "ready_to_ship")
        ship = order.picking_ids.filtered(lambda p: p.picking_type_id == warehouse.out_type_id)
        self.assertEqual(ship.location_dest_id.usage, "customer")
        ship.action_assign()
        self.deliver(ship, {self.goods: 2})
        self.assertStage(order, "partially_shipped")
        self.deliver(order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")))
        self.assertStage(order, "shipped")
        self.assertEqual(
            [to for _from, to in self.stage_path(order)],
            ["ready_to_ship", "partially_shipped", "shipped"],
        )

    def test_cancel_from_any_stage(self):
        self.set_stock(self.goods, 3)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        self.assertStage(order, "ready_to_ship")
        order._action_cancel()
        self.assertStage(order, "cancelled")
        quotation = self.create_order([(self.goods, 1)])
        quotation._action_cancel()
        self.assertStage(quotation, "cancelled")

    def test_write_that_changes_nothing_logs_nothing(self):
        self.set_stock(self.goods, 3)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        self.assertStage(order, "ready_to_ship")
        before = self.stage_path(order)
        order.write({"note": "Call before delivery", "commitment_date": fields.Datetime.now() + timedelta(days=3)})
        order.picking_ids.action_assign()
        self.env["order.visibility"]._recompute_orders(order, cause="manual")
        self.assertEqual(self.stage_path(order), before)
        self.assertEqual(self.visibility(order).promised_date, order.commitment_date)

    def test_orders_deleted_after_a_change_are_left_out_of_the_pass(self):
        """The pass of a transaction covers the orders changed in it that
        still exist, with a record or not yet (an order with one exists)."""
        kept = self.create_order([(self.goods, 1)])
        gone = self.create_order([(self.goods, 1)])
        self.flush()  # both quotations get their record
        new = self.create_order([(self.goods, 1)])  # none yet
        promise = fields.Datetime.now() + timedelta(days=3)
        (kept | gone | new).write({"commitment_date": promise})
        ids = (gone | new).ids
        (gone | new).unlink()
        self.flush()
        self.assertEqual(self.visibility(kept).promised_date, promise)
        self.assertFalse(self.env["order.visibility"].search([("sale_order_id", "in", ids)]))

    def test_one_pass_for_many_orders(self):
        """Several orders changed in one transaction: one set-based pass."""
        self.set_stock(self.goods, 30)
        orders = self.env["sale.order"]
        for _i in range(3):
            orders |= self.create_order([(self.goods, 2), (self.goods_b, 0)])
        orders.order_line.filtered(lambda line: not line.product_uom_qty).unlink()
        self.flush()
        # Spy on the engine (the real method runs): which orders each pass covers.
        engine = type(self.env["order.visibility"])
        recompute = engine._recompute_orders
        passes = []

        def spy(visibility, orders_, *args, **kwargs):
            passes.append(set(orders_.ids))
            return recompute(visibility, orders_, *args, **kwargs)

        with patch.object(engine, "_recompute_orders", spy):
            orders.action_confirm()
            self.flush()
        self.assertEqual(passes, [set(orders.ids)], "one pass over the three orders")
        for order in orders:
            self.assertStage(order, "ready_to_ship")


@tagged("post_install", "-at_install")
class TestPaymentsGoingBack(OrderVisibilityCommon):
    """Paths users take after an order was invoiced or paid."""

    def shipped_and_invoiced(self, quantity=4):
        self.set_stock(self.goods, quantity)
        order = self.create_order([(self.goods, quantity)])
        order.action_confirm()
        self.deliver(order.picking_ids)
        invoice = self.invoice(order)
        self.assertStage(order, "invoiced")
        return order, invoice

    def last_transition(self, order):
        transition = self.visibility(order).transition_ids.sorted("id")[-1]
        return transition.from_stage, transition.to_stage, transition.cause

    def reverse(self, invoice, modify=False, lines=None):
        """A credit note through the Credit Note wizard; ``lines``: {product: qty} to credit."""
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Returned goods"})
        )
        action = wizard.refund_moves()
        credit_note = self.env["account.move"].browse(action["res_id"])
        if lines is not None:
            for line in credit_note.invoice_line_ids:
                line.quantity = lines.get(line.product_id, 0)
        credit_note.action_post()
        return credit_note

    def test_unreconciled_payment_goes_back_from_paid_to_invoiced(self):
        order, invoice = self.shipped_and_invoiced()
        self.pay(invoice)
        self.assertStage(order, "paid")
        invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable").remove_move_reconcile()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertStage(order, "invoiced")
        self.assertEqual(self.last_transition(order), ("paid", "invoiced", "payment_removed"))

    def test_credit_note_cancelling_the_invoice_goes_back_to_shipped(self):
        order, invoice = self.shipped_and_invoiced()
        self.reverse(invoice)  # posting a full credit note reconciles it with the invoice
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertEqual(order.invoice_status, "to invoice")
        self.assertStage(order, "shipped")
        self.assertEqual(self.last_transition(order), ("invoiced", "shipped", "invoice_reversed"))
        # Shipped and not invoiced again: the invoice lag is reported by the sweep.
        self.run_cron("order_visibility.ir_cron_exception_sweep", fields.Datetime.now() + timedelta(days=4))
        blocked = self.env["order.visibility.exception"].search(
            [("sale_order_id", "=", order.id), ("code", "=", "invoice_blocked"), ("state", "=", "open")]
        )
        self.assertEqual(len(blocked), 1)

    def test_partial_refund_of_a_paid_order_keeps_it_paid(self):
        # Issue 19: a credit note never pushes the stage back (it used to go
        # paid -> shipped and open a false invoice_blocked); the refund is the
        # order's return_state (test_returns.py).
        order, invoice = self.shipped_and_invoiced(quantity=4)
        self.pay(invoice)
        self.assertStage(order, "paid")
        paid_transition = self.last_transition(order)
        self.reverse(invoice, lines={self.goods: 1})
        self.assertEqual(order.order_line.qty_invoiced, 3)
        self.assertEqual(order.invoice_status, "to invoice")
        self.assertStage(order, "paid")
        self.assertEqual(self.last_transition(order), paid_transition)
        # Invoicing the credited unit again opens an invoice to pay.
        self.invoice(order)
        self.assertStage(order, "invoiced")


@tagged("post_install", "-at_install")
class TestNewQuotations(OrderVisibilityCommon):
    def test_creating_a_quotation_leaves_odoo_transaction_alone(self):
        """Creating quotations costs Odoo's transaction nothing: the stage
        mirror says draft from the start, the visibility record comes right
        after commit (here simulated), with no transition."""
        quotation = self.create_order([(self.goods, 1)])
        self.assertEqual(quotation.visibility_stage, "draft")
        self.env.flush_all()
        self.env.cr.flush()  # the pre-commit hooks
        self.assertFalse(self.env["order.visibility"].search([("sale_order_id", "=", quotation.id)]))
        self.assertIn(quotation.id, self.env.cr.postcommit.data["order_visibility.new_quotations"])
        visibility = self.assertStage(quotation, "draft")  # runs what follows the commit
        self.assertFalse(visibility.transition_ids)
        self.assertEqual(visibility.stage_since, quotation.create_date)

    def test_a_failing_step_after_commit_is_logged_not_raised(self):
        """What runs after the commit (a new quotation's record, the live
        notices) cannot turn the user's committed change into an error: a
        failure is logged, the next steps still run."""
        self.set_stock(self.goods, 1)
        quotation = self.create_order([(self.goods, 1)])
        order = self.create_order([(self.goods, 1)])
        self.flush()
        order.action_confirm()
        self.flush()
        self.env["order.visibility"]._notify_after_commit("test", order.visibility_ids)
        Visibility = type(self.env["order.visibility"])
        quotation_b = self.create_order([(self.goods, 1)])

        def fail(*_args, **_kwargs):
            raise RuntimeError("the bus is down")

        with (
            patch.object(Visibility, "_send_notices", fail),
            self.assertLogs("odoo.addons.order_visibility.models.order_visibility", "ERROR") as logged,
            self.enter_registry_test_mode(),
        ):
            self.env.cr.postcommit.run()
        self.assertIn("live notices of a committed change were not sent", "\n".join(logged.output))
        self.env.invalidate_all()
        self.assertTrue(quotation_b.visibility_ids, "the new quotation's record was still made")
        self.assertTrue(quotation.visibility_ids)

    def test_quotation_created_and_confirmed_in_one_transaction(self):
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 1)])
        order.action_confirm()
        self.assertEqual(self.stage_path(order), [("draft", "ready_to_ship")])
