# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The exception sweep visits the orders due (``next_check_at``) and the
orders that changed, not every open order; the nightly reconciliation
makes the full pass."""

from datetime import timedelta

from odoo import fields

from .common import OrderVisibilityCommon


class TestSweepDue(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_b = cls.setup_second_company()
        cls.company_b, cls.warehouse_b = company_b["company"], company_b["warehouse"]
        cls.Exception = cls.env["order.visibility.exception"]
        cls.Visibility = cls.env["order.visibility"]

    def exceptions(self, order, code, states=("open", "acknowledged", "snoozed")):
        self.flush()
        return self.Exception.search(
            [("sale_order_id", "=", order.id), ("code", "=", code), ("state", "in", list(states))]
        )

    def ready_order(self, promised, company=None, product=None):
        """A confirmed order of goods in stock, ready to ship, promised for ``promised``."""
        product = product or self.goods
        if company:
            order = self.create_order(
                [(product, 1)],
                warehouse=self.warehouse_b,
                company_id=company.id,
                commitment_date=promised,
            )
            self.set_stock(product, 1, self.warehouse_b.lot_stock_id)
        else:
            order = self.create_order([(product, 1)], commitment_date=promised)
            self.set_stock(product, 1)
        order.action_confirm()
        self.flush()
        return order

    def test_changed_order_is_due_then_scheduled_at_its_promise(self):
        now = fields.Datetime.now()
        promised = now + timedelta(days=2)
        order = self.ready_order(promised)
        visibility = self.assertStage(order, "ready_to_ship")
        self.assertLessEqual(visibility.next_check_at, now + timedelta(seconds=5), "a changed order is due at once")
        self.sweep(now + timedelta(minutes=1))
        # Risk band edges come first (slack under 3 days now, under 1 day later), then the promise's grace.
        self.assertGreater(visibility.next_check_at, now + timedelta(minutes=1))
        self.assertLessEqual(visibility.next_check_at, promised + timedelta(hours=24))
        grace_passed = promised + timedelta(hours=25)
        self.assertFalse(self.exceptions(order, "late_shipment"))
        # Sweeps until the grace has passed: each visit schedules the next edge.
        at = now + timedelta(minutes=1)
        for _visit in range(10):
            if visibility.next_check_at > grace_passed:
                break
            at = max(visibility.next_check_at, at) + timedelta(minutes=1)
            self.sweep(at)
        self.assertLessEqual(at, grace_passed + timedelta(minutes=1))
        self.sweep(grace_passed)
        self.assertEqual(len(self.exceptions(order, "late_shipment")), 1)
        self.assertEqual(self.visibility(order).risk_reasons[0][0], "late")

    def test_order_not_due_is_not_visited(self):
        now = fields.Datetime.now()
        order = self.ready_order(now + timedelta(days=20))
        visibility = self.visibility(order)
        self.sweep(now + timedelta(minutes=1))
        self.assertGreater(visibility.next_check_at, now + timedelta(days=1))
        # Behind the engine's back: the stage now looks stale and an
        # exception of the order was resolved by hand in SQL.
        self.env.cr.execute(
            "UPDATE order_visibility SET stage_since = %s WHERE id = %s", (now - timedelta(days=30), visibility.id)
        )
        self.env.invalidate_all()
        self.sweep(now + timedelta(hours=1))
        self.assertFalse(self.exceptions(order, "stale_order"), "an order not due is not visited")
        # The nightly reconciliation makes the full pass: nothing is missed for ever.
        self.run_cron("order_visibility.ir_cron_reconcile", now + timedelta(hours=2))
        self.assertEqual(len(self.exceptions(order, "stale_order")), 1)
        self.assertGreater(self.visibility(order).next_check_at, now + timedelta(hours=2))

    def test_exceptions_of_orders_not_due_are_untouched(self):
        now = fields.Datetime.now()
        late = self.ready_order(now - timedelta(days=3))
        self.sweep(now + timedelta(minutes=1))
        exception = self.exceptions(late, "late_shipment")
        self.assertEqual(len(exception), 1)
        other = self.ready_order(now + timedelta(days=20), product=self.goods_b)
        # ``late`` is not due: the sweep of ``other`` leaves its exception
        # open even though its promise is moved, in SQL, out of reach.
        self.env.cr.execute(
            "UPDATE order_visibility SET promised_date = %s WHERE sale_order_id = %s",
            (now + timedelta(days=30), late.id),
        )
        self.env.invalidate_all()
        self.sweep(now + timedelta(minutes=2))
        self.assertEqual(exception.state, "open")
        self.assertLessEqual(self.visibility(other).next_check_at - now, timedelta(days=21))

    def test_snooze_end_makes_the_order_due(self):
        now = fields.Datetime.now()
        order = self.ready_order(now - timedelta(days=3))
        self.sweep(now + timedelta(minutes=1))
        exception = self.exceptions(order, "late_shipment")
        exception.action_snooze(now + timedelta(days=2), reason="customer agreed to wait")
        self.flush()
        visibility = self.visibility(order)
        self.sweep(now + timedelta(minutes=2))
        self.assertEqual(exception.state, "snoozed")
        self.assertGreater(visibility.next_check_at, now + timedelta(days=2, minutes=1))
        self.sweep(now + timedelta(days=2, minutes=1))
        self.assertEqual(exception.state, "open", "the sweep wakes the exception when its snooze ends")
        self.assertEqual(exception.woken_at, now + timedelta(days=2, minutes=1))

    def test_settings_change_makes_the_next_sweep_a_full_pass(self):
        now = fields.Datetime.now()
        order_a = self.ready_order(now + timedelta(days=20))
        order_b = self.ready_order(now + timedelta(days=20), company=self.company_b)
        self.sweep(now + timedelta(minutes=1))
        visibilities = self.visibility(order_a) | self.visibility(order_b)
        self.assertEqual(visibilities.company_id, self.company | self.company_b)
        for visibility in visibilities:
            self.assertGreater(visibility.next_check_at, now + timedelta(days=3), "next: stale after 7 days")
        # Not due two days later: nothing is visited.
        self.sweep(now + timedelta(days=2))
        self.assertFalse(self.exceptions(order_a, "stale_order"))
        settings = self.env["res.config.settings"].create({"ov_stale_order_days": 1})
        settings.execute()
        # With the new threshold, the next sweep visits every order: both
        # companies' orders are stale, and scheduled anew.
        self.sweep(now + timedelta(days=2, minutes=1))
        self.assertTrue(self.exceptions(order_a, "stale_order"))
        self.assertTrue(self.exceptions(order_b, "stale_order"))
        self.sweep(now + timedelta(days=2, minutes=2))
        for visibility in visibilities:
            self.assertGreater(visibility.next_check_at, now + timedelta(days=2, minutes=2))

    def test_sweep_with_nothing_due_costs_the_same_whatever_the_orders(self):
        now = fields.Datetime.now()
        self.ready_order(now + timedelta(days=20))
        self.sweep(now + timedelta(minutes=1))
        self.sweep(now + timedelta(minutes=2))  # warm-up: parameters, access rules
        before = self.env.cr.sql_log_count
        self.sweep(now + timedelta(minutes=3))
        queries = self.env.cr.sql_log_count - before
        for _i in range(5):
            self.ready_order(now + timedelta(days=20))
            self.ready_order(now + timedelta(days=20), company=self.company_b)
            self.create_order([(self.goods_b, 3)])
        self.flush()
        self.sweep(now + timedelta(minutes=4))
        self.sweep(now + timedelta(minutes=5))
        with self.assertQueryCount(queries):
            self.sweep(now + timedelta(minutes=6))
