# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``order.promise_changed``: each logged change of the promised date is an
event of the outbox, in the transaction of the change, for the company's
endpoints only."""

import json
from datetime import timedelta

from odoo.tests import tagged

from .common import WebhookCommon
from .test_emission import validate


@tagged("post_install", "-at_install")
class TestPromiseChanged(WebhookCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = cls.new_user(
            "ov_wh_promise_seller", "sales_team.group_sale_salesman_all_leads,stock.group_stock_user"
        )

    def promised_order(self):
        """An order promised 2 days after its creation, confirmed. Returns it
        and its creation (whole seconds). No frozen clock: the dispatcher sends
        what is due now, and the receiver checks the signature's time."""
        self.set_stock(self.goods, 3)
        order = self.create_order([(self.goods, 3)])
        start = order.create_date.replace(microsecond=0)
        order.commitment_date = start + timedelta(days=2)
        order.action_confirm()
        self.flush()
        return order, start

    def move_promise(self, order, start, days=4, user=None):
        """The seller moves the delivery date to ``days`` after the order's creation."""
        order.with_user(user or self.seller).commitment_date = start + timedelta(days=days)
        self.flush()

    def test_moved_promise_is_one_signed_event_with_the_dates(self):
        endpoint = self.create_endpoint()
        order, start = self.promised_order()
        self.assertFalse(self.deliveries(endpoint_id=endpoint.id, event_type="order.promise_changed"))
        self.move_promise(order, start)
        visibility = self.visibility(order)
        self.assertEqual(visibility.first_promised_date, start + timedelta(days=2), "the first promise is kept")
        delivery = self.deliveries(endpoint_id=endpoint.id, event_type="order.promise_changed")
        self.assertEqual(len(delivery), 1)
        payload = json.loads(delivery.payload)
        validate(payload)

        def iso(moment):
            return moment.isoformat() + "Z"

        data = payload["data"]
        self.assertEqual(
            {key: data[key] for key in data if key not in ("sequence", "correlation_id")},
            {
                "order_id": order.id,
                "order_name": order.name,
                "visibility_id": visibility.id,
                "company_id": self.company.id,
                "company_name": self.company.name,
                "stage": "ready_to_ship",
                "promised_date": iso(start + timedelta(days=4)),
                "promise_change_id": visibility.promise_change_ids.id,
                "first_promised_date": iso(start + timedelta(days=2)),
                "old_promised_date": iso(start + timedelta(days=2)),
                "new_promised_date": iso(start + timedelta(days=4)),
                "changed_at": iso(visibility.promise_change_ids.changed_at),
                "changed_by": self.seller.name,
                "cause": "order_edited",
                "cause_label": "Order edited",
            },
        )
        earlier = self.deliveries(endpoint_id=endpoint.id) - delivery
        self.assertEqual(data["sequence"], max(earlier.mapped("sequence")) + 1, "numbered after the order's events")
        self.assertEqual(data["correlation_id"], delivery.correlation_id)

        # A second move logs a second change; the first promise still travels with it.
        self.move_promise(order, start, days=6)
        second = self.deliveries(endpoint_id=endpoint.id, event_type="order.promise_changed") - delivery
        data = json.loads(second.payload)["data"]
        self.assertEqual(
            (data["first_promised_date"], data["old_promised_date"], data["new_promised_date"]),
            (iso(start + timedelta(days=2)), iso(start + timedelta(days=4)), iso(start + timedelta(days=6))),
        )

        # A reconciliation moves nothing: no event.
        self.env["order.visibility"]._recompute_orders(order, cause="reconciliation")
        self.assertEqual(len(self.deliveries(endpoint_id=endpoint.id, event_type="order.promise_changed")), 2)

        # Delivered to the receiver, which verifies the signature.
        self.dispatch_all()
        received = [r for r in self.receiver.received if r["payload"]["type"] == "order.promise_changed"]
        self.assertEqual([r["body"] for r in received], [delivery.payload.encode(), second.payload.encode()])
        self.assertTrue(all(r["verified_with"] == self.receiver.secrets for r in received))
        self.assertEqual((delivery | second).mapped("state"), ["delivered", "delivered"])

    def test_server_change_has_no_author(self):
        endpoint = self.create_endpoint()
        order, start = self.promised_order()
        self.move_promise(order, start, days=3, user=self.env.ref("base.user_root"))
        delivery = self.deliveries(endpoint_id=endpoint.id, event_type="order.promise_changed")
        payload = json.loads(delivery.payload)
        validate(payload)
        self.assertIsNone(payload["data"]["changed_by"])

    def test_only_subscribed_endpoints_get_it(self):
        status_only = self.create_endpoint(
            name="Status only", event_types=[self.env.ref("order_visibility_webhooks.event_type_status_changed").id]
        )
        promise_only = self.create_endpoint(
            name="Promise only",
            event_types=[self.env.ref("order_visibility_webhooks.event_type_promise_changed").id],
        )
        order, start = self.promised_order()
        self.move_promise(order, start)
        self.assertNotIn("order.promise_changed", self.deliveries(endpoint_id=status_only.id).mapped("event_type"))
        promise_events = self.deliveries(endpoint_id=promise_only.id)
        self.assertEqual(promise_events.mapped("event_type"), ["order.promise_changed"])
        self.assertEqual(promise_events.sequence, 1, "numbered per endpoint")

    def test_no_endpoint_no_event_and_no_query(self):
        order, start = self.promised_order()
        self.move_promise(order, start)
        visibility = self.visibility(order)
        change = visibility.promise_change_ids
        self.assertEqual(len(change), 1)
        self.assertFalse(self.deliveries())
        self.env["order.visibility.webhook.endpoint"]._companies_with_active_endpoints()  # warm cache
        # No query: no delivery, no read of the endpoints (the customer
        # portal's live refresh of the order's open pages, when that addon is
        # installed, is sent after commit).
        with self.assertQueries([]):
            visibility._on_promise_changes(change)

    def test_other_company_endpoint_does_not_get_it(self):
        company_b = self.setup_second_company()["company"]
        endpoint_b = self.env["order.visibility.webhook.endpoint"].create(
            {"name": "B", "url": self.receiver.url, "company_id": company_b.id, "timeout": 2}
        )
        endpoint_a = self.create_endpoint()
        order, start = self.promised_order()
        self.move_promise(order, start)
        self.assertEqual(len(self.deliveries(endpoint_id=endpoint_a.id, event_type="order.promise_changed")), 1)
        self.assertFalse(self.deliveries(endpoint_id=endpoint_b.id))

    def test_cause_label_in_the_company_language(self):
        self.setup_dutch(modules=("order_visibility", "order_visibility_webhooks"))
        event_type = self.env.ref("order_visibility_webhooks.event_type_promise_changed")
        self.assertEqual(event_type.with_context(lang="nl_NL").name, "Toegezegde datum gewijzigd")
        self.company.partner_id.lang = "nl_NL"
        endpoint = self.create_endpoint()
        order, start = self.promised_order()
        self.move_promise(order, start)
        delivery = self.deliveries(endpoint_id=endpoint.id, event_type="order.promise_changed")
        data = json.loads(delivery.payload)["data"]
        self.assertEqual((data["cause"], data["cause_label"]), ("order_edited", "Order gewijzigd"))

    # -- the causes ---------------------------------------------------------

    def promise_events(self, endpoint):
        return [
            json.loads(delivery.payload)
            for delivery in self.deliveries(endpoint_id=endpoint.id, event_type="order.promise_changed")
        ]

    def test_customer_request_given_in_move_promise(self):
        endpoint = self.create_endpoint()
        order, start = self.promised_order()
        user = self.new_user(
            "ov_wh_promise_ov",
            "order_visibility.group_order_visibility_user,sales_team.group_sale_salesman_all_leads",
        )
        self.env["order.visibility.promise.wizard"].with_user(user).create(
            {
                "visibility_id": self.visibility(order).id,
                "new_date": start + timedelta(days=5),
                "cause": "customer_request",
            }
        ).action_confirm()
        self.flush()
        [payload] = self.promise_events(endpoint)
        validate(payload)
        self.assertEqual(
            {key: payload["data"][key] for key in ("new_promised_date", "changed_by", "cause", "cause_label")},
            {
                "new_promised_date": (start + timedelta(days=5)).isoformat() + "Z",
                "changed_by": user.name,
                "cause": "customer_request",
                "cause_label": "Customer request",
            },
        )

    def test_carrier_eta_after_the_promise(self):
        endpoint = self.create_endpoint()
        order, start = self.promised_order()
        self.deliver(order.picking_ids)
        self.flush()
        source = self.env["order.visibility.webhook.source"].create(
            {"name": "Northwind Logistics", "code": "northwind-promise", "company_id": self.company.id}
        )
        Milestone = self.env["order.visibility.milestone"].sudo()
        # In transit with an ETA before the promise: moving the promise is an edit.
        Milestone._receive(
            source, "msg-1", {"milestone": "in_transit", "occurred_at": start, "eta": start + timedelta(days=3)}, order
        )
        self.move_promise(order, start, days=3)
        # The carrier's latest word is a delay, its ETA after the promise (3 days).
        Milestone._receive(
            source,
            "msg-2",
            {"milestone": "delayed", "occurred_at": start + timedelta(hours=1), "eta": start + timedelta(days=5)},
            order,
        )
        self.move_promise(order, start, days=5)
        payloads = self.promise_events(endpoint)
        for payload in payloads:
            validate(payload)
        self.assertEqual(
            [(p["data"]["new_promised_date"], p["data"]["cause"], p["data"]["cause_label"]) for p in payloads],
            [
                ((start + timedelta(days=3)).isoformat() + "Z", "order_edited", "Order edited"),
                ((start + timedelta(days=5)).isoformat() + "Z", "carrier_eta", "Carrier ETA"),
            ],
        )
