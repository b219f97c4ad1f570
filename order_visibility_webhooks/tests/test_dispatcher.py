# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Retries with backoff and jitter, dead letters, auto-disable, re-enable, safety caps."""

import socket
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..models.order_visibility_webhook_delivery_dispatcher import BACKOFF_SCHEDULE, JITTER, RESPONSE_CAP
from .common import WebhookCommon


@tagged("post_install", "-at_install")
class TestDispatcher(WebhookCommon):
    def assertRetryWindow(self, delivery, attempted_at, attempt):
        base = BACKOFF_SCHEDULE[attempt - 1]
        delay = (delivery.next_attempt_at - attempted_at).total_seconds()
        self.assertGreaterEqual(delay, base * (1 - JITTER) - 1, f"retry {attempt}: {delay}s")
        self.assertLessEqual(delay, base * (1 + JITTER) + 1, f"retry {attempt}: {delay}s")

    def test_receiver_errors_are_retried_with_backoff_until_delivered(self):
        self.create_endpoint(max_attempts=5)
        self.confirmed_order()
        [delivery] = self.deliveries()
        now = fields.Datetime.now()
        self.receiver.mode = "error"
        for attempt in (1, 2, 3):
            self.assertEqual(self.dispatch(now), 1)
            self.assertEqual(delivery.state, "failed")
            self.assertEqual(delivery.attempt_count, attempt)
            self.assertEqual(delivery.last_status_code, 500)
            self.assertIn("500", delivery.last_error)
            self.assertRetryWindow(delivery, now, attempt)
            self.assertEqual(self.dispatch(now + timedelta(seconds=1)), 0, "not due before its retry time")
            now = delivery.next_attempt_at
        self.receiver.mode = "ok"
        self.assertEqual(self.dispatch(now), 1)
        self.assertEqual(delivery.state, "delivered")
        self.assertEqual(len(delivery.attempt_ids), 4)
        ids = {r["headers"]["webhook-id"] for r in self.receiver.received}
        self.assertEqual(ids, {delivery.event_id}, "the same webhook-id on every attempt")
        self.assertEqual(len(self.receiver.received), 4)

    def test_jitter_spreads_retries(self):
        self.create_endpoint()
        for _i in range(6):
            self.confirmed_order()
        deliveries = self.deliveries()
        now = fields.Datetime.now()
        self.receiver.mode = "error"
        self.dispatch(now)
        delays = {(d.next_attempt_at - now).total_seconds() for d in deliveries}
        self.assertGreater(len(delays), 1, "retries of one batch do not all fall at once")
        for delivery in deliveries:
            self.assertRetryWindow(delivery, now, 1)

    def test_dead_after_max_attempts(self):
        self.create_endpoint(max_attempts=2)
        self.confirmed_order()
        [delivery] = self.deliveries()
        self.receiver.mode = "error"
        self.dispatch()
        self.dispatch(delivery.next_attempt_at)
        self.assertEqual(delivery.state, "dead")
        self.assertEqual(delivery.attempt_count, 2)
        self.assertEqual(self.dispatch(fields.Datetime.now() + timedelta(days=2)), 0)
        # An admin retries it by hand: a fresh set of attempts.
        self.receiver.mode = "ok"
        delivery.action_retry()
        self.dispatch()
        self.assertEqual(delivery.state, "delivered")

    def test_receiver_down(self):
        endpoint = self.create_endpoint()
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        endpoint.url = f"http://127.0.0.1:{port}/hooks"
        self.confirmed_order()
        [delivery] = self.deliveries()
        self.dispatch()
        self.assertEqual(delivery.state, "failed")
        self.assertEqual(delivery.last_status_code, 0)
        self.assertIn("Connection failed", delivery.last_error)

    def test_timeout_and_slow_receivers(self):
        self.create_endpoint(timeout=1)
        self.confirmed_order()
        [delivery] = self.deliveries()
        self.receiver.mode, self.receiver.delay = "slow", 1.5
        self.dispatch()
        self.assertEqual(delivery.state, "failed", delivery.attempt_ids.mapped(lambda a: (a.latency_ms, a.status_code)))
        self.assertIn("No answer within 1 s", delivery.last_error)
        self.receiver.delay = 0.2  # slow but within the timeout
        self.dispatch(delivery.next_attempt_at)
        self.assertEqual(delivery.state, "delivered")

    def test_redirects_are_not_followed_and_bodies_are_capped(self):
        self.create_endpoint()
        self.confirmed_order()
        [delivery] = self.deliveries()
        self.receiver.mode = "redirect"
        self.dispatch()
        self.assertEqual(delivery.state, "failed")
        self.assertEqual(delivery.last_status_code, 302)
        self.assertIn("redirect not followed", delivery.last_error)
        self.assertEqual([r["path"] for r in self.receiver.received], ["/hooks"], "never went to the Location")
        self.receiver.mode = "big"
        self.dispatch(delivery.next_attempt_at)
        self.assertEqual(delivery.state, "delivered")
        self.assertLessEqual(len(delivery.attempt_ids.sorted("number")[-1].response), RESPONSE_CAP)

    def test_events_of_an_order_leave_in_sequence_order(self):
        self.create_endpoint()
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        self.flush()
        self.receive(self.goods, 5)
        self.flush()
        deliveries = self.deliveries()
        self.assertGreaterEqual(len(deliveries), 3)
        now = fields.Datetime.now()
        # The first event fails: nothing after it leaves before it is delivered.
        self.receiver.mode = "error"
        self.dispatch(now)
        self.assertEqual(len(self.receiver.received), 1)
        self.assertEqual(deliveries[1:].mapped("state"), ["pending"] * (len(deliveries) - 1))
        self.receiver.mode = "ok"
        self.dispatch_all(deliveries[0].next_attempt_at)
        self.assertEqual(set(deliveries.mapped("state")), {"delivered"})
        sequences = [r["payload"]["data"]["sequence"] for r in self.receiver.received[1:]]
        self.assertEqual(sequences, sorted(sequences))
        self.assertEqual(sequences, deliveries.mapped("sequence"))

    def test_sustained_failure_disables_the_endpoint_and_reenabling_sends_the_backlog(self):
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.disable_after_failures", 3)
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.disable_after_minutes", 10)
        endpoint = self.create_endpoint()
        for _i in range(3):
            self.confirmed_order()
        deliveries = self.deliveries()
        now = fields.Datetime.now()
        self.receiver.mode = "error"
        self.dispatch(now)
        # Health is derived from the attempts (nothing written on the endpoint's row).
        self.assertEqual(endpoint.consecutive_failures, 3)
        self.assertEqual(endpoint.failing_since, now)
        self.assertFalse(endpoint.last_success_at)
        Endpoint = self.env["order.visibility.webhook.endpoint"]
        self.assertIn(endpoint, Endpoint.search([("consecutive_failures", ">", 0)]), "the Failing filter")
        self.assertTrue(endpoint.active, "three failures in one minute are not sustained yet")
        later = now + timedelta(minutes=15)
        self.dispatch(later)
        self.assertFalse(endpoint.active)
        self.assertIn("consecutive failed attempts", endpoint.disabled_reason)
        activities = self.env["mail.activity"].search(
            [("res_model", "=", endpoint._name), ("res_id", "=", endpoint.id)]
        )
        self.assertIn(self.env.user, activities.user_id, "its administrators get an activity")
        self.assertEqual(self.dispatch(later + timedelta(days=1)), 0, "a disabled endpoint gets nothing")
        # More events while disabled wait in the outbox.
        self.confirmed_order()
        backlog = self.deliveries() - deliveries
        self.assertEqual(backlog.state, "pending")
        self.receiver.mode = "ok"
        self.receiver.clear()
        endpoint.active = True
        self.assertFalse(endpoint.disabled_reason)
        self.dispatch_all()
        self.assertEqual(set((deliveries | backlog).mapped("state")), {"delivered"})
        self.assertEqual(
            [r["headers"]["webhook-id"] for r in self.receiver.received],
            (deliveries | backlog).sorted("id").mapped("event_id"),
        )
        self.assertEqual(endpoint.consecutive_failures, 0)
        self.assertFalse(endpoint.failing_since)
        self.assertTrue(endpoint.last_success_at)
        self.assertNotIn(endpoint, Endpoint.search([("consecutive_failures", ">", 0)]))

    def test_reenabling_starts_a_fresh_failure_count(self):
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.disable_after_failures", 2)
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.disable_after_minutes", 10)
        endpoint = self.create_endpoint()
        for _i in range(2):
            self.confirmed_order()
        now = fields.Datetime.now()
        self.receiver.mode = "error"
        self.dispatch(now)
        self.dispatch(now + timedelta(minutes=15))
        self.assertFalse(endpoint.active)
        self.assertEqual(endpoint.consecutive_failures, 4)
        endpoint.active = True
        self.assertEqual(endpoint.consecutive_failures, 0, "the failures before re-enabling no longer count")
        # The backlog fails again two hours later: counted from the re-enabling,
        # that is 2 failures in no time, not 6 over two hours.
        later = now + timedelta(hours=2)
        self.dispatch(later)
        self.assertTrue(endpoint.active)
        self.assertEqual(endpoint.consecutive_failures, 2)
        self.assertEqual(endpoint.failing_since, later)

    def test_replay_resends_the_same_ids_and_bytes(self):
        endpoint = self.create_endpoint()
        self.confirmed_order()
        self.dispatch_all()
        original = self.deliveries()
        wizard = self.env["order.visibility.webhook.replay"].create(
            {
                "endpoint_id": endpoint.id,
                "date_from": fields.Datetime.now() - timedelta(hours=1),
                "date_to": fields.Datetime.now() + timedelta(hours=1),
            }
        )
        self.assertEqual(wizard.event_count, len(original))
        wizard.action_replay()
        replayed = self.deliveries() - original
        self.assertEqual(replayed.mapped("event_id"), original.mapped("event_id"))
        self.assertEqual(replayed.mapped("payload"), original.mapped("payload"))
        self.dispatch_all()
        self.assertEqual(set(replayed.mapped("state")), {"delivered"})
        first, again = self.receiver.received[0], self.receiver.received[-1]
        self.assertEqual(first["headers"]["webhook-id"], again["headers"]["webhook-id"])
        self.assertEqual(first["body"], again["body"])
        self.assertTrue(again["verified_with"])

    def test_test_event(self):
        endpoint = self.create_endpoint()
        endpoint.action_send_test_event()
        self.dispatch()
        [received] = self.receiver.received
        self.assertEqual(received["payload"]["type"], "webhook.test")
        self.assertTrue(received["verified_with"])

    def test_stale_claims_go_back_to_pending(self):
        self.create_endpoint()
        self.confirmed_order()
        [delivery] = self.deliveries()
        delivery._write_internal({"state": "sending", "claimed_at": fields.Datetime.now() - timedelta(hours=2)})
        self.flush()
        self.env["order.visibility.webhook.delivery"]._release_stale_claims()
        self.assertEqual(delivery.state, "pending")
        self.dispatch()
        self.assertEqual(delivery.state, "delivered")

    def test_retention_purge(self):
        self.create_endpoint()
        self.confirmed_order()
        self.dispatch_all()
        [delivery] = self.deliveries()
        self.env.cr.execute(
            "UPDATE order_visibility_webhook_delivery SET create_date = now() - interval '40 days' WHERE id = %s",
            [delivery.id],
        )
        self.env.invalidate_all()
        self.run_cron("order_visibility_webhooks.ir_cron_purge")
        self.assertFalse(delivery.exists())

    def test_scheduled_action_sends_what_is_due(self):
        self.create_endpoint()
        self.confirmed_order()
        [delivery] = self.deliveries()
        cron = self.env.ref("order_visibility_webhooks.ir_cron_dispatch")
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]), "the commit wakes the dispatcher"
        )
        self.flush()
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(delivery.state, "delivered")
        self.assertTrue(self.receiver.received[0]["verified_with"])

    def test_endpoint_defaults_come_from_settings(self):
        self.env["res.config.settings"].create({"ov_webhook_timeout": 33, "ov_webhook_max_attempts": 4}).execute()
        endpoint = self.env["order.visibility.webhook.endpoint"].create({"name": "Defaults", "url": self.receiver.url})
        self.assertEqual((endpoint.timeout, endpoint.max_attempts), (33, 4))
