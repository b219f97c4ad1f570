# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.constants import OTIF_WINDOW_DAYS, PRIORITIES


class ResPartner(models.Model):
    _inherit = "res.partner"

    ov_priority = fields.Selection(
        PRIORITIES,
        string="Customer Priority",
        default="0",
        help="Used by Order Visibility for SLA targets and the risk score of this customer's orders.",
    )
    ov_auto_customer_updates = fields.Boolean(
        string="Automatic Order Updates",
        help="When the company sends customer updates automatically (Order Visibility settings), this customer "
        "receives them without a person clicking Send.",
    )
    ov_customer_update_opt_out = fields.Boolean(
        string="No Order Updates",
        help="This customer asked not to receive proactive order updates.",
    )
    ov_otif_target = fields.Float(
        string="OTIF Target (%)",
        digits=(16, 1),
        help="The share of this customer's orders (0-100) to ship on time and in full over the last 90 days. "
        "Below it, with enough measured orders (Settings), a service level breach opens for the account "
        "manager. Set on the company; its contacts follow it. 0: no target.",
    )
    ov_otif_rate = fields.Float(
        string="OTIF (90 days)",
        digits=(16, 1),
        compute="_compute_ov_otif",
        groups="order_visibility.group_order_visibility_user",
        help="Orders of this customer (the company and its contacts) whose goods all left in the last 90 days "
        "on time and in full, in percent of those measured orders.",
    )
    ov_measured_count = fields.Integer(
        string="Measured Orders (90 days)",
        compute="_compute_ov_otif",
        groups="order_visibility.group_order_visibility_user",
    )

    @api.model
    def _commercial_fields(self):
        return [*super()._commercial_fields(), "ov_otif_target"]

    @api.constrains("ov_otif_target")
    def _check_ov_otif_target(self):
        for partner in self:
            if not 0 <= partner.ov_otif_target <= 100:
                raise ValidationError(self.env._("The OTIF target must be between 0 and 100 %."))

    def _ov_measured_domain(self):
        """The measured orders of the last 90 days of the customers of ``self``
        (their commercial partners, contacts included)."""
        since = fields.Datetime.now() - timedelta(days=OTIF_WINDOW_DAYS)
        return [
            ("is_measured", "=", True),
            ("fully_shipped_date", ">=", since),
            ("partner_id.commercial_partner_id", "in", self.commercial_partner_id.ids),
        ]

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_ov_otif(self):
        """One grouped read for all the partners: measured orders and OTIF
        orders per commercial partner, in the companies the reader works in
        (the orders' company rule)."""
        counts = {}  # commercial partner id: [measured, otif]
        partners = self.filtered("id")
        if partners:
            for commercial, is_otif, count in self.env["order.visibility"]._read_group(
                partners._ov_measured_domain(), ["partner_id.commercial_partner_id", "is_otif"], ["__count"]
            ):
                figures = counts.setdefault(commercial.id, [0, 0])
                figures[0] += count
                figures[1] += count if is_otif else 0
        for partner in self:
            measured, otif = counts.get(partner.commercial_partner_id.id, (0, 0))
            partner.ov_measured_count = measured
            partner.ov_otif_rate = round(100.0 * otif / measured, 1) if measured else 0.0

    def action_view_ov_measured_orders(self):
        """The customer's measured orders of the last 90 days (the smart button)."""
        self.ensure_one()
        self.env["order.visibility"].check_access("read")
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("order_visibility.action_order_visibility")
        action.update(
            {
                "name": self.env._("Measured Orders (90 days)"),
                "domain": self._ov_measured_domain(),
                "context": {},
                "view_mode": "list,form",
                "views": [(False, "list"), (False, "form")],
            }
        )
        return action
