# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Move Promise: a user moves an order's promised date (its delivery date)
and says why; the engine logs the change with that cause."""

from odoo import api, fields, models
from odoo.exceptions import UserError

# The causes a user can give; the engine finds the others itself.
DECLARED_CAUSES = [
    ("customer_request", "Customer request"),
    ("supplier_delay", "Supplier delay"),
    ("other", "Other"),
]


class OrderVisibilityPromiseWizard(models.TransientModel):
    _name = "order.visibility.promise.wizard"
    _description = "Move Promise"

    visibility_id = fields.Many2one("order.visibility", required=True, ondelete="cascade")
    sale_order_id = fields.Many2one(related="visibility_id.sale_order_id")
    promised_date = fields.Datetime(related="visibility_id.promised_date", string="Promised Now")
    first_promised_date = fields.Datetime(related="visibility_id.first_promised_date")
    new_date = fields.Datetime(string="New Promise", required=True)
    cause = fields.Selection(
        DECLARED_CAUSES,
        required=True,
        default="customer_request",
        help="Why the promise moves: logged with the change, shown on the order and sent to the receivers of "
        "order.promise_changed.",
    )

    @api.onchange("visibility_id")
    def _onchange_visibility_id(self):
        if self.visibility_id and not self.new_date:
            self.new_date = self.visibility_id.promised_date

    def action_confirm(self):
        """Write the order's delivery date, as the user (their rights on the
        order), and log the change with the cause given."""
        self.ensure_one()
        order = self.visibility_id.sale_order_id
        order.check_access("write")
        if order.state != "sale":
            raise UserError(self.env._("Only the promise of a confirmed order can be moved."))
        if self.new_date == self.visibility_id.promised_date:
            raise UserError(self.env._("The new promise is the promise already: nothing to move."))
        self.env["order.visibility"]._declare_promise_cause(order, self.cause)
        order.write({"commitment_date": self.new_date})
        return {"type": "ir.actions.act_window_close"}
