# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class OrderVisibilityWebhookEventType(models.Model):
    """The event catalogue (data): one record per outbound event type."""

    _name = "order.visibility.webhook.event.type"
    _description = "Webhook Event Type"
    _order = "sequence, code"
    _rec_name = "code"

    code = fields.Char(required=True, readonly=True, help="The payload's type, e.g. order.status_changed.")
    name = fields.Char(required=True, translate=True)
    description = fields.Text(translate=True)
    schema_version = fields.Integer(
        default=1, readonly=True, help="Version of the JSON Schema of docs/webhooks/schemas/<code>.json."
    )
    sequence = fields.Integer(default=10)

    _code_unique = models.Constraint("UNIQUE(code)", "An event type code must be unique.")
