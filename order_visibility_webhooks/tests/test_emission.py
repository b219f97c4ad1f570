# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Events are written in the transaction of the change, signed, numbered, and only on real changes."""

import json
from pathlib import Path

import jsonschema

from odoo.exceptions import UserError
from odoo.orm.models import INSERT_BATCH_SIZE
from odoo.tests import Form, new_test_user, tagged

from .common import WebhookCommon

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "webhooks" / "schemas"
# Queries to emit the events of up to 100 stage changes in one transaction
# (read the transitions, their records and the company's endpoints, one
# upsert of the per-order sequence counters, the orders' payload fields, one
# INSERT of the deliveries, trigger the dispatcher), measured: a change here is
# a change of the outbox. The ORM inserts INSERT_BATCH_SIZE rows per INSERT, so
# each further 100 deliveries cost one INSERT more, and nothing else grows.
EMIT_QUERIES = 11


def validate(payload):
    schema = json.loads((SCHEMAS / f"{payload['type']}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(payload, schema, cls=jsonschema.Draft202012Validator)


@tagged("post_install", "-at_install")
class TestEmission(WebhookCommon):
    def test_stage_change_is_signed_and_verified_by_the_receiver(self):
        endpoint = self.create_endpoint()
        order = self.confirmed_order()
        deliveries = self.deliveries(endpoint_id=endpoint.id, event_type="order.status_changed")
        self.assertEqual(len(deliveries), 1, "draft -> ready_to_ship: one real change, one event")
        delivery = deliveries
        payload = json.loads(delivery.payload)
        self.assertEqual(payload["type"], "order.status_changed")
        self.assertEqual(payload["data"]["order_id"], order.id)
        self.assertEqual(payload["data"]["order_name"], order.name)
        self.assertEqual(payload["data"]["old_stage"], "draft")
        self.assertEqual(payload["data"]["new_stage"], "ready_to_ship")
        self.assertEqual(payload["data"]["sequence"], 1)
        self.assertTrue(payload["timestamp"].endswith("Z"))
        validate(payload)
        self.assertEqual(delivery.state, "pending")

        self.assertEqual(self.dispatch(), 1)
        self.assertEqual(delivery.state, "delivered")
        self.assertEqual(delivery.attempt_count, 1)
        self.assertEqual(delivery.last_status_code, 200)
        self.assertEqual(len(delivery.attempt_ids), 1)
        [received] = self.receiver.received
        self.assertEqual(received["headers"]["webhook-id"], delivery.event_id)
        self.assertTrue(delivery.event_id.startswith("msg_"))
        self.assertTrue(received["headers"]["webhook-timestamp"].isdigit())
        self.assertTrue(received["headers"]["webhook-signature"].startswith("v1,"))
        self.assertEqual(received["body"], delivery.payload.encode(), "the exact bytes stored are sent")
        self.assertEqual(received["verified_with"], self.receiver.secrets, "standardwebhooks verifies it")
        self.assertTrue(endpoint.last_success_at)
        self.assertEqual(endpoint.consecutive_failures, 0)

    def test_rotation_signs_with_both_secrets_during_the_overlap(self):
        endpoint = self.create_endpoint(rotation_overlap_hours=2)
        old = endpoint.sudo().secret
        action = endpoint.action_rotate_secret()
        wizard = Form(self.env[action["res_model"]].with_context(**action["context"]))
        new = endpoint.sudo().secret
        self.assertNotEqual(old, new)
        self.assertEqual(wizard.secret, new, "the new secret is shown once to the admin")
        self.assertNotIn(old, str(endpoint.message_ids.mapped("body")))
        self.assertNotIn(new, str(endpoint.message_ids.mapped("body")))
        with self.assertRaises(UserError):
            endpoint.action_show_secret()  # shown once only
        self.receiver.secrets = [old, new]
        self.confirmed_order()
        self.dispatch()
        [received] = self.receiver.received
        self.assertEqual(set(received["verified_with"]), {old, new}, "both secrets verify during the overlap")
        self.assertEqual(len(received["headers"]["webhook-signature"].split()), 2)

    def test_rolled_back_change_emits_nothing(self):
        self.create_endpoint()
        self.set_stock(self.goods, 2)
        order = self.create_order([(self.goods, 2)])
        self.flush()
        before = self.deliveries()
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            order.action_confirm()
            self.flush()
            self.assertTrue(self.deliveries() - before, "rows exist in the transaction of the change")
            raise RuntimeError("the user's transaction fails")
        self.env.invalidate_all()
        self.assertEqual(self.deliveries(), before, "rollback: no event")

    def test_write_that_changes_nothing_emits_nothing(self):
        self.create_endpoint()
        order = self.confirmed_order()
        before = self.deliveries()
        order.write({"note": "same stage"})
        self.env["order.visibility"]._recompute_orders(order, cause="reconciliation")
        self.flush()
        self.assertEqual(self.deliveries(), before)

    def test_correlation_and_sequences_per_endpoint(self):
        every = self.create_endpoint(name="Everything")
        status_only = self.create_endpoint(
            name="Status only", event_types=[self.env.ref("order_visibility_webhooks.event_type_status_changed").id]
        )
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()  # short of stock: a stage change and a stock_shortage exception
        self.flush()
        events = self.deliveries(endpoint_id=every.id)
        self.assertIn("order.exception_opened", events.mapped("event_type"))
        self.assertEqual(events.mapped("sequence"), list(range(1, len(events) + 1)), "gap-free for each receiver")
        self.assertEqual(len(set(events.mapped("correlation_id"))), 1, "one transaction, one correlation id")
        for delivery in events:
            validate(json.loads(delivery.payload))
        filtered = self.deliveries(endpoint_id=status_only.id)
        self.assertEqual(set(filtered.mapped("event_type")), {"order.status_changed"})
        self.assertEqual(filtered.mapped("sequence"), list(range(1, len(filtered) + 1)))
        # A later transaction continues the numbering and gets another correlation id.
        self.env.cr.postcommit.clear()
        self.receive(self.goods, 5)
        self.flush()
        more = self.deliveries(endpoint_id=every.id) - events
        self.assertTrue(more)
        self.assertEqual(more[0].sequence, len(events) + 1)
        self.assertNotEqual(more[0].correlation_id, events[0].correlation_id)
        resolved = more.filtered(lambda d: d.event_type == "order.exception_resolved")
        self.assertTrue(resolved, "the goods came in: the stock shortage resolved itself")
        for delivery in more:
            validate(json.loads(delivery.payload))

    def test_approval_events(self):
        self.switch_on_governance("approve_high_value")
        self.env["ir.config_parameter"].set_param("order_visibility.high_value_amount", 10)
        endpoint = self.create_endpoint()
        self.set_stock(self.goods, 2)
        order = self.create_order([(self.goods, 2)])
        self.confirm_in_form(order)
        self.flush()
        requested = self.deliveries(endpoint_id=endpoint.id, event_type="order.approval_requested")
        self.assertEqual(len(requested), 1)
        payload = json.loads(requested.payload)
        self.assertEqual(payload["data"]["approval"]["state"], "pending")
        validate(payload)

        approver = new_test_user(
            self.env,
            "ov_wh_approver",
            groups="sales_team.group_sale_salesman_all_leads,stock.group_stock_user,"
            "order_visibility.group_order_visibility_manager",
            company_id=self.company.id,
        )
        approval = self.env["order.visibility.approval"].search([("sale_order_id", "=", order.id)])
        approval.with_user(approver).action_approve("Volume deal")
        self.flush()
        decided = self.deliveries(endpoint_id=endpoint.id, event_type="order.approval_decided")
        self.assertEqual(len(decided), 1)
        payload = json.loads(decided.payload)
        self.assertEqual(payload["data"]["approval"]["state"], "approved")
        self.assertEqual(payload["data"]["approval"]["decided_by"], approver.name)
        self.assertEqual(payload["data"]["approval"]["note"], "Volume deal")
        validate(payload)
        # The approval confirmed the order: its stage change follows, numbered after it.
        later = self.deliveries(endpoint_id=endpoint.id).filtered(lambda d: d.id > decided.id)
        self.assertIn("order.status_changed", later.mapped("event_type"))
        all_events = self.deliveries(endpoint_id=endpoint.id)
        self.assertEqual(all_events.mapped("sequence"), list(range(1, len(all_events) + 1)))

    def test_expedite_approval_events_carry_the_cost_and_the_margin(self):
        endpoint = self.create_endpoint()
        # Short (no stock): 2 x 40.00 untaxed, product cost 25.00 each.
        order = self.create_order([(self.goods, 2)])
        order.action_confirm()
        visibility = self.visibility(order)
        margin = visibility.margin_percent
        visibility.action_request_expedite(20.0, "Trade fair on Friday")
        self.flush()
        requested = self.deliveries(endpoint_id=endpoint.id, event_type="order.approval_requested")
        self.assertEqual(len(requested), 1)
        payload = json.loads(requested.payload)
        validate(payload)
        approval = payload["data"]["approval"]
        self.assertEqual(
            {key: approval[key] for key in ("reason", "state", "expedite_cost", "currency")},
            {"reason": "expedite", "state": "pending", "expedite_cost": 20.0, "currency": order.currency_id.name},
        )
        self.assertAlmostEqual(approval["margin_before"], margin)
        self.assertAlmostEqual(approval["margin_after"], margin - 20.0 / order.amount_untaxed * 100.0, places=2)

        approver = new_test_user(
            self.env,
            "ov_wh_expedite_approver",
            groups="order_visibility.group_order_visibility_manager",
            company_id=self.company.id,
        )
        record = self.env["order.visibility.approval"].search([("sale_order_id", "=", order.id)])
        record.with_user(approver).action_approve("Customer keeps the date")
        self.flush()
        decided = self.deliveries(endpoint_id=endpoint.id, event_type="order.approval_decided")
        self.assertEqual(len(decided), 1)
        payload = json.loads(decided.payload)
        validate(payload)
        approval = payload["data"]["approval"]
        self.assertEqual((approval["state"], approval["expedite_cost"]), ("approved", 20.0))
        self.assertEqual(approval["currency"], order.currency_id.name)
        self.assertIn("margin_after", approval)

    def test_other_approvals_carry_no_expedite_keys(self):
        self.switch_on_governance("approve_high_value")
        self.env["ir.config_parameter"].set_param("order_visibility.high_value_amount", 10)
        endpoint = self.create_endpoint()
        self.set_stock(self.goods, 2)
        order = self.create_order([(self.goods, 2)])
        self.confirm_in_form(order)
        self.flush()
        requested = self.deliveries(endpoint_id=endpoint.id, event_type="order.approval_requested")
        approval = json.loads(requested.payload)["data"]["approval"]
        self.assertEqual(approval["reason"], "high_value")
        self.assertFalse({"expedite_cost", "currency", "margin_before", "margin_after"} & set(approval))

    def test_no_endpoint_costs_no_query(self):
        order = self.create_order([(self.goods, 2)])
        self.flush()
        visibility = self.visibility(order)
        transition = (
            self.env["order.visibility.transition"]
            .sudo()
            .create(
                {
                    "visibility_id": visibility.id,
                    "from_stage": "draft",
                    "to_stage": "cancelled",
                    "changed_at": "2026-01-01",
                }
            )
        )
        self.env["order.visibility.webhook.endpoint"]._companies_with_active_endpoints()  # warm cache
        with self.assertQueryCount(0):
            visibility._on_transitions(transition)

    def test_query_count_does_not_grow_with_the_number_of_changes(self):
        self.create_endpoint()
        Visibility = self.env["order.visibility"]

        def transitions_of(count):
            orders = self.env["sale.order"].create([{"partner_id": self.customer.id} for _i in range(count)])
            visibilities = Visibility.sudo()._ensure_for_orders(orders)
            transitions = (
                self.env["order.visibility.transition"]
                .sudo()
                .create(
                    [
                        {
                            "visibility_id": v.id,
                            "from_stage": "draft",
                            "to_stage": "cancelled",
                            "changed_at": "2026-01-01",
                        }
                        for v in visibilities
                    ]
                )
            )
            self.env.flush_all()
            self.env.invalidate_all()
            return orders, self.env["order.visibility.transition"].browse(transitions.ids)

        def assert_emit_queries(count):
            # Warm-up on other transitions (emitting the same ones again would add deliveries).
            Visibility._on_transitions(transitions_of(1)[1])
            self.env.flush_all()
            orders, transitions = transitions_of(count)
            insert_batches = -(-count // INSERT_BATCH_SIZE)
            with self.assertQueryCount(EMIT_QUERIES + insert_batches - 1):
                Visibility._on_transitions(transitions)
                self.env.flush_all()
            self.assertEqual(
                self.env["order.visibility.webhook.delivery"].search_count([("sale_order_id", "in", orders.ids)]),
                count,
            )

        # 10 changes: 11 queries; 1,000 changes: the same 11 and 9 more INSERT batches.
        assert_emit_queries(10)
        assert_emit_queries(1000)
