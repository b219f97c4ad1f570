# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from freezegun import freeze_time

from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestSetBasedEngine(OrderVisibilityCommon):
    """Query-count guards: the engine's cost must not grow per order (N+1)."""

    def _orders(self, count, stock_per_order=10):
        self.set_stock(self.goods, stock_per_order * count)
        orders = self.env["sale.order"]
        for _i in range(count):
            orders |= self.create_order([(self.goods, 2), (self.goods_b, 1)])
        orders.action_confirm()
        self.flush()
        self.env.invalidate_all()
        return orders

    def _engine_queries(self, orders):
        Visibility = self.env["order.visibility"]
        # A reconciliation pass over orders that are already right: the
        # steady state the nightly job and the sweeps run in.
        before = self.env.cr.sql_log_count
        transitions = Visibility._recompute_orders(orders, cause="reconciliation")
        self.env.flush_all()
        self.assertFalse(transitions)
        return self.env.cr.sql_log_count - before

    def test_recompute_cost_does_not_grow_with_orders(self):
        one = self._engine_queries(self._orders(1))
        self.env.invalidate_all()
        ten = self._engine_queries(self._orders(10))
        self.assertLessEqual(ten, one + 5, f"1 order: {one} queries, 10 orders: {ten}")

    def test_sweep_risk_refresh_cost_does_not_grow_with_orders(self):
        """The sweep refreshes the risk of every order to ship, in batches."""

        def risk_queries(count):
            # Half of the goods are missing: short moves, whose chains the
            # risk score follows to find when the goods can leave. Frozen
            # time: the refresh finds the scores right and writes nothing.
            visibilities = self._orders(count, stock_per_order=1).visibility_ids
            self.assertIn("awaiting_stock", visibilities.mapped("stage"))
            self.env.invalidate_all()
            # As the sweep finds them: one search, one prefetch set.
            visibilities = self.env["order.visibility"].search([("id", "in", visibilities.ids)])
            before = self.env.cr.sql_log_count
            visibilities.sudo()._update_risk()  # as the sweep runs it
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        with freeze_time("2026-06-01 09:00:00"):
            one = risk_queries(1)
            self.env.invalidate_all()
            ten = risk_queries(10)
        self.assertLessEqual(ten, one + 5, f"1 order: {one} queries, 10 orders: {ten}")
