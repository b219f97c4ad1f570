# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class OrderVisibilityFulfilmentWizard(models.TransientModel):
    _name = "order.visibility.fulfilment.wizard"
    _description = "Reassign the Fulfilment of an Order"

    visibility_id = fields.Many2one("order.visibility", required=True, readonly=True, ondelete="cascade")
    sale_order_id = fields.Many2one(related="visibility_id.sale_order_id")
    warehouse_id = fields.Many2one(related="visibility_id.warehouse_id", string="Current Warehouse")
    promised_date = fields.Datetime(related="visibility_id.promised_date", string="Promised Date Now")
    risk_score = fields.Integer(related="visibility_id.risk_score", string="Risk Score Now")
    option_ids = fields.One2many("order.visibility.fulfilment.wizard.option", "wizard_id", string="Options")

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        for wizard in wizards:
            options = wizard.visibility_id.get_fulfilment_options()
            products = (
                self.env["product.product"]
                .sudo()
                .browse({line["product_id"] for option in options for line in option["lines"]})
            )
            names = {product.id: product.display_name for product in products}
            self.env["order.visibility.fulfilment.wizard.option"].create(
                [
                    {
                        "wizard_id": wizard.id,
                        "sequence": rank,
                        "warehouse_id": option["warehouse_id"],
                        "covers_all": option["covers_all"],
                        "lines_summary": ", ".join(
                            f"{line['quantity']:g} {names[line['product_id']]}" for line in option["lines"]
                        ),
                        "new_promised_date": option["promised_date"],
                        "new_risk_score": option["risk_score"],
                    }
                    for rank, option in enumerate(options)
                ]
            )
        return wizards


class OrderVisibilityFulfilmentWizardOption(models.TransientModel):
    _name = "order.visibility.fulfilment.wizard.option"
    _description = "Fulfilment Option"
    _order = "sequence, id"

    wizard_id = fields.Many2one("order.visibility.fulfilment.wizard", required=True, ondelete="cascade")
    sequence = fields.Integer()
    warehouse_id = fields.Many2one("stock.warehouse", string="From Warehouse", required=True, readonly=True)
    covers_all = fields.Boolean(readonly=True, help="Every short line is served in full.")
    lines_summary = fields.Char(string="Lines Served", readonly=True)
    new_promised_date = fields.Datetime(string="Promised Date After", readonly=True)
    new_risk_score = fields.Integer(string="Risk Score After", readonly=True)

    def action_apply(self):
        self.ensure_one()
        self.wizard_id.visibility_id.apply_fulfilment_option(self.warehouse_id.id)
        return {"type": "ir.actions.act_window_close"}
