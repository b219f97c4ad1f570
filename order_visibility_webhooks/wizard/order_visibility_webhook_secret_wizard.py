# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class OrderVisibilityWebhookSecretWizard(models.TransientModel):
    """Shows an endpoint's new signing secret once, as Odoo shows a new API key.

    ``order.visibility.webhook.endpoint.action_show_secret`` opens this form
    with the secret as the default value of a record that is never saved: the
    secret is kept nowhere but on the endpoint, which nobody reads back. A row
    saved anyway keeps no secret, and only its creator reads it (record rule).
    """

    _name = "order.visibility.webhook.secret.wizard"
    _description = "Webhook Signing Secret"

    endpoint_id = fields.Many2one("order.visibility.webhook.endpoint", required=True, ondelete="cascade")
    secret = fields.Char(readonly=True, groups="order_visibility.group_order_visibility_admin")

    @api.model_create_multi
    def create(self, vals_list):
        # Shown, never stored (an explicit False also keeps the default out).
        return super().create([dict(vals, secret=False) for vals in vals_list])
