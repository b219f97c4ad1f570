# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Default of every threshold, keyed by its ir.config_parameter.  Code that
# reads a threshold goes through ``_get_visibility_param`` so that a missing
# or unparsable parameter falls back to the same value the Settings show.
PARAM_DEFAULTS = {
    # Governance rules change what Odoo does (a confirmation waits for an
    # approval, a delivery is refused): each is off until an admin switches
    # it on, like Odoo's own purchase double validation.
    "order_visibility.approve_high_value": False,
    "order_visibility.approve_low_margin": False,
    "order_visibility.hold_overdue": False,
    "order_visibility.high_value_amount": 50000.0,
    "order_visibility.min_margin_percent": 10.0,
    "order_visibility.use_credit_limit": False,
    "order_visibility.overdue_days": 30,
    "order_visibility.late_grace_hours": 24,
    "order_visibility.stale_quotation_days": 14,
    "order_visibility.stale_order_days": 7,
    "order_visibility.invoice_lag_days": 3,
    "order_visibility.at_risk_threshold": 60,
    "order_visibility.sweep_interval_minutes": 15,
    "order_visibility.transfer_wait_hours": 36,
    "order_visibility.expedite_manager_amount": 500.0,
    # A snooze hides an exception: longer than this, it would be a resolve
    # without a manager.
    "order_visibility.max_snooze_days": 14,
    # Hours after the first promise within which a shipment still counts as on time.
    "order_visibility.otif_grace_hours": 0,
    # Returns: an authorization above an amount (a governance rule, off
    # until switched on); follow-up exceptions after N days (0: off).
    "order_visibility.approve_returns": False,
    "order_visibility.return_approval_amount": 1000.0,
    "order_visibility.return_receipt_days": 0,
    "order_visibility.refund_days": 0,
    # Measured orders of the last 90 days a customer needs before its OTIF
    # target can be breached: fewer say too little.
    "order_visibility.otif_breach_min_orders": 10,
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ov_approve_high_value = fields.Boolean(
        string="Approve High-Value Orders",
        config_parameter="order_visibility.approve_high_value",
        default=PARAM_DEFAULTS["order_visibility.approve_high_value"],
        help="Orders whose untaxed amount reaches the high-value amount need an approval before confirmation.",
    )
    ov_approve_low_margin = fields.Boolean(
        string="Approve Low-Margin Orders",
        config_parameter="order_visibility.approve_low_margin",
        default=PARAM_DEFAULTS["order_visibility.approve_low_margin"],
        help="Orders whose margin is below the minimum margin need an approval before confirmation.",
    )
    ov_hold_overdue = fields.Boolean(
        string="Hold Orders With Overdue Receivables",
        config_parameter="order_visibility.hold_overdue",
        default=PARAM_DEFAULTS["order_visibility.hold_overdue"],
        help="Put confirmed orders of customers with receivables overdue beyond the threshold on credit hold.",
    )
    ov_high_value_amount = fields.Float(
        string="High-Value Amount",
        config_parameter="order_visibility.high_value_amount",
        default=PARAM_DEFAULTS["order_visibility.high_value_amount"],
        help="Untaxed amount (company currency) from which an order needs an approval before "
        "confirmation, when that rule is on.",
    )
    ov_min_margin_percent = fields.Float(
        string="Minimum Margin (%)",
        config_parameter="order_visibility.min_margin_percent",
        default=PARAM_DEFAULTS["order_visibility.min_margin_percent"],
        help="Orders below this margin open a margin exception; when the approval rule is on, "
        "they also need an approval before confirmation.",
    )
    ov_use_credit_limit = fields.Boolean(
        string="Hold Orders Over Credit Limit",
        config_parameter="order_visibility.use_credit_limit",
        default=PARAM_DEFAULTS["order_visibility.use_credit_limit"],
        help="Put confirmed orders of customers over their credit limit on credit hold.",
    )
    ov_overdue_days = fields.Integer(
        string="Overdue Receivables (days)",
        config_parameter="order_visibility.overdue_days",
        default=PARAM_DEFAULTS["order_visibility.overdue_days"],
        help="When that rule is on, customers with posted invoices overdue by more than this many "
        "days have their orders put on credit hold.",
    )
    ov_late_grace_hours = fields.Integer(
        string="Late Shipment Grace (hours)",
        config_parameter="order_visibility.late_grace_hours",
        default=PARAM_DEFAULTS["order_visibility.late_grace_hours"],
        help="Hours after the promised date before an unshipped order is reported late.",
    )
    ov_stale_quotation_days = fields.Integer(
        string="Stale Quotation (days)",
        config_parameter="order_visibility.stale_quotation_days",
        default=PARAM_DEFAULTS["order_visibility.stale_quotation_days"],
    )
    ov_stale_order_days = fields.Integer(
        string="Stale Order (days)",
        config_parameter="order_visibility.stale_order_days",
        default=PARAM_DEFAULTS["order_visibility.stale_order_days"],
        help="A confirmed order whose stage has not changed for this many days is reported stale.",
    )
    ov_invoice_lag_days = fields.Integer(
        string="Invoice Lag (days)",
        config_parameter="order_visibility.invoice_lag_days",
        default=PARAM_DEFAULTS["order_visibility.invoice_lag_days"],
        help="Days a delivered order may wait for its invoice before an exception opens.",
    )
    ov_at_risk_threshold = fields.Integer(
        string="At-Risk Score",
        config_parameter="order_visibility.at_risk_threshold",
        default=PARAM_DEFAULTS["order_visibility.at_risk_threshold"],
        help="Orders whose risk score (0-100) reaches this value count as at risk.",
    )

    ov_sweep_interval_minutes = fields.Integer(
        string="Sweep Interval (minutes)",
        config_parameter="order_visibility.sweep_interval_minutes",
        default=PARAM_DEFAULTS["order_visibility.sweep_interval_minutes"],
        help="How often the exception sweep runs (its scheduled action follows this value).",
    )

    ov_transfer_wait_hours = fields.Integer(
        string="Fulfilment Review (hours)",
        config_parameter="order_visibility.transfer_wait_hours",
        default=PARAM_DEFAULTS["order_visibility.transfer_wait_hours"],
        help="Transfers of orders still not shipped this many hours after their scheduled date, and credit holds "
        "unresolved as long, open a fulfilment review exception.",
    )
    ov_expedite_manager_amount = fields.Float(
        string="Expedite Manager Approval Above",
        config_parameter="order_visibility.expedite_manager_amount",
        default=PARAM_DEFAULTS["order_visibility.expedite_manager_amount"],
        help="Expedited freight up to this cost (company currency) may be approved by Order Visibility users; "
        "above it only by managers.",
    )
    ov_max_snooze_days = fields.Integer(
        string="Longest Snooze (days)",
        config_parameter="order_visibility.max_snooze_days",
        default=PARAM_DEFAULTS["order_visibility.max_snooze_days"],
        help="An exception can be snoozed for at most this many days; to close it for good, a manager resolves it.",
    )
    ov_otif_grace_hours = fields.Integer(
        string="On-Time Grace (hours)",
        config_parameter="order_visibility.otif_grace_hours",
        default=PARAM_DEFAULTS["order_visibility.otif_grace_hours"],
        help="Hours after the first promise within which the last goods still leave on time "
        "(service levels: on time, OTIF, fill rate).",
    )
    ov_otif_breach_min_orders = fields.Integer(
        string="Minimum Orders for a Breach",
        config_parameter="order_visibility.otif_breach_min_orders",
        default=PARAM_DEFAULTS["order_visibility.otif_breach_min_orders"],
        help="A customer's OTIF under its target opens a service level breach only with at least this many "
        "measured orders in the last 90 days.",
    )
    ov_approve_returns = fields.Boolean(
        string="Authorize Returns",
        config_parameter="order_visibility.approve_returns",
        default=PARAM_DEFAULTS["order_visibility.approve_returns"],
        help="Returns whose value is above the return amount need an authorization before they are received.",
    )
    ov_return_approval_amount = fields.Float(
        string="Return Authorization Above",
        config_parameter="order_visibility.return_approval_amount",
        default=PARAM_DEFAULTS["order_visibility.return_approval_amount"],
        help="Returned value (untaxed, company currency) above which a return needs an authorization, "
        "when that rule is on.",
    )
    ov_return_receipt_days = fields.Integer(
        string="Return Not Received (days)",
        config_parameter="order_visibility.return_receipt_days",
        default=PARAM_DEFAULTS["order_visibility.return_receipt_days"],
        help="A return requested this many days ago whose goods are not back opens an exception (0: off).",
    )
    ov_refund_days = fields.Integer(
        string="Refund Overdue (days)",
        config_parameter="order_visibility.refund_days",
        default=PARAM_DEFAULTS["order_visibility.refund_days"],
        help="Goods back this many days ago and not refunded open an exception (0: off).",
    )
    ov_auto_customer_updates = fields.Boolean(
        related="company_id.ov_auto_customer_updates",
        readonly=False,
        string="Send Customer Updates Automatically",
    )

    @api.constrains(
        "ov_transfer_wait_hours",
        "ov_expedite_manager_amount",
        "ov_approve_high_value",
        "ov_sweep_interval_minutes",
        "ov_high_value_amount",
        "ov_min_margin_percent",
        "ov_overdue_days",
        "ov_late_grace_hours",
        "ov_stale_quotation_days",
        "ov_stale_order_days",
        "ov_invoice_lag_days",
        "ov_at_risk_threshold",
        "ov_max_snooze_days",
        "ov_otif_grace_hours",
        "ov_otif_breach_min_orders",
        "ov_return_approval_amount",
        "ov_return_receipt_days",
        "ov_refund_days",
    )
    def _check_order_visibility_thresholds(self):
        for settings in self:
            if settings.ov_high_value_amount < 0:
                raise ValidationError(self.env._("The high-value amount cannot be negative."))
            if settings.ov_approve_high_value and not settings.ov_high_value_amount:
                raise ValidationError(
                    self.env._("Set the high-value amount above 0 to require approvals of high-value orders.")
                )
            if not 0 <= settings.ov_min_margin_percent <= 100:
                raise ValidationError(self.env._("The minimum margin must be between 0 and 100 %."))
            if settings.ov_expedite_manager_amount < 0:
                raise ValidationError(self.env._("The expedite amount managers approve above cannot be negative."))
            for field_name in (
                "ov_overdue_days",
                "ov_late_grace_hours",
                "ov_invoice_lag_days",
                "ov_transfer_wait_hours",
                "ov_otif_grace_hours",
                "ov_return_approval_amount",
                "ov_return_receipt_days",
                "ov_refund_days",
            ):
                if settings[field_name] < 0:
                    raise ValidationError(
                        self.env._(
                            "%(setting)s cannot be negative.",
                            setting=settings._fields[field_name]._description_string(self.env),
                        )
                    )
            if settings.ov_otif_breach_min_orders < 1:
                raise ValidationError(self.env._("The minimum orders for a service level breach must be at least 1."))
            for field_name in ("ov_stale_quotation_days", "ov_stale_order_days", "ov_max_snooze_days"):
                if settings[field_name] <= 0:
                    raise ValidationError(
                        self.env._(
                            "%(setting)s must be at least 1 day.",
                            setting=settings._fields[field_name]._description_string(self.env),
                        )
                    )
            if not 0 <= settings.ov_at_risk_threshold <= 100:
                raise ValidationError(self.env._("The at-risk score must be between 0 and 100."))
            if settings.ov_sweep_interval_minutes < 1:
                raise ValidationError(self.env._("The sweep interval must be at least 1 minute."))

    def set_values(self):
        params = self.env["ir.config_parameter"].sudo()
        before = {key: params.get_param(key) for key in PARAM_DEFAULTS}
        res = super().set_values()
        changes = []
        for key in PARAM_DEFAULTS:
            after = params.get_param(key)
            if (before[key] or False) != (after or False):
                changes.append({"key": key, "old_value": before[key] or "", "new_value": after or ""})
        if changes:
            self.env["order.visibility.settings.log"].sudo().create(changes)
        cron = self.env.ref("order_visibility.ir_cron_exception_sweep", raise_if_not_found=False)
        minutes = self.ov_sweep_interval_minutes
        if cron and (cron.interval_type, cron.interval_number) != ("minutes", minutes):
            cron.sudo().write({"interval_type": "minutes", "interval_number": minutes})
        return res

    @api.model
    def _get_visibility_param(self, key):
        """Typed value of an Order Visibility threshold, or its default."""
        default = PARAM_DEFAULTS[key]
        raw = self.env["ir.config_parameter"].sudo().get_param(key)
        if raw in (None, False, ""):
            return default
        if isinstance(default, bool):
            return raw not in ("False", "false", "0")  # Odoo stores True as "True"
        try:
            return type(default)(raw)
        except ValueError:
            return default
