# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class OrderVisibilityWebhookSecretWizard(models.TransientModel):
    """Shows an endpoint's new signing secret once (administrators only, vacuumed)."""

    _name = "order.visibility.webhook.secret.wizard"
    _description = "Webhook Signing Secret"

    endpoint_id = fields.Many2one("order.visibility.webhook.endpoint", required=True, ondelete="cascade")
    secret = fields.Char(readonly=True, groups="order_visibility.group_order_visibility_admin")
