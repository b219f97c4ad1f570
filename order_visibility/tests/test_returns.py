# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Returns and refunds, a lifecycle beside the stage: goods come back
through Odoo's return wizard, credit notes through the reversal wizard and
are paid through the payment wizard; the stage never steps back for them."""

from datetime import timedelta
from pathlib import Path

from odoo import fields
from odoo.modules.migration import load_script
from odoo.tests import tagged

from .common import OrderVisibilityCommon

MIGRATION = Path(__file__).parents[1] / "migrations" / "19.0.1.3.0" / "post-migrate.py"


class ReturnsCommon(OrderVisibilityCommon):
    """Orders taken through Odoo's own return, credit-note and payment wizards."""

    def shipped_order(self, qty=5, deliver=None):
        """A confirmed order of ``qty`` olive oil at 40.00, its delivery
        validated (``deliver`` units, all when None, the rest a backorder)."""
        self.set_stock(self.goods, qty)
        order = self.create_order([(self.goods, qty)])
        order.action_confirm()
        picking = order.picking_ids
        self.deliver(picking, None if deliver is None else {self.goods: deliver})
        self.flush()
        return order

    def paid_order(self, qty=5):
        order = self.shipped_order(qty)
        invoice = self.invoice(order)
        self.pay(invoice)
        self.flush()
        return order, invoice

    def return_goods(self, order, qty, exchange=False, user=None):
        """Ask for ``qty`` units back from the order's first done delivery (the return wizard)."""
        picking = order.picking_ids.filtered(lambda p: p.state == "done" and p.picking_type_code == "outgoing")[:1]
        Wizard = self.env["stock.return.picking"]
        if user:  # as the UI does: in the user's language
            Wizard = Wizard.with_user(user).with_context(lang=user.lang)
        wizard = Wizard.with_context(active_id=picking.id, active_ids=picking.ids, active_model="stock.picking").create(
            {}
        )
        wizard.product_return_moves.quantity = qty
        action = wizard.action_create_exchanges() if exchange else wizard.action_create_returns()
        self.flush()
        return self.env["stock.picking"].browse(action["res_id"])

    def receive_return(self, return_picking):
        self.deliver(return_picking)
        self.flush()

    def credit_note(self, invoice, qty=None):
        """Credit ``invoice`` (the reversal wizard), ``qty`` units of its line when given; posted."""
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Goods returned"})
        )
        action = wizard.refund_moves()
        refund = self.env["account.move"].browse(action["res_id"])
        if qty is not None:
            refund.invoice_line_ids.filtered("product_id").quantity = qty
        refund.action_post()
        self.flush()
        return refund

    def steps(self, order):
        return [(s.from_state, s.to_state) for s in self.visibility(order).return_step_ids.sorted("id")]

    def assertReturn(self, order, state, qty, value):
        visibility = self.visibility(order)
        self.assertEqual(visibility.return_state, state)
        self.assertAlmostEqual(visibility.returned_qty, qty)
        self.assertAlmostEqual(visibility.returned_value, value)
        return visibility


@tagged("post_install", "-at_install")
class TestReturns(ReturnsCommon):
    def test_paid_order_returned_and_refunded_stays_paid(self):
        order, invoice = self.paid_order(5)
        self.assertStage(order, "paid")
        self.assertReturn(order, "none", 0, 0)
        path_before = self.stage_path(order)

        back = self.return_goods(order, 2)
        self.assertStage(order, "paid")
        visibility = self.assertReturn(order, "requested", 2, 80.0)
        self.assertEqual(self.steps(order), [("none", "requested")])
        self.assertIn(back.name, visibility.return_step_ids.note)

        self.receive_return(back)
        self.assertEqual(order.order_line.qty_delivered, 3, "Odoo counts the goods back")
        self.assertStage(order, "paid")
        self.assertReturn(order, "received", 2, 80.0)

        refund = self.credit_note(invoice, qty=2)
        self.assertStage(order, "paid")
        self.assertReturn(order, "received", 2, 80.0)  # posted, not paid yet

        self.pay(refund)
        self.flush()
        self.assertStage(order, "paid")
        visibility = self.assertReturn(order, "refunded", 2, 80.0)
        self.assertEqual(
            self.steps(order), [("none", "requested"), ("requested", "received"), ("received", "refunded")]
        )
        self.assertIn(refund.name, visibility.return_step_ids.sorted("id")[-1].note)
        self.assertEqual(self.stage_path(order), path_before, "no stage change for a return or a refund")

        # Days later: a refunded order is not 'delivered and not invoiced'.
        self.sweep(fields.Datetime.now() + timedelta(days=30))
        self.assertFalse(visibility.exception_ids.filtered(lambda e: e.code == "invoice_blocked"))

    def test_partial_refund_of_paid_order_does_not_go_back_to_shipped(self):
        order, invoice = self.paid_order(5)
        refund = self.credit_note(invoice, qty=1)
        self.assertStage(order, "paid")
        self.assertReturn(order, "none", 0, 0)  # a credit note not settled yet, no return
        self.pay(refund)
        self.flush()
        self.assertStage(order, "paid")
        self.assertReturn(order, "refunded", 0, 0)
        self.sweep(fields.Datetime.now() + timedelta(days=30))
        self.assertFalse(self.visibility(order).exception_ids.filtered(lambda e: e.code == "invoice_blocked"))

    def test_full_return_and_credit_note_of_unpaid_invoice_closes_the_order(self):
        order = self.shipped_order(5)
        invoice = self.invoice(order)
        self.flush()
        self.assertStage(order, "invoiced")
        self.receive_return(self.return_goods(order, 5))
        self.assertStage(order, "invoiced")
        self.credit_note(invoice)  # reconciled with the invoice: both settled
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertStage(order, "paid")
        self.assertReturn(order, "refunded", 5, 200.0)
        self.sweep(fields.Datetime.now() + timedelta(days=30))
        self.assertFalse(self.visibility(order).exception_ids.filtered(lambda e: e.code == "invoice_blocked"))

    def test_credit_note_cancelling_an_invoice_without_return_is_to_invoice_again(self):
        order = self.shipped_order(5)
        invoice = self.invoice(order)
        self.credit_note(invoice)
        # Goods delivered, no invoice standing: invoicing again is expected (a true invoice_blocked).
        self.assertStage(order, "shipped")
        self.assertReturn(order, "refunded", 0, 0)

    def test_full_return_before_invoicing_stays_shipped(self):
        order = self.shipped_order(4)
        self.assertStage(order, "shipped")
        back = self.return_goods(order, 4)
        self.receive_return(back)
        self.assertEqual(order.order_line.qty_delivered, 0)
        self.assertStage(order, "shipped")  # goods left; never back to 'confirmed'
        self.assertReturn(order, "received", 4, 160.0)
        self.assertNotIn("confirmed", [to for _from, to in self.stage_path(order)[1:]])

    def test_return_of_partial_delivery_stays_partially_shipped(self):
        order = self.shipped_order(5, deliver=3)
        self.assertStage(order, "partially_shipped")
        back = self.return_goods(order, 3)
        self.receive_return(back)
        self.assertStage(order, "partially_shipped")
        self.assertReturn(order, "received", 3, 120.0)

    def test_exchange_shipped_is_replaced_without_reopening_fulfilment(self):
        order, _invoice = self.paid_order(5)
        back = self.return_goods(order, 1, exchange=True)
        self.assertStage(order, "paid")
        self.assertReturn(order, "requested", 1, 40.0)
        self.receive_return(back)
        exchange = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state not in ("done", "cancel")
        )
        self.assertEqual(len(exchange), 1, "Odoo's exchange: a new delivery of the returned unit")
        self.assertStage(order, "paid")
        self.deliver(exchange)
        self.flush()
        self.assertStage(order, "paid")
        visibility = self.assertReturn(order, "replaced", 1, 40.0)
        self.assertEqual(self.steps(order)[-1], ("received", "replaced"))
        self.assertIn(exchange.name, visibility.return_step_ids.sorted("id")[-1].note)

    def test_cancelled_return_closes_the_lifecycle(self):
        order, _invoice = self.paid_order(5)
        back = self.return_goods(order, 2)
        back.action_cancel()
        self.flush()
        self.assertReturn(order, "none", 0, 0)
        self.assertEqual(self.steps(order), [("none", "requested"), ("requested", "none")])

    def test_recompute_of_unchanged_returns_logs_nothing(self):
        order, _invoice = self.paid_order(5)
        self.receive_return(self.return_goods(order, 2))
        visibility = self.visibility(order)
        steps = visibility.return_step_ids
        self.env["order.visibility"]._recompute_orders(order, cause="manual")
        self.flush()
        self.assertEqual(visibility.return_step_ids, steps)

    def test_second_company_admin_never_sees_first_company_returns(self):
        order, _invoice = self.paid_order(5)
        self.receive_return(self.return_goods(order, 2))
        company_b = self.setup_second_company()["company"]
        admin_b = self.new_user("ov_ret_admin_b", "order_visibility.group_order_visibility_admin", company_b)
        Step = self.env["order.visibility.return.step"].with_user(admin_b)
        self.assertFalse(Step.search([]))
        self.assertFalse(self.env["order.visibility"].with_user(admin_b).search([("return_state", "!=", "none")]))
        user_a = self.new_user("ov_ret_user_a", "order_visibility.group_order_visibility_user")
        self.assertEqual(len(Step.with_user(user_a).search([("sale_order_id", "=", order.id)])), 2)

    def test_dutch_timeline_notes(self):
        self.setup_dutch()
        order, _invoice = self.paid_order(5)
        clerk = self.new_user("ov_ret_clerk_nl", "stock.group_stock_user", lang="nl_NL")
        back = self.return_goods(order, 2, user=clerk)
        note = self.visibility(order).return_step_ids.note
        self.assertEqual(note, f"Retour {back.name} aangevraagd: 2 stuks")
        dutch = self.env(context={**self.env.context, "lang": "nl_NL"})
        labels = dict(self.env["order.visibility"]._fields["return_state"]._description_selection(dutch))
        self.assertEqual(labels["requested"], "Retour aangevraagd")
        self.assertEqual(labels["refunded"], "Terugbetaald")

    def test_migration_fills_the_returns_of_existing_orders(self):
        order, _invoice = self.paid_order(5)
        self.receive_return(self.return_goods(order, 2))
        plain, _invoice_b = self.paid_order(3)
        visibility = self.visibility(order)
        # As before the upgrade: no returns lifecycle.
        visibility.sudo().write({"return_state": "none", "returned_qty": 0, "returned_value": 0})
        steps = visibility.return_step_ids
        self.flush()
        migration = load_script(str(MIGRATION), "order_visibility_post_migrate_returns")
        migration.migrate(self.env.cr, "19.0.1.2.0")
        self.env.invalidate_all()
        self.assertReturn(order, "received", 2, 80.0)
        self.assertReturn(plain, "none", 0, 0)
        self.assertEqual(visibility.return_step_ids, steps, "no step logged for returns before the upgrade")

    def test_returns_pass_costs_the_same_for_one_or_three_orders(self):
        """Set-based: the returns of many orders are read at once."""
        orders = self.env["sale.order"]
        for _i in range(3):
            order, invoice = self.paid_order(5)
            self.receive_return(self.return_goods(order, 2))
            self.credit_note(invoice, qty=2)
            orders |= order
        Visibility = self.env["order.visibility"]

        def queries(some):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            Visibility._recompute_orders(some, cause="manual")
            return self.env.cr.sql_log_count - before

        queries(orders)  # warm the caches the ORM keeps across invalidations
        one, three = queries(orders[:1]), queries(orders)
        self.assertGreater(one, 0)
        self.assertEqual(one, three)
