# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestBatchWrites(OrderVisibilityCommon):
    """A pass over many orders writes each order's own value (its promise,
    margin, first promise, risk reasons) without Odoo's lookup of the
    automation rules once per order, unless a rule or tracking follows the
    field: then every order of the batch still goes through it."""

    def _confirmed_orders(self, count):
        self.set_stock(self.goods, 2 * count)
        start = fields.Datetime.now() + timedelta(days=20)
        orders = self.env["sale.order"]
        for index in range(count):
            orders |= self.create_order([(self.goods, 2)], commitment_date=start + timedelta(hours=index))
        orders.action_confirm()
        self.flush()
        return orders

    def _move_promises(self, orders, days):
        """Each order's commitment moved by ``days`` plus its own hours, as an
        import or another module writing the column would leave it; the
        engine's next pass (a reconciliation) finds them all changed."""
        moved = {}
        for index, order in enumerate(orders):
            moved[order.id] = (fields.Datetime.now() + timedelta(days=days, hours=index)).replace(microsecond=0)
            self.env.cr.execute("UPDATE sale_order SET commitment_date = %s WHERE id = %s", (moved[order.id], order.id))
        self.env.invalidate_all()
        return moved

    def test_each_order_gets_its_own_promise_with_a_bounded_number_of_queries(self):
        def reconcile_moved(count, days):
            orders = self._confirmed_orders(count)
            visibilities = orders.visibility_ids
            self.env["order.visibility"]._recompute_orders(orders, cause="reconciliation")  # warm-up
            moved = self._move_promises(orders, days)
            self.env.cr.execute(
                "UPDATE order_visibility SET write_date = '2026-01-01' WHERE id IN %s", [tuple(visibilities.ids)]
            )
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.env["order.visibility"]._recompute_orders(orders, cause="reconciliation")
            self.flush()
            queries = self.env.cr.sql_log_count - before
            self.env.invalidate_all()
            for visibility in visibilities:
                self.assertEqual(visibility.promised_date, moved[visibility.sale_order_id.id])
                self.assertGreater(visibility.write_date, fields.Datetime.to_datetime("2026-01-01"))
                self.assertFalse(visibility.is_late)
            return queries

        # Far enough ahead that no order becomes at risk (whose rule makes a
        # to-do per order). The first run reads what the others find cached.
        reconcile_moved(2, days=14)
        self.assertEqual(reconcile_moved(3, days=15), reconcile_moved(9, days=16))

    def test_is_late_follows_a_batch_written_promise_in_the_same_transaction(self):
        orders = self._confirmed_orders(3)
        visibilities = orders.visibility_ids
        self.assertFalse(any(visibilities.mapped("is_late")))
        self._move_promises(orders, days=-3)
        self.env["order.visibility"]._recompute_orders(orders, cause="reconciliation")
        # No flush, no invalidation: the records read what the pass wrote.
        self.assertTrue(all(visibilities.mapped("is_late")))

    def test_an_admin_rule_on_the_promise_runs_for_every_order_of_a_batch(self):
        orders = self._confirmed_orders(3)
        model = self.env["ir.model"]._get("order.visibility")
        action = self.env["ir.actions.server"].create(
            {
                "name": "Promise moved",
                "model_id": model.id,
                "state": "code",
                "code": "for record in records:\n    record.message_post(body='Promise moved by the rule')",
            }
        )
        self.env["base.automation"].create(
            {
                "name": "Promise moved",
                "model_id": model.id,
                "trigger": "on_create_or_write",
                "trigger_field_ids": [Command.set(model.field_id.filtered(lambda f: f.name == "promised_date").ids)],
                "action_server_ids": [Command.set(action.ids)],
            }
        )
        self._move_promises(orders, days=25)
        self.env["order.visibility"]._recompute_orders(orders, cause="reconciliation")
        self.flush()
        for visibility in orders.visibility_ids:
            bodies = visibility.message_ids.mapped("body")
            self.assertEqual(sum("Promise moved by the rule" in str(body) for body in bodies), 1, visibility)

    def test_a_batch_writes_each_orders_risk_score_and_reasons(self):
        """Three orders of one pass, each with its own days of slack: the
        scores (one write per score) and the reasons (each its own) all land."""
        orders = self._confirmed_orders(3)
        self.env["order.visibility"]._recompute_orders(orders, cause="reconciliation")
        self.assertEqual(orders.visibility_ids.mapped("risk_score"), [0, 0, 0])
        moved = self._move_promises(orders, days=1)  # 1 day + 0, 1, 2 hours of slack
        self.env["order.visibility"]._recompute_orders(orders, cause="reconciliation")
        self.flush()
        self.env.invalidate_all()
        slacks = set()
        for visibility in orders.visibility_ids:
            slack = round((moved[visibility.sale_order_id.id] - fields.Datetime.now()).total_seconds() / 86400.0, 1)
            slacks.add(slack)
            self.assertEqual(visibility.risk_reasons[0], ["slack", {"days": slack}])
            self.assertEqual(visibility.risk_score, 25)  # 20 for the slack, 5 for an important customer
            self.assertIn(f"{slack:.1f} days of slack", visibility.risk_explanation)
        self.assertGreater(len(slacks), 1, "the orders' reasons differ: the batch's way of writing them")
