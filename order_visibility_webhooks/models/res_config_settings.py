# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ov_webhook_timeout = fields.Integer(
        string="Webhook Timeout (seconds)",
        config_parameter="order_visibility_webhooks.timeout",
        default=10,
        help="Default time a receiver has to answer one delivery; endpoints may override it.",
    )
    ov_webhook_max_attempts = fields.Integer(
        string="Webhook Max Attempts",
        config_parameter="order_visibility_webhooks.max_attempts",
        default=7,
        help="Attempts before a delivery is dead-lettered (the first try plus retries).",
    )
    ov_webhook_retention_days = fields.Integer(
        string="Delivery Log Retention (days)",
        config_parameter="order_visibility_webhooks.retention_days",
        default=30,
        help="Delivered and dead-lettered deliveries older than this are purged.",
    )
    ov_webhook_include_customer = fields.Boolean(
        string="Customer Data in Payloads",
        config_parameter="order_visibility_webhooks.include_customer",
        help="Send customer names and addresses in webhook payloads. "
        "Leave off to send only references and ids (data minimisation).",
    )

    @api.constrains("ov_webhook_timeout", "ov_webhook_max_attempts", "ov_webhook_retention_days")
    def _check_order_visibility_webhook_defaults(self):
        for settings in self:
            if not 1 <= settings.ov_webhook_timeout <= 120:
                raise ValidationError(self.env._("The webhook timeout must be between 1 and 120 seconds."))
            if not 1 <= settings.ov_webhook_max_attempts <= 20:
                raise ValidationError(self.env._("Webhook max attempts must be between 1 and 20."))
            if settings.ov_webhook_retention_days < 1:
                raise ValidationError(self.env._("Delivery log retention must be at least 1 day."))
