# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""With the webhooks addon: each step of an RMA is the core's return event
(order.return_requested, order.return_received, order.refunded), valid
against its schema, and no order.status_changed."""

import json
import unittest

from odoo.addons.order_visibility_webhooks.tests.common import WebhookCommon
from odoo.addons.order_visibility_webhooks.tests.test_emission import validate
from odoo.tests import tagged

from .test_rma_returns import RmaCommon

RETURN_EVENTS = ("order.return_requested", "order.return_received", "order.refunded")


@tagged("post_install", "-at_install")
class TestRmaEvents(WebhookCommon, RmaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.env["ir.module.module"]._get("order_visibility_webhooks").state != "installed":
            raise unittest.SkipTest("the webhooks addon is not installed")

    def test_rma_steps_are_the_return_events(self):
        endpoint = self.create_endpoint()
        order, _invoice = self.paid_order(5)
        status_before = self.deliveries(endpoint_id=endpoint.id, event_type="order.status_changed")
        rma = self.confirm(self.create_rma(order, 2))
        self.receive_rma(rma)
        self.pay(self.refund_rma(rma))
        self.flush()
        events = self.deliveries(endpoint_id=endpoint.id).filtered(lambda d: d.event_type in RETURN_EVENTS)
        self.assertEqual(events.mapped("event_type"), list(RETURN_EVENTS))
        for delivery in events:
            validate(json.loads(delivery.payload))
        data = json.loads(events[0].payload)["data"]
        self.assertEqual((data["return_state"], data["returned_qty"], data["returned_value"]), ("requested", 2.0, 80.0))
        self.assertEqual(self.deliveries(endpoint_id=endpoint.id, event_type="order.status_changed"), status_before)
