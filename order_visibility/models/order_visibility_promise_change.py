# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A change of an order's promised date after its first confirmation: kept
by the engine (see order_visibility_service_level.py), read by users."""

from odoo import fields, models

from ..tools.constants import PROMISE_CAUSES


class OrderVisibilityPromiseChange(models.Model):
    _name = "order.visibility.promise.change"
    _description = "Order Promise Change"
    _order = "changed_at desc, id desc"
    _check_company_auto = True

    visibility_id = fields.Many2one("order.visibility", required=True, readonly=True, ondelete="cascade", index=True)
    sale_order_id = fields.Many2one(related="visibility_id.sale_order_id", string="Order", store=True)
    company_id = fields.Many2one(related="visibility_id.company_id", store=True, index=True)
    old_date = fields.Datetime(string="Promised Before", readonly=True)
    new_date = fields.Datetime(string="Promised Now", readonly=True)
    changed_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    changed_by = fields.Many2one("res.users", string="By", readonly=True, default=lambda self: self.env.uid)
    cause = fields.Selection(
        PROMISE_CAUSES,
        required=True,
        default="other",
        readonly=True,
        help="What moved the promise: the cause given in Move Promise (customer request, supplier delay, other); "
        "else what the server can tell: a purchase feeding the order planned after the old promise (supplier "
        "delay), the carrier's new ETA after it (carrier ETA), an edit of the order (its delivery date, or lines "
        "whose lead time moves the expected date).",
    )
