# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Expedited freight: an approval of reason ``expedite`` whose approved cost
counts in the order's margin (see docs/user/exceptions.md, "Expedite approvals")."""

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    expedite_cost = fields.Monetary(
        string="Approved Expedite Cost",
        currency_field="currency_id",
        compute="_compute_expedite_cost",
        help="Expedited freight approved for this order, in its currency; counted in the margin.",
    )

    def _compute_expedite_cost(self):
        costs = self.env["order.visibility.approval"]._approved_expedite_costs(self)
        for visibility in self:
            visibility.expedite_cost = costs.get(visibility.id, 0.0)

    def _margin_after_cost(self, cost):
        """The margin (%) of the order once ``cost`` (order currency) is counted."""
        self.ensure_one()
        untaxed = self.sale_order_id.sudo().amount_untaxed
        if not untaxed:
            return 0.0
        return round(self.margin_percent - cost / untaxed * 100.0, 2)

    def action_request_expedite(self, cost, note, currency_id=None):
        """Ask for expedited freight of an estimated ``cost`` (order currency).

        ``currency_id``: the currency the cost is given in, when the caller
        says it; it must be the order's. Opens an approval of reason
        ``expedite`` (segregation of duties as for every approval), with the
        margin before and after the cost.
        """
        self.ensure_one()
        self.check_access("read")
        order = self.sale_order_id.sudo()
        if not self._has_goods_to_ship():
            raise UserError(
                self.env._(
                    "%(order)s is %(stage)s: expedited freight is requested for a confirmed order with goods "
                    "still to ship.",
                    order=order.name,
                    stage=self._stage_label(),
                )
            )
        try:
            cost = float(cost)
        except (TypeError, ValueError):
            raise ValidationError(self.env._("The expedite cost must be an amount.")) from None
        if cost <= 0:
            raise ValidationError(self.env._("The expedite cost must be positive."))
        currency_id = currency_id.id if isinstance(currency_id, models.BaseModel) else currency_id
        if currency_id and int(currency_id) != order.currency_id.id:
            raise ValidationError(
                self.env._(
                    "Give the expedite cost in the currency of %(order)s (%(currency)s).",
                    order=order.name,
                    currency=order.currency_id.name,
                )
            )
        if self.approval_ids.filtered(lambda a: a.reason == "expedite" and a.state == "pending"):
            raise UserError(self.env._("Expedited freight is already requested for %(order)s.", order=order.name))
        before = self.margin_percent
        after = self._margin_after_cost(cost)
        detail = self.env._(
            "Expedited freight %(cost)s %(currency)s: margin %(before).1f %% to %(after).1f %%",
            cost=f"{cost:,.2f}",
            currency=order.currency_id.name,
            before=before,
            after=after,
        )
        approval = self.env["order.visibility.approval"]._request(
            self,
            "expedite",
            detail,
            values={"expedite_cost": cost, "margin_before": before, "margin_after": after},
        )
        if (note or "").strip():
            approval.message_post(body=note.strip(), subtype_xmlid="mail.mt_note")
        return True

    def action_open_expedite_wizard(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Request Expedited Freight"),
            "res_model": "order.visibility.expedite.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_visibility_id": self.id},
        }
