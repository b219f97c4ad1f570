# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

from .order_visibility import PRIORITIES


class ResPartner(models.Model):
    _inherit = "res.partner"

    ov_priority = fields.Selection(
        PRIORITIES,
        string="Customer Priority",
        default="0",
        help="Used by Order Visibility for SLA targets and the risk score of this customer's orders.",
    )
