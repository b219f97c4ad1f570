# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools.transaction import forget, kept
from .sale_order import APPROVAL_MODE_KEY

# cr.cache key of _approved_expedite_costs: {sale order id: cost}
EXPEDITE_COSTS_KEY = "order_visibility.expedite_costs"

APPROVAL_REASONS = [
    ("high_value", "High value"),
    ("low_margin", "Low margin"),
    ("credit_release", "Credit hold release"),
    ("expedite", "Expedited freight"),
    ("return_authorization", "Return authorization"),
]
APPROVAL_STATES = [
    ("pending", "Pending"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
]


class OrderVisibilityApproval(models.Model):
    _name = "order.visibility.approval"
    _description = "Order Approval Request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "requested_at desc, id desc"
    _check_company_auto = True
    _mail_post_access = "read"

    name = fields.Char(compute="_compute_name", store=True)
    visibility_id = fields.Many2one("order.visibility", required=True, readonly=True, ondelete="cascade", index=True)
    sale_order_id = fields.Many2one(related="visibility_id.sale_order_id", string="Order", store=True, index=True)
    company_id = fields.Many2one(related="visibility_id.company_id", store=True, index=True)
    salesperson_id = fields.Many2one(related="sale_order_id.user_id", string="Salesperson")
    team_leader_id = fields.Many2one(related="sale_order_id.team_id.user_id", string="Team Leader")
    reason = fields.Selection(APPROVAL_REASONS, required=True, readonly=True)
    detail = fields.Char(readonly=True, help="The figures that triggered the request.")
    requested_by = fields.Many2one("res.users", required=True, readonly=True, default=lambda self: self.env.user)
    requested_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    state = fields.Selection(
        APPROVAL_STATES, required=True, default="pending", readonly=True, tracking=True, index=True
    )
    decided_by = fields.Many2one("res.users", readonly=True, check_company=True)
    decided_at = fields.Datetime(readonly=True)
    note = fields.Text(readonly=True, help="Why it was approved or rejected.")
    is_review = fields.Boolean(
        string="Review After the Fact",
        readonly=True,
        help="Odoo confirmed the order by itself (online payment, portal signature) while this approval was "
        "required: the approvers review the decision after the fact instead of holding the order.",
    )
    can_decide = fields.Boolean(compute="_compute_can_decide")
    currency_id = fields.Many2one(related="sale_order_id.currency_id")
    expedite_cost = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        help="Estimated cost of the expedited freight, in the order's currency.",
    )
    margin_before = fields.Float(
        string="Margin Before (%)", digits=(16, 2), readonly=True, help="The order's margin when requested."
    )
    margin_after = fields.Float(
        string="Margin After (%)",
        digits=(16, 2),
        readonly=True,
        help="The order's margin once the expedite cost is counted.",
    )
    # What an approval approved: a later confirmation outside these figures
    # asks again (sale.order._visibility_approvals_needed).
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    amount_company = fields.Monetary(
        string="Amount Approved",
        currency_field="company_currency_id",
        readonly=True,
        help="The order's untaxed amount in the company's currency when requested: an approval of a high-value "
        "order covers this amount, no more.",
    )
    margin_approved = fields.Float(
        string="Margin Approved (%)",
        digits=(16, 2),
        readonly=True,
        help="The order's margin when requested: an approval of a low-margin order covers this margin, no lower.",
    )

    _one_pending_uniq = models.UniqueIndex(
        "(visibility_id, reason) WHERE state = 'pending'",
        "This approval is already requested for this order.",
    )

    @api.depends("sale_order_id.name", "reason")
    def _compute_name(self):
        labels = dict(self._fields["reason"]._description_selection(self.env))
        for approval in self:
            approval.name = f"{approval.sale_order_id.name or ''}: {labels.get(approval.reason, '')}"

    @api.depends_context("uid")
    def _compute_can_decide(self):
        for approval in self:
            approval.can_decide = approval.state == "pending" and not approval._decision_refusal()

    def _decision_refusal(self):
        """Why the current user may not decide this request, or None."""
        self.ensure_one()
        user = self.env.user
        if not user.has_group("order_visibility.group_order_visibility_manager"):
            if self.reason != "expedite":
                return self.env._("Only Order Visibility managers can decide approvals.")
            if not user.has_group("order_visibility.group_order_visibility_user") or self._expedite_needs_manager():
                return self.env._(
                    "Only Order Visibility managers can approve expedited freight above %(amount)s %(currency)s.",
                    amount=f"{self.env['order.visibility']._param('order_visibility.expedite_manager_amount'):,.2f}",
                    currency=self.company_id.currency_id.name,
                )
        if user == self.requested_by:
            return self.env._("You requested this approval: another approver must decide it.")
        # Approvers need not have Sales rights: read the order as the related fields do.
        if user == self.salesperson_id:
            return self.env._(
                "You are the salesperson of %(order)s: another approver must decide it.",
                order=self.sale_order_id.sudo().name,
            )
        return None

    def _check_can_decide(self):
        for approval in self:
            if approval.state != "pending":
                raise UserError(self.env._("%(name)s is already decided.", name=approval.name))
            if refusal := approval._decision_refusal():
                raise AccessError(refusal)

    def _covers(self, amount, margin):
        """Whether this approved request covers an order now at ``amount``
        (untaxed, company currency) and ``margin`` (percent)."""
        self.ensure_one()
        if self.state != "approved":
            return False
        if self.reason == "high_value":
            return self.company_currency_id.compare_amounts(amount, self.amount_company) <= 0
        if self.reason == "low_margin":
            return round(margin, 2) >= round(self.margin_approved, 2)
        return True

    def _exception_detail(self):
        """Detail of the approval_pending exception this request keeps open."""
        self.ensure_one()
        if self.is_review:
            return self.env._("%(name)s: confirmed without this approval, to review", name=self.name)
        return self.name

    @api.model
    def _approved_expedite_costs(self, records):
        """{id: approved expedite cost, order currency} of ``records``: sales
        orders or their visibility records (the margin, the risk score and
        the record's ``expedite_cost`` read it).

        Kept for the transaction per order (``cr.cache``, dropped by any
        change of an approval): one pass of the engine reads the margin and
        the risk of the same orders, a confirmation checks the margin first.
        """
        memo = self._kept_expedite_costs()
        order_of = (
            {order.id: order.id for order in records}
            if records._name == "sale.order"
            else {visibility.id: visibility.sale_order_id.id for visibility in records}
        )
        missing = [order_id for order_id in set(order_of.values()) if order_id not in memo]
        if missing:
            memo.update(dict.fromkeys(missing, 0.0))
            for order, cost in self.sudo()._read_group(
                [("sale_order_id", "in", missing), ("reason", "=", "expedite"), ("state", "=", "approved")],
                ["sale_order_id"],
                ["expedite_cost:sum"],
            ):
                memo[order.id] = cost
        return {record_id: memo[order_id] for record_id, order_id in order_of.items() if memo[order_id]}

    @api.model
    def _kept_expedite_costs(self):
        """{sale order id: approved expedite cost} kept for the transaction
        (see _approved_expedite_costs; the margin's query fills it too)."""
        # Pending changes of approvals reach the database first (dropping the
        # costs kept, see _write_multi); nothing pending costs no query.
        self.flush_model(["sale_order_id", "reason", "state", "expedite_cost"])
        return kept(self.env.cr, EXPEDITE_COSTS_KEY)

    # Any approval written to the database, created or deleted drops the
    # transaction's expedite costs (read again by the next call). Private
    # hooks of the ORM's low level: no public method to call over RPC.
    def _create(self, data_list):
        forget(self.env.cr, EXPEDITE_COSTS_KEY)
        return super()._create(data_list)

    def _write_multi(self, vals_list):
        forget(self.env.cr, EXPEDITE_COSTS_KEY)
        return super()._write_multi(vals_list)

    @api.ondelete(at_uninstall=True)
    def _forget_expedite_costs(self):
        forget(self.env.cr, EXPEDITE_COSTS_KEY)

    def _expedite_needs_manager(self):
        """Whether the expedite cost is above the amount Users may approve (company currency)."""
        self.ensure_one()
        limit = self.env["order.visibility"]._param("order_visibility.expedite_manager_amount")
        order = self.sale_order_id.sudo()
        cost = order.currency_id._convert(
            self.expedite_cost, order.company_id.currency_id, order.company_id, fields.Date.context_today(self)
        )
        return cost > limit

    @api.model
    def _request(self, visibility, reason, detail, review=False, values=None):
        """Open a pending request (once) and tell the approvers.

        ``review``: the order is confirmed already; the request is a review
        after the fact (it does not hold the order).
        """
        self = self.sudo()
        existing = self.search(
            [("visibility_id", "=", visibility.id), ("reason", "=", reason), ("state", "=", "pending")]
        )
        if existing:
            return existing
        approval = self.with_context(mail_create_nolog=True).create(
            {
                "visibility_id": visibility.id,
                "reason": reason,
                "detail": detail,
                "requested_by": self.env.uid,
                "is_review": review,
                **(values or {}),
            }
        )
        approvers = self.env.ref("order_visibility.group_order_visibility_manager").all_user_ids.filtered(
            lambda u: u.active and not u.share and visibility.company_id in u.company_ids
        )
        if review:
            body = self.env._("Confirmed without approval, review requested: %(detail)s", detail=detail)
        else:
            body = self.env._("Approval requested: %(detail)s", detail=detail)
        approval.message_post(
            body=body,
            partner_ids=approvers.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        approval._notify_decision("requested")
        self.env["order.visibility"]._schedule_recompute(visibility.sale_order_id, "approval_requested")
        return approval

    def action_approve(self, note=None):
        """Approve (segregation of duties enforced): the order proceeds."""
        self.check_access("read")
        self._check_can_decide()
        self.sudo().write(
            {"state": "approved", "decided_by": self.env.uid, "decided_at": fields.Datetime.now(), "note": note}
        )
        for approval in self:
            # The approver reads the request: they post as themselves; the
            # order's side (which they may not read) runs as the engine.
            approval.message_post(
                body=self.env._("Approved by %(user)s. %(note)s", user=self.env.user.name, note=note or ""),
                subtype_xmlid="mail.mt_note",
            )
            approval.sudo()._apply_approval()
        self._notify_decision("approved")
        return True

    def action_reject(self, note=None):
        """Reject with a reason: the order stays blocked."""
        if not (note or "").strip():
            raise ValidationError(self.env._("Give the reason of the rejection."))
        self.check_access("read")
        self._check_can_decide()
        self.sudo().write(
            {"state": "rejected", "decided_by": self.env.uid, "decided_at": fields.Datetime.now(), "note": note}
        )
        for approval in self:
            body = self.env._(
                "%(name)s rejected by %(user)s: %(note)s", name=approval.name, user=self.env.user.name, note=note
            )
            approval.message_post(body=body, subtype_xmlid="mail.mt_note")
            order = approval.sudo().sale_order_id
            order.message_post(body=body, subtype_xmlid="mail.mt_note")
            if approval.is_review and order.user_id:
                # The order went ahead: its salesperson decides what to do about it.
                order.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=order.user_id.id,
                    summary=self.env._("Review rejected: %(name)s", name=approval.name),
                    note=note,
                )
            self.env["order.visibility"]._schedule_recompute(order, "approval_rejected")
        self._notify_decision("rejected")
        return True

    def _apply_approval(self):
        self.ensure_one()
        order = self.sale_order_id
        if self.reason == "expedite":
            self._apply_expedite()
            return
        if self.reason == "return_authorization":
            # The return transfer may be received now (stock.picking.button_validate).
            order.message_post(
                body=self.env._("Return authorized by %(user)s.", user=self.env.user.name),
                subtype_xmlid="mail.mt_note",
            )
            self.env["order.visibility"]._schedule_recompute(order, "approval_granted")
            return
        if self.reason == "credit_release":
            self.visibility_id.write({"credit_hold": False, "credit_hold_reason": False})
            order.message_post(
                body=self.env._("Credit hold released by %(user)s.", user=self.env.user.name),
                subtype_xmlid="mail.mt_note",
            )
            self.env["order.visibility"]._schedule_recompute(order, "credit_hold_released")
            return
        pending = self.visibility_id.approval_ids.filtered(lambda a: a.state == "pending" and a != self)
        if not pending and order.state in ("draft", "sent"):
            # Confirm as the requester would have: the approval unblocks them.
            # Another rule may apply by now: request it, as the Confirm button would.
            order.with_user(self.requested_by).with_company(order.company_id).sudo().with_context(
                **{APPROVAL_MODE_KEY: "request"}
            ).action_confirm()
        else:
            self.env["order.visibility"]._schedule_recompute(order, "approval_granted")

    def _apply_expedite(self):
        """Approved: the cost counts in the margin from now on; the requester is told."""
        self.ensure_one()
        order = self.sale_order_id
        body = self.env._(
            "Expedited freight approved by %(user)s: %(cost)s %(currency)s counted in the margin "
            "(%(before).1f %% to %(after).1f %%).",
            user=self.env.user.name,
            cost=f"{self.expedite_cost:,.2f}",
            currency=self.currency_id.name,
            before=self.margin_before,
            after=self.margin_after,
        )
        order.message_post(body=body, subtype_xmlid="mail.mt_note")
        self.message_post(
            body=body,
            partner_ids=self.requested_by.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.env["order.visibility"]._schedule_recompute(order, "approval_granted")

    def _notify_decision(self, event):
        """Hook for webhooks: ``event`` is requested, approved or rejected."""

    def action_open_order(self):
        self.ensure_one()
        self.check_access("read")
        return self.visibility_id.action_open_sale_order()
