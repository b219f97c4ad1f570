# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Two dispatchers on two real cursors: disjoint claims, everything exactly once, in order.

The outbox rows are committed by a dedicated set-up (other cursors cannot see
the test's transaction) and removed afterwards.
"""

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
