# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.sql import column_exists, table_exists

from ..tools.constants import STAGES
from ..tools.fetch import record_columns
from ..tools.transaction import kept, stop_keeping

# sale.order fields whose change can move the canonical stage or the promise.
RECOMPUTE_FIELDS = {"state", "commitment_date", "picking_policy", "partner_id"}
# sale.order.line fields the margin reads (_visibility_margin_lines), and the
# cr.cache key of the lines kept for the transaction: {order id: [(product
# id, quantity, unit id)]}, None once one of those fields changed.
MARGIN_LINE_FIELDS = ["order_id", "product_id", "product_uom_qty", "product_uom_id", "display_type"]
MARGIN_LINES_KEY = "order_visibility.margin_lines"
# Context key of the order form's Confirm buttons: when a governance rule
# requires an approval, request it (the order waits as a quotation) rather
# than refuse. It can only choose between the two answers that hold the
# order; nothing a caller sends can make a confirmation skip an approval
# (see _visibility_approval_mode and docs/dev/architecture.md).
APPROVAL_MODE_KEY = "order_visibility_approval"
# Set only by the overrides of Odoo's own automatic confirmations (payment,
# portal signature, e-commerce checkout), for the duration of their call. A
# context variable of this process, not a context key: no RPC can set it.
_AUTOMATIC_CONFIRMATION = ContextVar("order_visibility_automatic_confirmation", default=False)


@contextmanager
def automatic_confirmation():
    """Odoo confirms by itself in this block: an approval a rule requires
    becomes a review after the fact (the customer paid or signed)."""
    token = _AUTOMATIC_CONFIRMATION.set(True)
    try:
        yield
    finally:
        _AUTOMATIC_CONFIRMATION.reset(token)


class SaleOrder(models.Model):
    _inherit = "sale.order"

    visibility_ids = fields.One2many(
        "order.visibility", "sale_order_id", groups="order_visibility.group_order_visibility_user"
    )
    # Mirror of order.visibility.stage, written by the engine, so that sales
    # lists can filter and group by it. Its changes are logged in the order's
    # chatter, where sales and operations read the order's history; a
    # confirmation logs its stage in the same message as Odoo's new status
    # (see write).
    visibility_stage = fields.Selection(
        STAGES,
        default="draft",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        help="The canonical stage kept by Order Visibility.",
    )
    visibility_transition_count = fields.Integer(compute="_compute_visibility_transition_count")

    def _auto_init(self):
        self._add_visibility_stage_column()
        return super()._auto_init()

    def _add_visibility_stage_column(self):
        """Add the column of the stage mirror, every existing order a
        quotation (its default), without writing every order: a column added
        with a constant default takes it from the catalogue (PostgreSQL 11
        and later), where Odoo sets a new column's default by an UPDATE of
        every row (2.4 s of the installation on 100,000 orders, which then
        writes the confirmed ones again). The column keeps no default, as
        Odoo's columns; the existing rows keep the value."""
        field = self._fields["visibility_stage"]
        cr = self.env.cr
        if not table_exists(cr, self._table) or column_exists(cr, self._table, field.name):
            return
        table, column = SQL.identifier(self._table), SQL.identifier(field.name)
        cr.execute(
            SQL(
                """ALTER TABLE %s ADD COLUMN %s %s DEFAULT %s;
                   ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;
                   COMMENT ON COLUMN %s IS %s""",
                table,
                column,
                SQL(field.column_type[1]),
                field.convert_to_column_insert(field.default(self), self),
                table,
                column,
                SQL.identifier(self._table, field.name),
                field.string,
            )
        )

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
        quotations = orders.filtered(lambda o: o.state in ("draft", "sent"))
        self.env["order.visibility"]._schedule_after_commit(quotations)
        self.env["order.visibility"]._schedule_recompute(orders - quotations, "order_created")
        return orders

    def write(self, vals):
        if RECOMPUTE_FIELDS.intersection(vals):
            cause = {
                "sale": "order_confirmed",
                "cancel": "order_cancelled",
                "draft": "order_reset_to_quotation",
                "sent": "quotation_sent",
            }.get(vals.get("state"), "order_updated")
            # Scheduled before Odoo's write registers the chatter tracking of
            # it: both run at commit, in that order, so the stage the pass
            # mirrors on the order is logged in the same message as this
            # change (a confirmation: one message, not two).
            self.env["order.visibility"]._schedule_recompute(self, cause)
        return super().write(vals)

    # ------------------------------------------------------------------
    # Governance at confirmation (each rule is off until an admin switches
    # it on in Settings: installing the suite changes nothing here)
    # ------------------------------------------------------------------

    def action_confirm(self):
        """Confirm, unless a switched-on approval rule says otherwise.

        When no rule applies this is Odoo's confirmation, followed by the
        credit policy (which may hold the confirmed orders). When a rule
        requires an approval, what happens depends on who confirms (see
        ``_visibility_approval_mode``):

        - ``request`` (the Confirm buttons of the order form): the approval
          is requested, the order stays a quotation (stage
          ``pending_approval``) and a notification is returned;
        - ``review`` (Odoo confirming by itself: online payment, portal
          signature, superuser code): the order is confirmed and each
          approval becomes a review after the fact;
        - otherwise (code or RPC of a user): a ``UserError`` names the
          approvals needed; nothing is confirmed, nothing is written.
        """
        needed = self.filtered(lambda o: o.state in ("draft", "sent"))._visibility_approvals_needed()
        if not needed:
            result = super().action_confirm()
            self._apply_credit_policy()
            return result
        mode = self._visibility_approval_mode()
        if mode == "review":
            result = super().action_confirm()
            self._request_visibility_approvals(needed, review=True)
            self._apply_credit_policy()
            return result
        blocked = self.browse([order.id for order in needed])
        if mode != "request":
            raise UserError(
                self.env._(
                    "%(orders)s cannot be confirmed without an approval (%(reasons)s). Confirm it from the order "
                    "in Odoo to request the approval, or call action_confirm with the context key "
                    '%(key)s set to "request".',
                    orders=", ".join(blocked.mapped("name")),
                    reasons="; ".join(detail for reasons in needed.values() for __, detail, __ in reasons),
                    key=APPROVAL_MODE_KEY,
                )
            )
        self._request_visibility_approvals(needed)
        to_confirm = self - blocked
        if to_confirm:
            super(SaleOrder, to_confirm).action_confirm()
            to_confirm._apply_credit_policy()
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

    def _visibility_approval_mode(self):
        """What a confirmation needing an approval does: request, review or refuse.

        ``review`` (confirm, then review after the fact) is for Odoo acting by
        itself only: its automatic confirmations (``automatic_confirmation``,
        which no RPC can reach) and superuser code. A caller's context can
        only ask for ``request`` (the order form's Confirm buttons carry it);
        anything else refuses, so that no caller mistakes a quotation left
        waiting for a confirmed order.
        """
        if _AUTOMATIC_CONFIRMATION.get():
            return "review"
        if self.env.context.get(APPROVAL_MODE_KEY) == "request":
            return "request"
        return "review" if self.env.su else "refuse"

    def _request_visibility_approvals(self, needed, review=False):
        """Request the approvals ``needed`` ({order: [(reason, detail, figures)]}),
        as reviews after the fact when ``review``."""
        Visibility = self.env["order.visibility"].sudo()
        for order, reasons in needed.items():
            visibility = Visibility._ensure_for_orders(order)
            for reason, detail, figures in reasons:
                self.env["order.visibility.approval"]._request(
                    visibility, reason, detail, review=review, values=figures
                )

    def _validate_order(self):
        # Portal signature and e-commerce checkout: the customer acted, Odoo confirms.
        with automatic_confirmation():
            return super()._validate_order()

    def _visibility_approvals_needed(self):
        """{order: [(reason, detail, figures)]} of the switched-on approval
        rules that no approval covers.

        An approval covers the figures it approved (``figures``: the untaxed
        amount in company currency and the margin when requested): an order
        raised above that amount, or whose margin fell below it, since the
        approval needs a new one, whatever happened to the order in between.
        """
        Visibility = self.env["order.visibility"]
        check_value = Visibility._param("order_visibility.approve_high_value")
        check_margin = Visibility._param("order_visibility.approve_low_margin")
        if not self or not (check_value or check_margin):
            return {}
        orders = self.sudo()
        high_value = Visibility._param("order_visibility.high_value_amount")
        minimum = Visibility._param("order_visibility.min_margin_percent")
        margins = orders._visibility_margins()
        needed = {}
        for order in orders:
            reasons = []
            company = order.company_id
            amount = order._visibility_untaxed_in_company_currency()
            margin = margins.get(order.id, 0.0)
            figures = {"amount_company": amount, "margin_approved": margin}

            def covered(reason, order=order, amount=amount, margin=margin):
                # Read only when a threshold is reached (most orders reach none). Salespeople
                # need no Order Visibility group to confirm: read the approvals as the engine.
                approved = order.visibility_ids.approval_ids.filtered(lambda a: a.state == "approved")
                return any(a._covers(amount, margin) for a in approved if a.reason == reason)

            if check_value and high_value and amount >= high_value and not covered("high_value"):
                reasons.append(
                    (
                        "high_value",
                        self.env._(
                            "Untaxed amount %(amount)s %(currency)s reaches the %(threshold)s approval threshold",
                            amount=f"{amount:,.2f}",
                            currency=company.currency_id.name,
                            threshold=f"{high_value:,.2f}",
                        ),
                        figures,
                    )
                )
            if check_margin and order.amount_untaxed and margin < minimum and not covered("low_margin"):
                reasons.append(
                    (
                        "low_margin",
                        self.env._(
                            "Margin %(margin).1f %% is below the %(minimum).1f %% minimum",
                            margin=margin,
                            minimum=minimum,
                        ),
                        figures,
                    )
                )
            if reasons:
                needed[self.browse(order.id)] = reasons
        return needed

    def _visibility_untaxed_in_company_currency(self):
        """The untaxed amount in the company's currency, at the order's date:
        what an approval of a high-value order or a credit release approves."""
        self.ensure_one()
        company = self.company_id
        return self.currency_id._convert(
            self.amount_untaxed, company.currency_id, company, self.date_order or fields.Date.today()
        )

    def _visibility_margins(self):
        """{order id: margin in percent of the untaxed amount}, at product cost
        (the low-margin approval rule, the margin exception, the order's record).

        The lines are read in one query (product, quantity, unit) rather than
        as records: a recompute pass covers up to thousands of orders. They
        are kept for the transaction (``_visibility_margin_lines``): a
        confirmation checks the margin, then the engine's pass writes it.
        """
        orders = self.sudo()
        lines_of = orders._visibility_margin_lines()
        products = self.env["product.product"].browse(
            {product_id for lines in lines_of.values() for product_id, _quantity, _uom_id in lines}
        )
        Uom = self.env["uom.uom"]
        # Approved expedited freight (order currency) is a cost of the order.
        expedite_costs = self.env["order.visibility.approval"].sudo()._approved_expedite_costs(orders)
        margins = {}
        for company, company_orders in orders.grouped("company_id").items():
            company_products = products.with_company(company)
            # Their cost with the columns a first read of them loads (the unit
            # here, and Odoo's confirmation reads them next): one query.
            company_products.fetch([*record_columns(products), "standard_price"])
            cost_of = dict(zip(company_products.ids, company_products.mapped("standard_price"), strict=True))
            uom_of = {product.id: product.uom_id for product in company_products}
            for order in company_orders:
                untaxed = order.amount_untaxed
                if not untaxed:
                    margins[order.id] = 0.0
                    continue
                cost = 0.0
                for product_id, line_quantity, uom_id in lines_of[order.id]:
                    product_uom = uom_of[product_id]
                    quantity = line_quantity
                    if uom_id != product_uom.id:
                        quantity = Uom.browse(uom_id)._compute_quantity(line_quantity, product_uom)
                    cost += cost_of[product_id] * quantity
                if order.currency_id != company.currency_id:
                    cost = company.currency_id._convert(
                        cost, order.currency_id, company, order.date_order or fields.Date.today()
                    )
                cost += expedite_costs.get(order.id, 0.0)
                margins[order.id] = (untaxed - cost) / untaxed * 100.0
        return margins

    def _visibility_margin_lines(self):
        """{order id: [(product id, quantity, unit id)]} of the goods and
        services lines of ``self``, one query for those not kept yet.

        Kept for the transaction (``cr.cache``) until a line is added,
        deleted, or its order, product, quantity or unit is written: from
        then on, read every time (so that a rollback to a savepoint never
        leaves lines kept that are gone).
        """
        Line = self.env["sale.order.line"]
        Line.flush_model(MARGIN_LINE_FIELDS)
        memo = Line._kept_margin_lines()
        missing = self.ids if memo is None else [order_id for order_id in self.ids if order_id not in memo]
        lines_of = {order_id: [] for order_id in missing}
        if missing:
            query = SQL(
                """SELECT order_id, product_id, product_uom_qty, product_uom_id FROM sale_order_line
                    WHERE order_id = ANY(%s) AND product_id IS NOT NULL AND display_type IS NULL""",
                missing,
            )
            # The approved expedite costs the margin reads next, in the same
            # query (rows without a product), for the orders not known yet.
            costs = self.env["order.visibility.approval"]._kept_expedite_costs()
            unknown = [order_id for order_id in missing if order_id not in costs]
            if unknown:
                query = SQL(
                    """%s UNION ALL
                       SELECT sale_order_id, NULL, SUM(expedite_cost), NULL FROM order_visibility_approval
                        WHERE sale_order_id = ANY(%s) AND reason = 'expedite' AND state = 'approved'
                     GROUP BY sale_order_id""",
                    query,
                    unknown,
                )
                costs.update(dict.fromkeys(unknown, 0.0))
            for order_id, product_id, quantity, uom_id in self.env.execute_query(query):
                if product_id is None:
                    costs[order_id] = quantity or 0.0
                else:
                    lines_of[order_id].append((product_id, quantity, uom_id))
        if memo is None:
            return lines_of
        memo.update(lines_of)
        return {order_id: memo[order_id] for order_id in self.ids}

    def _apply_credit_policy(self):
        """Hold the confirmed orders of ``self`` that a switched-on credit rule catches."""
        confirmed = self.filtered(lambda o: o.state == "sale")
        reasons = confirmed._visibility_credit_hold_reasons()
        if not reasons:
            return
        Visibility = self.env["order.visibility"].sudo()
        held = self.browse(list(reasons))
        for visibility in Visibility._ensure_for_orders(held):
            visibility.write({"credit_hold": True, "credit_hold_reason": reasons[visibility.sale_order_id.id]})
        Visibility._schedule_recompute(held, "credit_hold")

    def _visibility_credit_hold_reasons(self):
        """{order id: reason} for the orders of ``self`` the credit rules hold."""
        Visibility = self.env["order.visibility"]
        use_limit = Visibility._param("order_visibility.use_credit_limit")
        hold_overdue = Visibility._param("order_visibility.hold_overdue")
        if not self or not (use_limit or hold_overdue):
            return {}
        orders = self.sudo()
        reasons = {}
        if use_limit:
            for order in orders:
                partner = order.partner_id.commercial_partner_id
                limit = partner.credit_limit
                if limit > 0:
                    exposure = partner.credit + order.currency_id._convert(
                        order.amount_total, order.company_id.currency_id, order.company_id, fields.Date.today()
                    )
                    if exposure > limit:
                        reasons[order.id] = self.env._(
                            "Exposure %(exposure)s over the credit limit %(limit)s",
                            exposure=f"{exposure:,.2f}",
                            limit=f"{limit:,.2f}",
                        )
        if hold_overdue:
            days = Visibility._param("order_visibility.overdue_days")
            overdue = dict(
                self.env["account.move.line"]
                .sudo()
                ._read_group(
                    [
                        ("partner_id", "in", orders.partner_id.commercial_partner_id.ids),
                        ("account_type", "=", "asset_receivable"),
                        ("parent_state", "=", "posted"),
                        ("reconciled", "=", False),
                        ("amount_residual", ">", 0),
                        ("date_maturity", "<", fields.Date.today() - timedelta(days=days)),
                    ],
                    ["partner_id"],
                    ["amount_residual:sum"],
                )
            )
            for order in orders:
                amount = overdue.get(order.partner_id.commercial_partner_id)
                if amount and order.id not in reasons:
                    reasons[order.id] = self.env._(
                        "%(amount)s of receivables overdue by more than %(days)s days",
                        amount=f"{amount:,.2f}",
                        days=days,
                    )
        return reasons

    def action_view_visibility_timeline(self):
        self.ensure_one()
        self.check_access("read")
        if not self.env.user.has_group("order_visibility.group_order_visibility_user"):
            raise AccessError(self.env._("Only Order Visibility users can open the timeline of an order."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Timeline of %(order)s", order=self.name),
            "res_model": "order.visibility.transition",
            "view_mode": "list,form",
            "domain": [("sale_order_id", "=", self.id)],
            "context": {"create": False},
        }


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _kept_margin_lines(self):
        """The lines kept by ``sale.order._visibility_margin_lines`` (None: not kept)."""
        return kept(self.env.cr, MARGIN_LINES_KEY)

    def _forget_margin_lines(self):
        stop_keeping(self.env.cr, MARGIN_LINES_KEY)

    # Lines added, deleted or written where the margin reads them: the lines
    # kept are dropped for the rest of the transaction. Private hooks of the
    # ORM's low level (what reaches the database): no public method to call.
    def _create(self, data_list):
        self._forget_margin_lines()
        return super()._create(data_list)

    def _write_multi(self, vals_list):
        if any(fname in vals for vals in vals_list for fname in MARGIN_LINE_FIELDS):
            self._forget_margin_lines()
        return super()._write_multi(vals_list)

    @api.ondelete(at_uninstall=True)
    def _forget_margin_lines_of_deleted(self):
        self._forget_margin_lines()
