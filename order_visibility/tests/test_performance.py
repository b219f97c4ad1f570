# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo.tests import tagged

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
        with self.assertQueryCount(22):
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
