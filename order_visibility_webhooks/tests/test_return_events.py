# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``order.return_requested``, ``order.return_received`` and ``order.refunded``:
each step of the returns lifecycle is an event of the outbox, in the
transaction of the document that caused it, for the company's endpoints
only; no ``order.status_changed`` for a return or a refund."""

import json

from odoo.addons.order_visibility.tests.test_returns import ReturnsCommon
from odoo.tests import tagged

from .common import WebhookCommon
from .test_emission import validate

RETURN_EVENTS = ("order.return_requested", "order.return_received", "order.refunded")


@tagged("post_install", "-at_install")
class TestReturnEvents(WebhookCommon, ReturnsCommon):
    def return_events(self, endpoint):
        return self.deliveries(endpoint_id=endpoint.id).filtered(lambda d: d.event_type in RETURN_EVENTS)

    def test_return_receipt_and_refund_are_three_signed_events(self):
        endpoint = self.create_endpoint()
        order, invoice = self.paid_order(5)
        status_before = self.deliveries(endpoint_id=endpoint.id, event_type="order.status_changed")
        back = self.return_goods(order, 2)
        requested = self.return_events(endpoint)
        self.assertEqual(requested.mapped("event_type"), ["order.return_requested"])
        payload = json.loads(requested.payload)
        validate(payload)
        visibility = self.visibility(order)
        step = visibility.return_step_ids
        data = payload["data"]
        self.assertEqual(
            {key: data[key] for key in data if key not in ("sequence", "correlation_id", "promised_date")},
            {
                "order_id": order.id,
                "order_name": order.name,
                "visibility_id": visibility.id,
                "company_id": self.company.id,
                "company_name": self.company.name,
                "stage": "paid",
                "return_step_id": step.id,
                "return_state": "requested",
                "previous_return_state": "none",
                "returned_qty": 2.0,
                "returned_value": 80.0,
                "currency": self.company.currency_id.name,
                "changed_at": step.changed_at.isoformat() + "Z",
            },
        )

        self.receive_return(back)
        refund = self.credit_note(invoice, qty=2)
        self.assertEqual(self.return_events(endpoint).mapped("event_type"), list(RETURN_EVENTS[:2]))
        self.pay(refund)
        events = self.return_events(endpoint)
        self.assertEqual(events.mapped("event_type"), list(RETURN_EVENTS))
        for delivery in events:
            validate(json.loads(delivery.payload))
        self.assertEqual(json.loads(events[-1].payload)["data"]["previous_return_state"], "received")
        self.assertEqual(
            self.deliveries(endpoint_id=endpoint.id, event_type="order.status_changed"),
            status_before,
            "the stage never moved: no status event",
        )
        sequences = [json.loads(d.payload)["data"]["sequence"] for d in events]
        self.assertEqual(sequences, sorted(sequences))

        # A recompute that changes nothing emits nothing.
        self.env["order.visibility"]._recompute_orders(order, cause="reconciliation")
        self.assertEqual(self.return_events(endpoint), events)

        self.dispatch_all()
        received = [r for r in self.receiver.received if r["payload"]["type"] in RETURN_EVENTS]
        self.assertEqual([r["body"] for r in received], [d.payload.encode() for d in events])
        self.assertTrue(all(r["verified_with"] == self.receiver.secrets for r in received))

    def test_only_subscribed_endpoints_get_them(self):
        refunds_only = self.create_endpoint(
            name="Refunds only", event_types=[self.env.ref("order_visibility_webhooks.event_type_refunded").id]
        )
        status_only = self.create_endpoint(
            name="Status only", event_types=[self.env.ref("order_visibility_webhooks.event_type_status_changed").id]
        )
        order, invoice = self.paid_order(5)
        self.receive_return(self.return_goods(order, 1))
        self.pay(self.credit_note(invoice, qty=1))
        self.assertEqual(self.return_events(refunds_only).mapped("event_type"), ["order.refunded"])
        self.assertFalse(self.return_events(status_only))

    def test_second_company_endpoint_gets_nothing(self):
        company_b = self.setup_second_company()["company"]
        endpoint_b = self.create_endpoint(name="B", company_id=company_b.id)
        order, _invoice = self.paid_order(5)
        self.return_goods(order, 2)
        self.assertFalse(self.return_events(endpoint_b))

    def test_no_endpoint_no_event(self):
        order, _invoice = self.paid_order(5)
        self.return_goods(order, 2)
        self.assertFalse(self.env["order.visibility.webhook.delivery"].search([("event_type", "in", RETURN_EVENTS)]))

    def test_dutch_event_type_names(self):
        self.setup_dutch(("order_visibility", "order_visibility_webhooks"))
        dutch = self.env(context={**self.env.context, "lang": "nl_NL"})
        event_type = self.env.ref("order_visibility_webhooks.event_type_return_received").with_env(dutch)
        self.assertEqual(event_type.name, "Retour ontvangen")

    def test_return_authorization_request_is_an_approval_event(self):
        self.env["ir.config_parameter"].set_param("order_visibility.approve_returns", True)
        self.env["ir.config_parameter"].set_param("order_visibility.return_approval_amount", 50)
        endpoint = self.create_endpoint()
        order, _invoice = self.paid_order(5)
        self.return_goods(order, 2)
        requested = self.deliveries(endpoint_id=endpoint.id, event_type="order.approval_requested")
        self.assertEqual(len(requested), 1)
        payload = json.loads(requested.payload)
        validate(payload)
        self.assertEqual(payload["data"]["approval"]["reason"], "return_authorization")
        self.assertEqual(payload["data"]["stage"], "paid", "the order is not held")
