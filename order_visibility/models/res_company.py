# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ov_auto_customer_updates = fields.Boolean(
        string="Send Customer Updates Automatically",
        help="Order Visibility sends the order update of orders at risk or late by itself, to customers flagged "
        "for automatic updates. Off: updates are only drafted, a person sends them.",
    )
