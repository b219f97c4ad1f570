# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class OrderVisibilityExpediteWizard(models.TransientModel):
    _name = "order.visibility.expedite.wizard"
    _description = "Request Expedited Freight"

    visibility_id = fields.Many2one("order.visibility", required=True, ondelete="cascade")
    sale_order_id = fields.Many2one(related="visibility_id.sale_order_id")
    order_currency_id = fields.Many2one(related="visibility_id.currency_id", string="Order Currency")
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self._default_currency(),
        help="The cost must be given in the order's currency.",
    )
    cost = fields.Monetary(string="Estimated Cost", currency_field="currency_id", required=True)
    note = fields.Text(help="Why the order needs expedited freight; logged on the request.")
    margin_before = fields.Float(related="visibility_id.margin_percent", string="Margin Now (%)")
    margin_after = fields.Float(string="Margin After (%)", compute="_compute_margin_after", digits=(16, 2))

    @api.model
    def _default_currency(self):
        visibility = self.env["order.visibility"].browse(self.env.context.get("default_visibility_id"))
        return visibility.exists().sudo().currency_id or self.env.company.currency_id

    @api.depends("cost", "visibility_id")
    def _compute_margin_after(self):
        for wizard in self:
            wizard.margin_after = wizard.visibility_id._margin_after_cost(wizard.cost) if wizard.visibility_id else 0.0

    def action_confirm(self):
        self.ensure_one()
        self.visibility_id.action_request_expedite(self.cost, self.note, currency_id=self.currency_id.id)
        return {"type": "ir.actions.act_window_close"}
