# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import uuid
from collections import defaultdict

from odoo import api, fields, models

from ..tools.constants import TEST_EVENT_TYPE

CORRELATION_KEY = "order_visibility_webhooks.correlation_id"


def _iso(value):
    return value and fields.Datetime.to_string(value).replace(" ", "T") + "Z"


class OrderVisibilityWebhookDelivery(models.Model):
    """Emission: the outbox rows of the suite's events, written in the transaction of the change."""

    # One concern per file (see order_visibility_webhook_delivery.py), on purpose.
    _inherit = "order.visibility.webhook.delivery"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _correlation_id(self):
        """One id for every event of the current transaction (cleared at commit/rollback)."""
        return self.env["order.visibility"]._transaction_buffer(
            self.env.cr.postcommit, CORRELATION_KEY, lambda: str(uuid.uuid4()), lambda _correlation_id: None
        )

    @api.model
    def _emit_events(self, events):
        """Write the outbox rows of ``events`` in the current transaction.

        ``events``: [{"visibility": order.visibility record, "type": event type,
        "data": {type-specific keys}}]. Adds the common keys, numbers the events
        per (endpoint, order), writes one delivery per matching active endpoint
        of the order's company in one batched create, and wakes the dispatcher
        after commit. Costs no query while no company has an active endpoint.
        """
        Endpoint = self.env["order.visibility.webhook.endpoint"]
        companies = Endpoint._companies_with_active_endpoints()
        if not events or not companies:
            return self.browse()
        self = self.sudo()
        visibilities = self.env["order.visibility"].sudo().browse()
        for event in events:
            visibilities |= event["visibility"]
        visibilities.fetch(["company_id", "sale_order_id", "stage", "promised_date", "partner_id"])
        events = [e for e in events if e["visibility"].company_id.id in companies]
        if not events:
            return self.browse()
        endpoints = (
            Endpoint.sudo()
            .with_context(active_test=False)
            .search_fetch(
                [
                    "|",
                    ("active", "=", True),
                    ("disabled_reason", "!=", False),
                    ("company_id", "in", list(companies & set(visibilities.company_id.ids))),
                ],
                ["company_id", "event_types"],
            )
        )
        by_company = defaultdict(list)
        for endpoint in endpoints:
            by_company[endpoint.company_id.id].append((endpoint, set(endpoint.event_types.mapped("code"))))
        plan = []  # (event, endpoint)
        counts = defaultdict(int)
        for event in events:
            visibility = event["visibility"]
            for endpoint, codes in by_company[visibility.company_id.id]:
                if not codes or event["type"] in codes:
                    plan.append((event, endpoint))
                    counts[endpoint.id, visibility.sale_order_id.id, endpoint.company_id.id] += 1
        if not plan:
            return self.browse()
        first = self.env["order.visibility.webhook.counter"]._advance(counts)
        next_sequence = dict(first)
        common = self._common_data(visibilities)
        correlation_id = self._correlation_id()
        now = fields.Datetime.now()
        timestamp = _iso(now)
        event_ids = {}
        vals_list = []
        for event, endpoint in plan:
            visibility = event["visibility"]
            order_id = visibility.sale_order_id.id
            key = (endpoint.id, order_id)
            sequence = next_sequence[key]
            next_sequence[key] = sequence + 1
            event_id = event_ids.setdefault(id(event), f"msg_{uuid.uuid4().hex}")
            data = dict(common[visibility.id], sequence=sequence, correlation_id=correlation_id, **event["data"])
            body = {"type": event["type"], "timestamp": timestamp, "data": data}
            vals_list.append(
                {
                    "endpoint_id": endpoint.id,
                    "company_id": endpoint.company_id.id,
                    "event_id": event_id,
                    "event_type": event["type"],
                    "payload": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                    "sale_order_id": order_id,
                    "sequence": sequence,
                    "correlation_id": correlation_id,
                    "next_attempt_at": now,
                }
            )
        deliveries = self.create(vals_list)
        self.env.ref("order_visibility_webhooks.ir_cron_dispatch")._trigger()
        return deliveries

    @api.model
    def _common_data(self, visibilities):
        """{visibility id: the keys every event of its order carries}."""
        include_customer = self.env["res.config.settings"]._get_webhook_param(
            "order_visibility_webhooks.include_customer"
        )
        result = {}
        for visibility in visibilities:
            order = visibility.sale_order_id
            data = {
                "order_id": order.id,
                "order_name": order.name,
                "visibility_id": visibility.id,
                "company_id": visibility.company_id.id,
                "company_name": visibility.company_id.name,
                "stage": visibility.stage,
                "promised_date": _iso(visibility.promised_date) or None,
            }
            if include_customer:
                partner = visibility.partner_id
                data["customer"] = {
                    "name": partner.name or "",
                    "address": {
                        "street": partner.street or "",
                        "street2": partner.street2 or "",
                        "zip": partner.zip or "",
                        "city": partner.city or "",
                        "country_code": partner.country_id.code or "",
                    },
                }
            result[visibility.id] = data
        return result

    @api.model
    def _queue_test_events(self, endpoints):
        now = fields.Datetime.now()
        vals_list = []
        for endpoint in endpoints:
            body = {
                "type": TEST_EVENT_TYPE,
                "timestamp": _iso(now),
                "data": {
                    "endpoint_id": endpoint.id,
                    "endpoint_name": endpoint.name,
                    "company_id": endpoint.company_id.id,
                    "company_name": endpoint.company_id.name,
                },
            }
            vals_list.append(
                {
                    "endpoint_id": endpoint.id,
                    "company_id": endpoint.company_id.id,
                    "event_id": f"msg_{uuid.uuid4().hex}",
                    "event_type": TEST_EVENT_TYPE,
                    "payload": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                    "next_attempt_at": now,
                }
            )
        deliveries = self.create(vals_list)
        self.env.ref("order_visibility_webhooks.ir_cron_dispatch")._trigger()
        return deliveries
