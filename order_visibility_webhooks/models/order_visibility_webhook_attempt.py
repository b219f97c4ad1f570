# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.exceptions import AccessError


class OrderVisibilityWebhookAttempt(models.Model):
    """One try of one delivery: what the receiver answered, and how fast."""

    _name = "order.visibility.webhook.attempt"
    _description = "Webhook Delivery Attempt"
    _order = "attempted_at desc, id desc"
    _log_access = False

    delivery_id = fields.Many2one(
        "order.visibility.webhook.delivery", required=True, ondelete="cascade", index=True, readonly=True
    )
    # Precomputed: written by the attempts' INSERT, not by an UPDATE of each batch at flush.
    company_id = fields.Many2one(related="delivery_id.company_id", store=True, index=True, precompute=True)
    endpoint_id = fields.Many2one(related="delivery_id.endpoint_id", store=True, index=True, precompute=True)
    attempted_at = fields.Datetime(required=True, readonly=True)
    number = fields.Integer("Attempt", readonly=True)
    status_code = fields.Integer(readonly=True)
    latency_ms = fields.Integer("Latency (ms)", readonly=True)
    response = fields.Text("Response (truncated)", readonly=True)
    error = fields.Char(readonly=True)
    success = fields.Boolean(readonly=True)

    # The endpoint's derived health (order_visibility_webhook_endpoint_health.py):
    # its last success, and its failed attempts after a given id.
    _endpoint_success_idx = models.Index("(endpoint_id, id) WHERE success")
    _endpoint_failure_idx = models.Index("(endpoint_id, id) WHERE success IS NOT TRUE")

    def write(self, vals):  # pylint: disable=method-required-super
        raise AccessError(self.env._("Webhook delivery attempts are a log and cannot be edited."))
