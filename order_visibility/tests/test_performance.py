# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from ..models import order_visibility_stage_engine
from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestSetBasedEngine(OrderVisibilityCommon):
    """Query-count guards: the engine's passes cost a known number of
    queries, the same for 1 order as for 10 (no query per order)."""

    def _orders(self, count, stock_per_order=10):
        self.set_stock(self.goods, stock_per_order * count)
        orders = self.env["sale.order"]
        for _i in range(count):
            orders |= self.create_order([(self.goods, 2), (self.goods_b, 1)])
        orders.action_confirm()
        self.flush()
        self.env.invalidate_all()
        return orders

    def _reconcile(self, orders):
        # A reconciliation pass over orders that are already right: the
        # steady state the nightly job and the sweeps run in.
        transitions = self.env["order.visibility"]._recompute_orders(orders, cause="reconciliation")
        self.assertFalse(transitions)

    def _assert_reconcile_queries(self, orders):
        self._reconcile(orders)  # warm-up: parameters, access rules, xml ids
        self.env.invalidate_all()
        with self.assertQueryCount(20):
            self._reconcile(orders)

    def test_recompute_cost_does_not_grow_with_orders(self):
        self._assert_reconcile_queries(self._orders(1))
        self.env.invalidate_all()
        self._assert_reconcile_queries(self._orders(10))

    def test_sweep_risk_refresh_cost_does_not_grow_with_orders(self):
        """The sweep refreshes the risk of every order to ship, in batches."""

        def assert_risk_queries(count):
            # Half of the goods are missing: short moves, whose chains the
            # risk score follows to find when the goods can leave. Frozen
            # time: the refresh finds the scores right and writes nothing.
            visibilities = self._orders(count, stock_per_order=1).visibility_ids
            self.assertIn("awaiting_stock", visibilities.mapped("stage"))
            visibilities.sudo()._update_risk()  # warm-up: parameters, access rules, xml ids
            self.env.invalidate_all()
            # As the sweep finds them: one search, one prefetch set.
            visibilities = self.env["order.visibility"].search([("id", "in", visibilities.ids)])
            with self.assertQueryCount(9):
                visibilities.sudo()._update_risk()  # as the sweep runs it

        with freeze_time("2026-06-01 09:00:00"):
            assert_risk_queries(1)
            self.env.invalidate_all()
            assert_risk_queries(10)

    def test_batch_facts_without_jit_are_the_same(self):
        """A batch reads its facts without PostgreSQL's JIT (``JIT_OFF_ORDERS``
        and more orders), the same facts, and gives the setting back."""

        def facts(visibilities):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            found = {
                order_id: (*fact[:3], fact.open_moves.ids, *fact[4:])
                for order_id, fact in visibilities._stage_facts().items()
            }
            return found, self.env.cr.sql_log_count - before

        visibilities = self._orders(3, stock_per_order=1).visibility_ids
        self.env.cr.execute("SHOW jit")
        jit = self.env.cr.fetchone()[0]
        facts(visibilities)  # warm-up: what a first read caches beyond the records
        one_by_one, queries = facts(visibilities)
        with patch.object(order_visibility_stage_engine, "JIT_OFF_ORDERS", 2):
            as_a_batch, batch_queries = facts(visibilities)
        self.assertEqual(as_a_batch, one_by_one)
        self.assertEqual(batch_queries, queries + 2, "SET LOCAL jit = off, then back to its default")
        self.env.cr.execute("SHOW jit")
        self.assertEqual(self.env.cr.fetchone()[0], jit)
