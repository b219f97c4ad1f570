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

    def action_confirm(self):
        """Confirm, unless a threshold requires an approval first.

        Orders that need an approval get a pending request (once) and stay
        quotations; the others are confirmed, then the credit policy may
        put them on hold. Either way nothing is half-done: the request and
        the confirmation of the other orders commit together.
        """
        Visibility = self.env["order.visibility"].sudo()
        blocked = self.browse()
        for order in self.filtered(lambda o: o.state in ("draft", "sent")):
            # Salespeople need no Order Visibility group to confirm: read the approvals as the engine.
            approvals = order.sudo().visibility_ids.approval_ids
            approved = approvals.filtered(lambda a: a.state == "approved").mapped("reason")
            needed = [(r, d) for r, d in Visibility._approvals_needed(order) if r not in approved]
            if needed:
                visibility = Visibility._ensure_for_orders(order)
                for reason, detail in needed:
                    self.env["order.visibility.approval"]._request(visibility, reason, detail)
                blocked |= order
        to_confirm = self - blocked
        result = super(SaleOrder, to_confirm).action_confirm() if to_confirm else True
        if to_confirm:
            to_confirm._apply_credit_policy()
        if blocked:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "warning",
                    "sticky": False,
                    "title": self.env._("Approval required"),
                    "message": self.env._(
                        "%(orders)s must be approved before confirmation; the approvers have been notified.",
                        orders=", ".join(blocked.mapped("name")),
                    ),
                    "next": {"type": "ir.actions.client", "tag": "soft_reload"},
                },
            }
        return result

    def _apply_credit_policy(self):
        Visibility = self.env["order.visibility"].sudo()
        reasons = Visibility._credit_hold_reasons(self.filtered(lambda o: o.state == "sale"))
        if not reasons:
            return
        held = self.browse(list(reasons))
        visibilities = Visibility._ensure_for_orders(held)
        for visibility in visibilities:
            visibility.write({"credit_hold": True, "credit_hold_reason": reasons[visibility.sale_order_id.id]})
        Visibility._schedule_recompute(held, "credit hold")

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
