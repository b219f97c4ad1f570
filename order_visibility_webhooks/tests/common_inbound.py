# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound milestones posted for real to the test server, signed with the
reference ``standardwebhooks`` library."""

import json
import uuid
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

from odoo.addons.order_visibility.tests.common import OrderVisibilityCommon
from odoo.tests import HttpCase

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the specification's example secret


def iso(moment):
    """RFC 3339 (UTC, 'Z') of a naive UTC datetime."""
    return moment.replace(microsecond=0).isoformat() + "Z"


class InboundCommon(OrderVisibilityCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.env["order.visibility.webhook.source"].create(
            {"name": "Northwind Logistics", "code": "northwind", "secret": SECRET, "company_id": cls.company.id}
        )

    def shipped_order(self, promised_in_days=2, company=None, warehouse=None):
        """A confirmed order whose delivery is validated (the carrier has it)."""
        order = self.create_order(
            [(self.goods, 2)],
            commitment_date=datetime.now(UTC).replace(tzinfo=None) + timedelta(days=promised_in_days),
        )
        self.set_stock(self.goods, 2)
        order.action_confirm()
        self.deliver(order.picking_ids)
        self.assertStage(order, "shipped")
        return order

    def milestone_body(self, order, milestone, **data):
        now = datetime.now(UTC).replace(tzinfo=None)
        return {
            "type": f"milestone.{milestone}",
            "timestamp": iso(now),
            "data": {"order": order.name, "milestone": milestone, "occurred_at": iso(now), **data},
        }

    def post(self, body, *, code=None, secret=SECRET, msg_id=None, timestamp=None, headers=None, raw=None):
        """POST ``body`` signed like a source does; returns (status, JSON answer)."""
        payload = raw if raw is not None else json.dumps(body)
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        timestamp = timestamp or datetime.now(UTC)
        signed = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, timestamp, payload),
            "Content-Type": "application/json",
        }
        if headers is not None:
            signed = {**signed, **headers}
            signed = {key: value for key, value in signed.items() if value is not None}
        self.flush()
        response = self.url_open(
            f"/order_visibility/webhook/{code or self.source.code}", data=payload.encode(), headers=signed
        )
        self.env.invalidate_all()
        try:
            answer = response.json()
        except ValueError:
            answer = {"raw": response.text[:200]}
        return response.status_code, answer

    def milestones(self, order):
        return self.env["order.visibility.milestone"].search([("sale_order_id", "=", order.id)])

    def delivery_exceptions(self, order, state=None):
        domain = [("sale_order_id", "=", order.id), ("code", "=", "delivery_exception")]
        if state:
            domain.append(("state", "=", state))
        return self.env["order.visibility.exception"].search(domain)

    def footprint(self, order):
        """What an accepted milestone changes, to check that a refusal changes nothing."""
        self.env.invalidate_all()
        visibility = self.visibility(order)
        return {
            "milestones": self.env["order.visibility.milestone"].search_count([]),
            "exceptions": self.env["order.visibility.exception"].search_count([("sale_order_id", "=", order.id)]),
            "attachments": self.env["ir.attachment"].search_count(
                [("res_model", "=", "stock.picking"), ("res_id", "in", order.picking_ids.ids)]
            ),
            "messages": self.env["mail.message"].search_count(
                [("model", "=", "sale.order"), ("res_id", "=", order.id)]
            ),
            "risk": (visibility.risk_score, visibility.risk_reasons),
        }
