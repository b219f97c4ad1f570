# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Every system parameter of the addon and its default, read through
# ``_get_webhook_param`` (as the core reads its own through ``_get_visibility_param``).
WEBHOOK_PARAM_DEFAULTS = {
    "order_visibility_webhooks.timeout": 10,
    "order_visibility_webhooks.max_attempts": 7,
    "order_visibility_webhooks.retention_days": 30,
    "order_visibility_webhooks.include_customer": False,
    # Not in the settings screen: for tests, local demos and operators.
    "order_visibility_webhooks.allow_private_targets": False,
    "order_visibility_webhooks.lease_minutes": 30,
    "order_visibility_webhooks.disable_after_failures": 10,
    "order_visibility_webhooks.disable_after_minutes": 60,
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ov_webhook_timeout = fields.Integer(
        string="Webhook Timeout (seconds)",
        config_parameter="order_visibility_webhooks.timeout",
        default=WEBHOOK_PARAM_DEFAULTS["order_visibility_webhooks.timeout"],
        help="Default time a receiver has to answer one delivery; endpoints may override it.",
    )
    ov_webhook_max_attempts = fields.Integer(
        string="Webhook Max Attempts",
        config_parameter="order_visibility_webhooks.max_attempts",
        default=WEBHOOK_PARAM_DEFAULTS["order_visibility_webhooks.max_attempts"],
        help="Attempts before a delivery is dead-lettered (the first try plus retries).",
    )
    ov_webhook_retention_days = fields.Integer(
        string="Delivery Log Retention (days)",
        config_parameter="order_visibility_webhooks.retention_days",
        default=WEBHOOK_PARAM_DEFAULTS["order_visibility_webhooks.retention_days"],
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

    @api.model
    def _get_webhook_param(self, key):
        """Typed value of a webhooks system parameter, or its default.

        Booleans are on for 1, true, yes or on (any case); a number that does
        not parse falls back to the default.
        """
        default = WEBHOOK_PARAM_DEFAULTS[key]
        raw = self.env["ir.config_parameter"].sudo().get_param(key)
        if raw in (None, False, ""):
            return default
        if isinstance(default, bool):
            return str(raw).strip().lower() in ("1", "true", "yes", "on")
        try:
            return type(default)(raw)
        except (TypeError, ValueError):
            return default
