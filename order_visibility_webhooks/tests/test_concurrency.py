# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Real cursors: events commit and roll back with their change; two dispatchers claim
disjoint batches and deliver everything exactly once, in order; 2 and 4
dispatchers share one endpoint with no hot row (its health is derived, not
written), and a sustained failure disables it once however many see it.

The outbox rows are committed by a dedicated set-up (other cursors cannot see
the test's transaction) and removed afterwards.
"""

import logging
import threading
from collections import defaultdict

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from .common import LocalReceiverMixin, Receiver

ORDERS = 5
EVENTS_PER_ORDER = 4


@tagged("post_install", "-at_install")
class TestConcurrentDispatchers(LocalReceiverMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver()
        cls.addClassCleanup(cls.receiver.stop)

    def setUp(self):
        super().setUp()
        self.receiver.clear()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            previous = env["ir.config_parameter"].get_param("order_visibility_webhooks.allow_private_targets")
            env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "True")
            partner = env["res.partner"].create({"name": "Concurrency Customer"})
            endpoint = env["order.visibility.webhook.endpoint"].create(
                {"name": "Concurrency", "url": self.receiver.url, "timeout": 5}
            )
            orders = env["sale.order"].create([{"partner_id": partner.id} for _i in range(ORDERS)])
            visibilities = env["order.visibility"]._ensure_for_orders(orders)
            env["order.visibility.webhook.delivery"]._emit_events(
                [
                    {
                        "visibility": visibility,
                        "type": "order.status_changed",
                        "data": {"old_stage": "draft", "new_stage": "draft", "step": step},
                    }
                    for step in range(EVENTS_PER_ORDER)
                    for visibility in visibilities
                ]
            )
            self.receiver.secrets = [endpoint.secret]
            self.ids = {"endpoint": endpoint.id, "orders": orders.ids, "partner": partner.id}
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self._remove_committed_data, previous)

    def _remove_committed_data(self, previous):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["order.visibility.webhook.endpoint"].with_context(active_test=False).browse(
                self.ids["endpoint"]
            ).unlink()  # cascades to deliveries, attempts and counters
            env["sale.order"].browse(self.ids["orders"]).unlink()
            env["res.partner"].browse(self.ids["partner"]).unlink()
            env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", previous or False)
            cr.commit()  # pylint: disable=invalid-commit
        self.registry.clear_cache()

    def _emit_more(self, orders, events_per_order):
        """Commit ``orders`` more orders with ``events_per_order`` events each to the endpoint."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            new_orders = env["sale.order"].create([{"partner_id": self.ids["partner"]} for _i in range(orders)])
            self.ids["orders"] += new_orders.ids
            visibilities = env["order.visibility"]._ensure_for_orders(new_orders)
            env["order.visibility.webhook.delivery"]._emit_events(
                [
                    {"visibility": visibility, "type": "order.status_changed", "data": {"step": step}}
                    for step in range(events_per_order)
                    for visibility in visibilities
                ]
            )
            cr.commit()  # pylint: disable=invalid-commit

    def _run_workers(self, workers, limit):
        """``workers`` dispatchers in threads, each on its own cursor as a cron
        worker, until nothing is due; returns (exceptions raised, records that
        odoo.sql_db and the dispatcher logged at WARNING or above, or that
        report a serialisation failure at any level: a claim that failed to
        serialise is an empty batch, which ends a cron run)."""
        errors, logged = [], []

        class Capture(logging.Handler):
            def emit(self, record):
                if record.levelno >= logging.WARNING or "serialis" in record.getMessage():
                    logged.append(record)

        capture = Capture(logging.DEBUG)
        loggers = [logging.getLogger("odoo.sql_db"), logging.getLogger("odoo.addons.order_visibility_webhooks")]
        levels = [logger.level for logger in loggers]
        start = threading.Barrier(workers)

        def worker():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    Delivery, idle = env["order.visibility.webhook.delivery"], 0
                    start.wait(timeout=60)
                    while idle < 2:  # nothing claimed twice in a row: nothing is due
                        idle = 0 if Delivery._dispatch_batch(limit=limit) else idle + 1
                        cr.commit()  # pylint: disable=invalid-commit
            except Exception as error:
                errors.append(error)

        for logger in loggers:
            logger.addHandler(capture)
            logger.setLevel(logging.DEBUG)
        try:
            threads = [threading.Thread(target=worker) for _i in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.removeHandler(capture)
                logger.setLevel(level)
        return errors, logged

    def _endpoint_health(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            endpoint = (
                env["order.visibility.webhook.endpoint"].with_context(active_test=False).browse(self.ids["endpoint"])
            )
            return {
                "active": endpoint.active,
                "last_success_at": endpoint.last_success_at,
                "consecutive_failures": endpoint.consecutive_failures,
                "disabled_reason": endpoint.disabled_reason,
                "disabled_notes": len(endpoint.message_ids.filtered(lambda m: "consecutive failed" in (m.body or ""))),
            }

    def test_two_and_four_workers_share_one_endpoint_without_a_hot_row(self):
        delivered = 0
        waiting = ORDERS * EVENTS_PER_ORDER  # from setUp
        for workers in (2, 4):
            with self.subTest(workers=workers):
                self._emit_more(orders=20, events_per_order=5)
                waiting += 100
                self.receiver.clear()
                errors, logged = self._run_workers(workers, limit=4)
                self.assertFalse(errors)
                self.assertFalse(
                    [r.getMessage() for r in logged], "no serialisation failure, nothing logged on the normal path"
                )
                delivered, waiting = delivered + waiting, 0
                self.assertEqual(self._states(), {"delivered": delivered})
                ids = [r["headers"]["webhook-id"] for r in self.receiver.received]
                self.assertEqual(len(ids), len(set(ids)), "exactly once")
                self.assertEqual(len(ids), 100 if workers == 4 else 120)
                self.assertTrue(all(r["verified_with"] for r in self.receiver.received))
                health = self._endpoint_health()
                self.assertTrue(health["last_success_at"], "derived from the attempts")
                self.assertEqual(health["consecutive_failures"], 0)

    def test_sustained_failure_disables_the_endpoint_once_with_four_workers(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            Param = env["ir.config_parameter"]
            previous = {
                key: Param.get_param(key)
                for key in (
                    "order_visibility_webhooks.disable_after_failures",
                    "order_visibility_webhooks.disable_after_minutes",
                )
            }
            Param.set_param("order_visibility_webhooks.disable_after_failures", 1)
            Param.set_param("order_visibility_webhooks.disable_after_minutes", 0)
            cr.commit()  # pylint: disable=invalid-commit

        def restore():
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                for key, value in previous.items():
                    env["ir.config_parameter"].set_param(key, value or False)
                cr.commit()  # pylint: disable=invalid-commit

        self.addCleanup(restore)
        self.receiver.mode = "error"
        self.addCleanup(setattr, self.receiver, "mode", "ok")
        errors, logged = self._run_workers(4, limit=2)
        self.assertFalse(errors)
        self.assertFalse([r.getMessage() for r in logged], "the workers that lose the race skip the row quietly")
        health = self._endpoint_health()
        self.assertFalse(health["active"])
        self.assertIn("consecutive failed attempts", health["disabled_reason"])
        self.assertEqual(health["disabled_notes"], 1, "disabled once, by one worker")
        self.assertGreaterEqual(health["consecutive_failures"], 1)
        self.assertFalse(self._states().get("delivered"))

    def _states(self):
        with self.registry.cursor() as cr:
            cr.execute(
                SQL(
                    """SELECT state, count(*) FROM order_visibility_webhook_delivery
                        WHERE endpoint_id = %s GROUP BY state""",
                    self.ids["endpoint"],
                )
            )
            return dict(cr.fetchall())

    def test_claims_are_disjoint_and_skip_what_another_worker_holds(self):
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            # Worker A is in the middle of its claim: rows locked, not committed yet.
            cr_a.execute(
                SQL(
                    """SELECT id, sale_order_id FROM order_visibility_webhook_delivery
                        WHERE endpoint_id = %s AND sequence = 1 ORDER BY id LIMIT 2 FOR UPDATE""",
                    self.ids["endpoint"],
                )
            )
            held = cr_a.fetchall()
            held_orders = {order_id for _id, order_id in held}
            claimed_b = env_b["order.visibility.webhook.delivery"]._claim(limit=100)
            self.assertTrue(claimed_b)
            self.assertFalse(set(claimed_b.ids) & {i for i, _o in held}, "locked rows are skipped")
            self.assertFalse(
                held_orders & set(claimed_b.sale_order_id.ids),
                "no later event of an order whose earlier event another worker holds",
            )
            cr_a.rollback()
            claimed_a = env_a["order.visibility.webhook.delivery"]._claim(limit=100)
            self.assertTrue(claimed_a)
            self.assertFalse(set(claimed_a.ids) & set(claimed_b.ids), "disjoint batches")
            self.assertEqual(set(claimed_a.sale_order_id.ids), held_orders)
            self.assertEqual(set(claimed_a.mapped("state")), {"sending"})

    def test_two_workers_deliver_everything_exactly_once_in_order(self):
        errors = []

        def worker():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    Delivery = env["order.visibility.webhook.delivery"]
                    for _round in range(1000):
                        if not Delivery._dispatch_batch(limit=3):
                            cr.execute(
                                SQL(
                                    """SELECT count(*) FROM order_visibility_webhook_delivery
                                        WHERE endpoint_id = %s AND state IN ('pending', 'sending', 'failed')""",
                                    self.ids["endpoint"],
                                )
                            )
                            cr.commit()  # pylint: disable=invalid-commit
                            if not cr.fetchone()[0]:
                                return
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=worker) for _i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertFalse(errors)
        self.assertEqual(self._states(), {"delivered": ORDERS * EVENTS_PER_ORDER})
        ids = [r["headers"]["webhook-id"] for r in self.receiver.received]
        self.assertEqual(len(ids), ORDERS * EVENTS_PER_ORDER)
        self.assertEqual(len(set(ids)), len(ids), "exactly once")
        self.assertTrue(all(r["verified_with"] for r in self.receiver.received))
        by_order = defaultdict(list)
        for received in self.receiver.received:
            by_order[received["payload"]["data"]["order_id"]].append(received["payload"]["data"]["sequence"])
        for sequences in by_order.values():
            self.assertEqual(sequences, list(range(1, EVENTS_PER_ORDER + 1)), "per order, in sequence order")

    def _confirm_service_order(self, cr):
        env = api.Environment(cr, SUPERUSER_ID, {})
        product = env["product.product"].create(
            {"name": "Outbox Audit", "type": "service", "list_price": 50, "invoice_policy": "order"}
        )
        order = env["sale.order"].create(
            {
                "partner_id": self.ids["partner"],
                "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1})],
            }
        )
        order.action_confirm()
        return env, order, product

    def _rows_seen_from_another_cursor(self, order_id):
        with self.registry.cursor() as cr:
            cr.execute(
                SQL(
                    """SELECT event_type FROM order_visibility_webhook_delivery
                        WHERE sale_order_id = %s AND endpoint_id = %s""",
                    order_id,
                    self.ids["endpoint"],
                )
            )
            return [row[0] for row in cr.fetchall()]

    def test_events_commit_and_roll_back_with_their_change(self):
        # Rolled back: the confirmation and its events vanish together.
        with self.registry.cursor() as cr:
            _env, order, _product = self._confirm_service_order(cr)
            cr.flush()  # what commit does first: the engine and the outbox run here
            cr.execute(SQL("SELECT count(*) FROM order_visibility_webhook_delivery WHERE sale_order_id = %s", order.id))
            self.assertTrue(cr.fetchone()[0], "written in the transaction of the change")
            rolled_back = order.id
            cr.rollback()
        self.assertEqual(self._rows_seen_from_another_cursor(rolled_back), [])

        # Committed: another connection sees the order's events and a wake-up of the dispatcher.
        with self.registry.cursor() as cr:
            env, order, product = self._confirm_service_order(cr)
            cr.commit()  # pylint: disable=invalid-commit
            committed, product_id = order.id, product.id
        try:
            self.assertIn("order.status_changed", self._rows_seen_from_another_cursor(committed))
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                cron = env.ref("order_visibility_webhooks.ir_cron_dispatch")
                self.assertTrue(env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]))
        finally:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                order = env["sale.order"].browse(committed)
                order._action_cancel()
                order.unlink()
                env["product.product"].browse(product_id).product_tmpl_id.unlink()
                cr.commit()  # pylint: disable=invalid-commit
