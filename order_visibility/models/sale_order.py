# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from .order_visibility import STAGES

# sale.order fields whose change can move the canonical stage or the promise.
RECOMPUTE_FIELDS = {"state", "commitment_date", "picking_policy", "partner_id"}


class SaleOrder(models.Model):
    _inherit = "sale.order"

    visibility_ids = fields.One2many("order.visibility", "sale_order_id")
    # Mirror of order.visibility.stage, written by the engine, so that sales
    # lists can filter and group by it.
    visibility_stage = fields.Selection(
        STAGES,
        readonly=True,
        copy=False,
        index=True,
        help="The canonical stage kept by Order Visibility.",
    )
    visibility_transition_count = fields.Integer(compute="_compute_visibility_transition_count")

    def _compute_visibility_transition_count(self):
        counts = dict(
            self.env["order.visibility.transition"]
            .sudo()
            ._read_group([("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"])
        )
        for order in self:
            order.visibility_transition_count = counts.get(order._origin, 0)

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        self.env["order.visibility"]._schedule_recompute(orders, "order created")
        return orders

    def write(self, vals):
        res = super().write(vals)
        if RECOMPUTE_FIELDS.intersection(vals):
            cause = {
                "sale": "order confirmed",
                "cancel": "order cancelled",
                "draft": "order reset to quotation",
                "sent": "quotation sent",
            }.get(vals.get("state"), "order updated")
            self.env["order.visibility"]._schedule_recompute(self, cause)
        return res

    def action_view_visibility_timeline(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Timeline of %(order)s", order=self.name),
            "res_model": "order.visibility.transition",
            "view_mode": "list,form",
            "domain": [("sale_order_id", "=", self.id)],
            "context": {"create": False},
        }
