# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestSetBasedEngine(OrderVisibilityCommon):
    """Query-count guards: the engine's cost must not grow per order (N+1)."""

    def _orders(self, count):
        self.set_stock(self.goods, 10 * count)
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
