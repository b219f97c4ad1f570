# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

from .sale_order import automatic_confirmation


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _check_amount_and_confirm_order(self):
        # The customer paid: Odoo confirms the order, and an approval a
        # switched-on rule requires becomes a review after the fact.
        with automatic_confirmation():
            return super()._check_amount_and_confirm_order()
