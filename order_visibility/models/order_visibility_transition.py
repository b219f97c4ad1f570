# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

from ..tools.constants import CAUSES, STAGES


class OrderVisibilityTransition(models.Model):
    _name = "order.visibility.transition"
    _description = "Order Stage Transition"
    _order = "changed_at desc, id desc"

    visibility_id = fields.Many2one("order.visibility", required=True, ondelete="cascade", index=True, readonly=True)
    # Precomputed: filled in the INSERT of the engine's batch rather than by an
    # UPDATE of the same rows when the transaction flushes.
    sale_order_id = fields.Many2one(
        related="visibility_id.sale_order_id", string="Order", store=True, index=True, precompute=True
    )
    company_id = fields.Many2one(related="visibility_id.company_id", store=True, index=True, precompute=True)
    from_stage = fields.Selection(STAGES, readonly=True)
    to_stage = fields.Selection(STAGES, required=True, readonly=True)
    changed_at = fields.Datetime(required=True, readonly=True, index=True)
    cause = fields.Selection(
        CAUSES, readonly=True, help="What triggered the change (confirmation, delivery, payment, ...)."
    )
    duration_hours = fields.Float(
        string="Hours in Previous Stage",
        readonly=True,
        aggregator="avg",
        help="Time the order spent in the stage it left.",
    )
    user_id = fields.Many2one("res.users", string="By", readonly=True, default=lambda self: self.env.uid)

    _to_stage_changed_idx = models.Index("(to_stage, changed_at)")
