# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A step of an order's returns lifecycle (requested, received, refunded,
replaced): kept by the engine (see order_visibility_returns.py), shown on
the order's timeline next to its stage changes."""

from odoo import fields, models

from ..tools.constants import RETURN_STATES


class OrderVisibilityReturnStep(models.Model):
    _name = "order.visibility.return.step"
    _description = "Order Return Step"
    _order = "changed_at desc, id desc"
    _check_company_auto = True

    visibility_id = fields.Many2one("order.visibility", required=True, readonly=True, ondelete="cascade", index=True)
    sale_order_id = fields.Many2one(related="visibility_id.sale_order_id", string="Order", store=True)
    company_id = fields.Many2one(related="visibility_id.company_id", store=True, index=True)
    from_state = fields.Selection(RETURN_STATES, string="From", readonly=True)
    to_state = fields.Selection(RETURN_STATES, string="To", required=True, readonly=True)
    changed_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="By", readonly=True, default=lambda self: self.env.uid)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    returned_qty = fields.Float(string="Returned Quantity", digits="Product Unit", readonly=True)
    returned_value = fields.Monetary(currency_field="company_currency_id", readonly=True)
    note = fields.Char(readonly=True, help="The transfers and credit notes of the step, as written when it happened.")
