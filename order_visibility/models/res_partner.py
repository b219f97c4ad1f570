# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

from ..tools.constants import PRIORITIES


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
