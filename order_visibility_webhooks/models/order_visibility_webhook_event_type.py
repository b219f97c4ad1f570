# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.exceptions import UserError

# What receivers rely on: the type in payloads and the version of its schema.
CONTRACT_FIELDS = frozenset({"code", "schema_version"})


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

    def write(self, vals):
        if not self.env.su and CONTRACT_FIELDS.intersection(vals):
            raise UserError(
                self.env._(
                    "The code and schema version of a webhook event type are what receivers rely on; "
                    "only their name, description and order can be changed."
                )
            )
        return super().write(vals)
