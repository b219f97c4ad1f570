# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools.constants import ADMIN_GROUP

DELIVERY_STATES = [
    ("pending", "Pending"),
    ("sending", "Sending"),
    ("delivered", "Delivered"),
    ("failed", "Failed (retrying)"),
    ("dead", "Dead"),
]


class OrderVisibilityWebhookDelivery(models.Model):
    """The outbox: one row per (event, endpoint), written in the transaction of the change.

    This file holds the log and what an administrator does with it (retry,
    replay); the engine is split by concern, each an extension of this model:
    ``order_visibility_webhook_delivery_emission.py`` (payloads, per-order
    sequence, correlation id), ``order_visibility_webhook_delivery_dispatcher.py``
    (claim, send, backoff, dead-letter, health; through the transport
    ``tools/outbound_http.py``) and ``order_visibility_webhook_delivery_retention.py``.
    """

    _name = "order.visibility.webhook.delivery"
    _description = "Webhook Delivery"
    _order = "id desc"
    _rec_name = "event_id"

    endpoint_id = fields.Many2one(
        "order.visibility.webhook.endpoint", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    event_id = fields.Char("Event ID", required=True, index=True, readonly=True, help="The webhook-id header.")
    event_type = fields.Char(required=True, index=True, readonly=True)
    payload = fields.Text(required=True, readonly=True, help="The exact bytes signed and sent (UTF-8 JSON).")
    sale_order_id = fields.Many2one("sale.order", string="Order", index=True, ondelete="set null", readonly=True)
    sequence = fields.Integer(readonly=True, help="Per (endpoint, order) gap-free event number.")
    correlation_id = fields.Char(readonly=True, index=True)
    state = fields.Selection(DELIVERY_STATES, required=True, default="pending", index=True, readonly=True)
    attempt_count = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    claimed_at = fields.Datetime(readonly=True, help="When a dispatcher took it (lease).")
    delivered_at = fields.Datetime(readonly=True, index=True)
    last_status_code = fields.Integer(readonly=True)
    last_error = fields.Char(readonly=True)
    last_latency_ms = fields.Integer("Last Latency (ms)", readonly=True)
    replay_of_id = fields.Many2one("order.visibility.webhook.delivery", readonly=True, ondelete="set null")
    attempt_ids = fields.One2many("order.visibility.webhook.attempt", "delivery_id", string="Attempts")

    _due_idx = models.Index("(next_attempt_at, id) WHERE state IN ('pending', 'failed')")
    _order_seq_idx = models.Index("(endpoint_id, sale_order_id, sequence)")

    @api.constrains("company_id", "endpoint_id")
    def _check_endpoint_company(self):
        if any(delivery.company_id != delivery.endpoint_id.company_id for delivery in self):
            raise ValidationError(self.env._("A webhook delivery belongs to the company of its endpoint."))

    # ------------------------------------------------------------------
    # A log: written by the engine only
    # ------------------------------------------------------------------

    def write(self, vals):  # pylint: disable=method-required-super
        raise AccessError(
            self.env._("Webhook deliveries are a log and cannot be edited; retry or replay them instead.")
        )

    def _write_internal(self, vals):
        """The engine's writes (dispatcher, retry, backlog), as superuser: callers
        check the caller's access first."""
        return super(OrderVisibilityWebhookDelivery, self.sudo()).write(vals)  # pylint: disable=super-method-mismatch

    # ------------------------------------------------------------------
    # Retry and replay (administrators)
    # ------------------------------------------------------------------

    def _check_admin_access(self):
        """Administrators only, on deliveries of their companies' endpoints (the
        record rules of both): checked before anything done as superuser."""
        if not self.env.su and not self.env.user.has_group(ADMIN_GROUP):
            raise AccessError(self.env._("Only Order Visibility administrators retry or replay webhook deliveries."))
        self.check_access("read")
        self.endpoint_id.check_access("write")

    def action_retry(self):
        """Send the selected failed or dead deliveries again, with a fresh set of attempts.
        Administrators of the deliveries' companies."""
        self._check_admin_access()
        retryable = self.filtered(lambda d: d.state in ("failed", "dead"))
        if not retryable:
            raise UserError(self.env._("Only failed or dead deliveries can be retried."))
        retryable._write_internal(
            {"state": "pending", "attempt_count": 0, "next_attempt_at": fields.Datetime.now(), "claimed_at": False}
        )
        self.env.ref("order_visibility_webhooks.ir_cron_dispatch")._trigger()
        return True

    def _replay(self):
        """New pending rows re-sending the same event ids and payload bytes (receivers dedupe)."""
        self._check_admin_access()
        deliveries = self.sudo().create(
            [
                {
                    "endpoint_id": d.endpoint_id.id,
                    "company_id": d.company_id.id,
                    "event_id": d.event_id,
                    "event_type": d.event_type,
                    "payload": d.payload,
                    "sale_order_id": d.sale_order_id.id,
                    "sequence": d.sequence,
                    "correlation_id": d.correlation_id,
                    "replay_of_id": d.id,
                    "next_attempt_at": fields.Datetime.now(),
                }
                for d in self.sorted(lambda d: (d.sale_order_id.id, d.sequence, d.id))
            ]
        )
        self.env.ref("order_visibility_webhooks.ir_cron_dispatch")._trigger()
        return deliveries
