# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import logging
from collections import defaultdict
from datetime import timedelta
from typing import NamedTuple

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import SQL

from .order_visibility_exception_type import SEVERITIES, SEVERITY_RANK

_logger = logging.getLogger(__name__)

STAGES = [
    ("cancelled", "Cancelled"),
    ("draft", "Quotation"),
    ("pending_approval", "Pending Approval"),
    ("credit_hold", "Credit Hold"),
    ("confirmed", "Confirmed"),
    ("awaiting_stock", "Awaiting Stock"),
    ("ready_to_ship", "Ready to Ship"),
    ("partially_shipped", "Partially Shipped"),
    ("shipped", "Shipped"),
    ("invoiced", "Invoiced"),
    ("paid", "Paid"),
]
PRIORITIES = [("0", "Normal"), ("1", "Important"), ("2", "Critical")]
# Moves waiting for stock (not for another operation of the route).
SHORT_MOVE_STATES = ("confirmed", "partially_available")
PAID_STATES = ("paid", "in_payment")
DIRTY_KEY = "order_visibility.dirty_orders"
NEW_QUOTATIONS_KEY = "order_visibility.new_quotations"
# Where an interrupted reconciliation resumes (JSON: last order id, totals so far).
RECONCILE_PROGRESS_KEY = "order_visibility.reconcile_progress"
# Confirmed stages in which goods still have to leave the company.
TO_SHIP_STAGES = ("credit_hold", "awaiting_stock", "ready_to_ship", "partially_shipped")
OPEN_CONFIRMED_STAGES = ("confirmed", *TO_SHIP_STAGES)
CLOSED_STAGES = ("cancelled", "paid")
BATCH_SIZE = 1000
# What a recompute pass reads of sales orders and their lines (stage facts
# are read separately, see OrderVisibility._stage_facts).
ORDER_FIELDS = [
    "state", "company_id", "currency_id", "partner_id", "date_order", "commitment_date", "picking_policy",
    "amount_untaxed", "amount_total", "visibility_stage", "warehouse_id",
]  # fmt: skip
MOVE_FIELDS = [
    "state", "procure_method", "location_id", "picking_id", "product_id", "product_uom", "product_uom_qty",
    "quantity", "purchase_line_id",
]  # fmt: skip
LINE_FIELDS = [
    "order_id", "product_id", "product_uom_qty", "product_uom_id", "display_type", "state", "customer_lead",
]  # fmt: skip
# What can cause a change of stage: stored as a code on each transition,
# shown in the reader's language.
CAUSES = [
    ("installation", "Order Visibility installed"),
    ("order_created", "Order created"),
    ("order_confirmed", "Order confirmed"),
    ("order_cancelled", "Order cancelled"),
    ("order_reset_to_quotation", "Order reset to quotation"),
    ("quotation_sent", "Quotation sent"),
    ("order_updated", "Order updated"),
    ("approval_requested", "Approval requested"),
    ("approval_granted", "Approval granted"),
    ("approval_rejected", "Approval rejected"),
    ("credit_hold", "Credit hold"),
    ("credit_hold_released", "Credit hold released"),
    ("stock_reserved", "Stock reserved"),
    ("stock_partially_reserved", "Stock partially reserved"),
    ("waiting_for_stock", "Waiting for stock"),
    ("goods_moved", "Goods moved"),
    ("move_cancelled", "Move cancelled"),
    ("stock_updated", "Stock updated"),
    ("invoice_posted", "Invoice posted"),
    ("invoice_cancelled", "Invoice cancelled"),
    ("invoice_reset_to_draft", "Invoice reset to draft"),
    ("invoice_reversed", "Invoice reversed"),
    ("invoice_updated", "Invoice updated"),
    ("payment_registered", "Payment registered"),
    ("payment_removed", "Payment removed"),
    ("milestone_received", "Milestone received"),
    ("fulfilment_reassigned", "Fulfilment reassigned"),
    ("reconciliation", "Reconciliation"),
    ("manual", "Recomputed by hand"),
    ("recompute", "Recomputed"),
]
CAUSE_CODES = frozenset(code for code, _label in CAUSES)
# The events that best explain reaching a stage, when several happened.
STAGE_CAUSES = {
    "cancelled": ("order_cancelled",),
    "draft": ("order_reset_to_quotation", "order_created"),
    "confirmed": ("order_confirmed",),
    "awaiting_stock": ("order_confirmed", "waiting_for_stock"),
    "ready_to_ship": ("fulfilment_reassigned", "stock_reserved", "order_confirmed"),
    "partially_shipped": ("goods_moved",),
    "shipped": ("goods_moved", "move_cancelled", "invoice_reversed", "invoice_cancelled"),
    "invoiced": ("invoice_posted", "payment_removed"),
    "paid": ("payment_registered",),
}


class StageFacts(NamedTuple):
    """What the stage rules read about one order (see ``_stage_facts``)."""

    state: str
    invoice_status: str
    delivered: bool
    open_moves: models.BaseModel  # stock.move, with one prefetch set for the pass
    payment_states: list


def boolean_search(value, true_domain, false_domain):
    """Domain of a computed boolean as Odoo 19 searches it: operator ``in``
    with ``value`` a set of True and/or False (its negation is Odoo's)."""
    return Domain.OR([true_domain] * (True in value) + [false_domain] * (False in value))


def _best_cause(stage, causes):
    preferred = STAGE_CAUSES.get(stage, ())
    return next((c for c in preferred if c in causes), causes[-1])


class OrderVisibility(models.Model):
    _name = "order.visibility"
    _description = "Order Visibility"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        # Acting on exceptions (README): one concern per mixin.
        "order.visibility.fulfilment",
        "order.visibility.expedite",
        "order.visibility.customer.update.mixin",
    ]
    _order = "stage_since desc, id desc"
    _rec_name = "sale_order_id"
    _check_company_auto = True
    _mail_post_access = "read"

    sale_order_id = fields.Many2one(
        "sale.order",
        string="Order",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="sale_order_id.company_id", store=True, index=True, tracking=False)
    partner_id = fields.Many2one(
        related="sale_order_id.partner_id", string="Customer", store=True, index=True, tracking=False
    )
    user_id = fields.Many2one(related="sale_order_id.user_id", string="Salesperson", store=True, tracking=False)
    team_id = fields.Many2one(related="sale_order_id.team_id", string="Sales Team", store=True, tracking=False)
    warehouse_id = fields.Many2one(related="sale_order_id.warehouse_id", store=True)
    currency_id = fields.Many2one(related="sale_order_id.currency_id")
    amount_total = fields.Monetary(related="sale_order_id.amount_total", currency_field="currency_id")
    customer_priority = fields.Selection(related="partner_id.ov_priority", string="Customer Priority", store=True)
    stage = fields.Selection(
        STAGES, required=True, default="draft", readonly=True, index=True, tracking=True, group_expand=True
    )
    stage_since = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    promised_date = fields.Datetime(
        readonly=True,
        help="The commitment date of the order, else the expected date computed by Odoo.",
    )
    margin_percent = fields.Float(
        string="Margin (%)",
        digits=(16, 2),
        readonly=True,
        aggregator="avg",
        help="Untaxed amount minus product cost, in percent of the untaxed amount, at the last recompute.",
    )
    risk_score = fields.Integer(
        readonly=True,
        aggregator="avg",
        help="0-100: how likely the order misses its promised date (advisory).",
    )
    # What the score is made of, language-neutral: [[reason code, {figures}], ...].
    risk_reasons = fields.Json(readonly=True, copy=False)
    risk_explanation = fields.Text(
        compute="_compute_risk_explanation", help="The risk score explained, in the reader's language."
    )
    is_at_risk = fields.Boolean(compute="_compute_is_at_risk", search="_search_is_at_risk", string="At Risk")
    is_late = fields.Boolean(
        compute="_compute_is_late",
        search="_search_is_late",
        string="Late",
        help="The promised date has passed and goods still have to leave.",
    )
    exception_ids = fields.One2many("order.visibility.exception", "visibility_id", string="Exceptions")
    exception_count = fields.Integer(
        string="Open Exceptions", compute="_compute_exception_summary", store=True, aggregator="sum"
    )
    worst_severity = fields.Selection(SEVERITIES, compute="_compute_exception_summary", store=True)
    approval_ids = fields.One2many("order.visibility.approval", "visibility_id", string="Approvals")
    credit_hold = fields.Boolean(readonly=True, tracking=True, help="Held by the credit policy until released.")
    credit_hold_reason = fields.Char(readonly=True)
    transition_ids = fields.One2many("order.visibility.transition", "visibility_id", string="Timeline")
    last_transition_id = fields.Many2one("order.visibility.transition", readonly=True)

    _sale_order_uniq = models.Constraint(
        "UNIQUE(sale_order_id)",
        "An order has exactly one visibility record.",
    )
    _stage_company_idx = models.Index("(company_id, stage)")

    @api.depends("exception_ids.state", "exception_ids.severity")
    def _compute_exception_summary(self):
        for visibility in self:
            open_exceptions = visibility.exception_ids.filtered(lambda e: e.state != "resolved")
            visibility.exception_count = len(open_exceptions)
            worst = max(open_exceptions.mapped("severity"), key=SEVERITY_RANK.get, default=False)
            visibility.worst_severity = worst

    @api.depends("sale_order_id")
    def _compute_display_name(self):
        # Order Visibility users (buyers, warehouse leads) may have no Sales
        # rights: the name of the order is all they get from it.
        for visibility in self:
            visibility.display_name = visibility.sale_order_id.sudo().display_name

    @api.depends("risk_score")
    def _compute_is_at_risk(self):
        threshold = self._param("order_visibility.at_risk_threshold")
        for visibility in self:
            visibility.is_at_risk = visibility.risk_score >= threshold

    def _search_is_at_risk(self, operator, value):
        if operator != "in":
            return NotImplemented  # Odoo negates the "in" domain
        threshold = self._param("order_visibility.at_risk_threshold")
        return boolean_search(value, Domain("risk_score", ">=", threshold), Domain("risk_score", "<", threshold))

    @api.depends("promised_date", "stage")
    def _compute_is_late(self):
        now = fields.Datetime.now()
        for visibility in self:
            visibility.is_late = bool(
                visibility.promised_date
                and visibility.promised_date < now
                and visibility.stage in OPEN_CONFIRMED_STAGES
            )

    def _search_is_late(self, operator, value):
        if operator != "in":
            return NotImplemented
        now = fields.Datetime.now()
        late = Domain("promised_date", "<", now) & Domain("stage", "in", OPEN_CONFIRMED_STAGES)
        on_time = (
            Domain("promised_date", "=", False)
            | Domain("promised_date", ">=", now)
            | Domain("stage", "not in", OPEN_CONFIRMED_STAGES)
        )
        return boolean_search(value, late, on_time)

    # ------------------------------------------------------------------
    # Scheduling: changes mark orders dirty; one set-based pass at flush
    # ------------------------------------------------------------------

    @api.model
    def _schedule_recompute(self, orders, cause):
        """Recompute ``orders`` once, when the transaction is flushed.

        Every state-changing path of sales, stock and accounting calls this;
        the actual work runs once per transaction over all affected orders
        (set-based), in the same transaction, before commit.
        """
        if cause not in CAUSE_CODES:
            raise ValueError(f"unknown order visibility cause {cause!r}: add it to CAUSES")
        orders = orders.filtered("id")
        if not orders:
            return
        precommit = self.env.cr.precommit
        dirty = precommit.data.get(DIRTY_KEY)
        if dirty is None:
            dirty = precommit.data[DIRTY_KEY] = {}
            env = self.env(su=True)
            precommit.add(env["order.visibility"]._run_scheduled_recompute)
        for order_id in orders.ids:
            causes = dirty.setdefault(order_id, [])
            if cause not in causes:
                causes.append(cause)

    @api.model
    def _run_scheduled_recompute(self):
        dirty = self.env.cr.precommit.data.pop(DIRTY_KEY, {})
        orders = self.env["sale.order"].browse(list(dirty)).exists()
        self._recompute_orders(orders, causes=dirty)

    @api.model
    def _schedule_after_commit(self, quotations):
        """Give new quotations their visibility record right after commit.

        A new quotation's stage is ``draft`` (the mirror on sale.order says
        so from its creation) and nothing is emitted for it, so the record is
        created in a transaction of its own once the quotation is committed:
        creating quotations costs Odoo's own transaction nothing. If that
        transaction fails, the nightly reconciliation creates the record.
        """
        quotations = quotations.filtered("id")
        if not quotations:
            return
        postcommit = self.env.cr.postcommit
        pending = postcommit.data.get(NEW_QUOTATIONS_KEY)
        if pending is None:
            pending = postcommit.data[NEW_QUOTATIONS_KEY] = set()
            registry = self.env.registry

            @postcommit.add
            def create_visibility_of_new_quotations():
                with registry.cursor() as cr:
                    api.Environment(cr, SUPERUSER_ID, {})["order.visibility"]._recompute_new_quotations(pending)

        pending.update(quotations.ids)

    @api.model
    def _recompute_new_quotations(self, order_ids=None):
        """Recompute the quotations ``_schedule_after_commit`` waits for (all
        those of the current transaction when ``order_ids`` is None: what a
        commit would do, for code that must see them before it commits)."""
        if order_ids is None:
            order_ids = self.env.cr.postcommit.data.pop(NEW_QUOTATIONS_KEY, set())
        if not order_ids:
            return self.env["order.visibility.transition"]
        orders = self.env["sale.order"].browse(sorted(order_ids)).exists()
        return self.sudo()._recompute_orders(orders, cause="order_created")

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------

    @api.model
    def _recompute_orders(self, orders, cause="recompute", causes=None):
        """Bring the visibility records of ``orders`` up to date.

        ``causes``: {order id: [events seen in this transaction]}; each
        transition records the event that explains its new stage best.
        Returns the transitions created (real stage changes only).
        """
        if not orders:
            return self.env["order.visibility.transition"]
        # The engine keeps derived data: it runs as superuser whoever caused
        # the change (callers check access to what they act on).
        self = self.sudo()
        orders = orders.sudo()
        # Load the columns the engine reads, not whole records: sale.order
        # and sale.order.line have a hundred columns each.
        orders.fetch(ORDER_FIELDS)
        orders.order_line.fetch(LINE_FIELDS)
        visibilities = self._ensure_for_orders(orders)
        facts = visibilities._stage_facts()
        stages = visibilities._derive_stages(facts)
        now = fields.Datetime.now()
        changed = defaultdict(self.browse)
        transition_vals = []
        for visibility in visibilities:
            new_stage = stages[visibility.id]
            if new_stage == visibility.stage:
                continue
            changed[new_stage] |= visibility
            elapsed = (now - visibility.stage_since).total_seconds() / 3600.0 if visibility.stage_since else 0.0
            transition_vals.append(
                {
                    "visibility_id": visibility.id,
                    "from_stage": visibility.stage,
                    "to_stage": new_stage,
                    "changed_at": now,
                    "cause": _best_cause(new_stage, (causes or {}).get(visibility.sale_order_id.id) or [cause]),
                    "duration_hours": round(elapsed, 4),
                }
            )
        transitions = self.env["order.visibility.transition"].create(transition_vals)
        last_by_visibility = {t.visibility_id.id: t.id for t in transitions}
        for stage, records in changed.items():
            records.write({"stage": stage, "stage_since": now})
        for visibility in visibilities.filtered(lambda v: v.id in last_by_visibility):
            visibility.last_transition_id = last_by_visibility[visibility.id]
        visibilities._sync_sale_order_stage()
        visibilities._update_promised_dates()
        visibilities._update_margins()
        visibilities._sync_event_exceptions(facts)
        visibilities._update_risk(facts)
        if transitions:
            self._on_transitions(transitions)
        return transitions

    @api.model
    def _ensure_for_orders(self, orders):
        """Visibility records of ``orders``, creating the missing ones."""
        existing = self.search_fetch([("sale_order_id", "in", orders.ids)], ["sale_order_id", "stage", "stage_since"])
        missing = orders - existing.sale_order_id
        if missing:
            existing |= self.create(
                [{"sale_order_id": order.id, "stage": "draft", "stage_since": order.create_date} for order in missing]
            )
        return existing

    def _sync_sale_order_stage(self):
        """Mirror the stage on sale.order (for its lists' filters and groups)."""
        stale = defaultdict(self.env["sale.order"].browse)
        for visibility in self:
            if visibility.sale_order_id.visibility_stage != visibility.stage:
                stale[visibility.stage] |= visibility.sale_order_id
        for stage, orders in stale.items():
            orders.write({"visibility_stage": stage})

    def _write_changed(self, field_name, values):
        """Write ``values`` ({visibility id: value}) where they differ, one write per value."""
        changed = defaultdict(list)
        for visibility in self:
            value = values[visibility.id]
            if visibility[field_name] != value:
                changed[value].append(visibility.id)
        for value, ids in changed.items():
            self.browse(ids).write({field_name: value})

    def _update_promised_dates(self):
        self._write_changed(
            "promised_date",
            {v.id: v.sale_order_id.commitment_date or v.sale_order_id.expected_date or False for v in self},
        )

    def _update_margins(self):
        margins = self.sale_order_id._visibility_margins()
        self._write_changed("margin_percent", {v.id: round(margins[v.sale_order_id.id], 2) for v in self})

    def _update_risk(self, facts=None):
        """Advisory 0-100 score of missing the promised date, explained in words.

        Slack between the promised date and the date the goods can leave
        (now when reserved; the latest incoming purchase or the vendor lead
        time when short), open exceptions and the customer's priority.
        """
        now = fields.Datetime.now()
        facts = facts if facts is not None else self._stage_facts()
        severity_points = {"low": 2, "medium": 5, "high": 15, "critical": 25}
        changed = defaultdict(list)
        open_severities = defaultdict(list)
        for visibility, severity, count in self.env["order.visibility.exception"]._read_group(
            [("visibility_id", "in", self.ids), ("state", "!=", "resolved")], ["visibility_id", "severity"], ["__count"]
        ):
            open_severities[visibility.id] += [severity] * count
        expedited = {
            visibility.id: {"cost": cost, "currency": visibility.currency_id.name}
            for visibility, cost in self.env["order.visibility.approval"]._read_group(
                [("visibility_id", "in", self.ids), ("reason", "=", "expedite"), ("state", "=", "approved")],
                ["visibility_id"],
                ["expedite_cost:sum"],
            )
        }
        for visibility in self:
            score, reasons = 0, []
            if visibility.stage in TO_SHIP_STAGES or visibility.stage in ("pending_approval", "confirmed"):
                ship_date = visibility._expected_ship_date(now, facts[visibility.sale_order_id.id].open_moves)
                promised = visibility.promised_date
                if promised and ship_date:
                    slack_days = round((promised - ship_date).total_seconds() / 86400.0, 1)
                    if slack_days < 0:
                        score += 60
                        reasons.append(["late", {"days": -slack_days}])
                    elif slack_days < 1:
                        score += 40
                        reasons.append(["no_slack", {}])
                    elif slack_days < 3:
                        score += 20
                        reasons.append(["slack", {"days": slack_days}])
                if visibility.stage in ("credit_hold", "pending_approval"):
                    score += 15
                    reasons.append(["blocked", {"stage": visibility.stage}])
            severities = open_severities[visibility.id]
            if severities:
                score += min(40, sum(severity_points[severity] for severity in severities))
                reasons.append(["exceptions", {"count": len(severities)}])
            expedite = expedited.get(visibility.id)
            if expedite and visibility.stage in TO_SHIP_STAGES:
                # Approved expedited freight buys back time.
                score = max(0, score - 20)
                reasons.append(["expedited", expedite])
            if score and visibility.customer_priority in ("1", "2"):
                score += 5 * int(visibility.customer_priority)
                reasons.append(["important_customer", {}])
            score = max(0, min(100, score))
            if visibility.risk_score != score or (visibility.risk_reasons or []) != reasons:
                changed[score, json.dumps(reasons)].append(visibility.id)
        for (score, reasons), ids in changed.items():
            self.browse(ids).write({"risk_score": score, "risk_reasons": json.loads(reasons)})

    @api.depends("risk_reasons")
    @api.depends_context("lang")
    def _compute_risk_explanation(self):
        stage_labels = dict(self._fields["stage"]._description_selection(self.env))
        for visibility in self:
            texts = [
                visibility._risk_reason_text(code, figures, stage_labels)
                for code, figures in visibility.risk_reasons or []
            ]
            visibility.risk_explanation = "; ".join(texts) if texts else self.env._("No risk factor found.")

    def _risk_reason_text(self, code, figures, stage_labels):
        """One reason of the risk score, in the reader's language."""
        if code == "late":
            return self.env._("can ship %(days).1f days after the promise", days=figures["days"])
        if code == "no_slack":
            return self.env._("less than a day of slack before the promise")
        if code == "slack":
            return self.env._("%(days).1f days of slack", days=figures["days"])
        if code == "blocked":
            return self.env._("blocked (%(stage)s)", stage=stage_labels.get(figures["stage"], figures["stage"]))
        if code == "exceptions":
            return self.env._("%(count)s open exception(s)", count=figures["count"])
        if code == "important_customer":
            return self.env._("important customer")
        if code == "expedited":
            return self.env._(
                "expedited freight approved (%(cost)s %(currency)s)",
                cost=f"{figures['cost']:,.2f}",
                currency=figures["currency"],
            )
        return code

    def _expected_ship_date(self, now, open_moves):
        """When the goods can leave: now if nothing is short, else the
        latest planned arrival of the purchases feeding the short moves,
        else now plus the longest vendor lead time of the short products."""
        short = self._short_moves(open_moves)
        if not short:
            return now
        origins = self.env["stock.move"].browse(short._rollup_move_origs()).with_prefetch(open_moves._prefetch_ids)
        planned = [
            line.date_planned
            for line in origins.purchase_line_id
            if line.order_id.state == "purchase" and line.qty_received < line.product_qty
        ]
        if planned:
            return max(planned)
        lead_days = max(
            (seller.delay for seller in short.product_id.seller_ids if seller.delay),
            default=0,
        )
        return now + timedelta(days=lead_days)

    def _sync_event_exceptions(self, facts):
        """Exceptions whose condition is the state of the documents themselves.

        They open and resolve in the same transaction as the change.
        """
        detected = {}
        for visibility in self.filtered(lambda v: v.stage == "awaiting_stock"):
            open_moves = facts[visibility.sale_order_id.id].open_moves
            for picking, moves in open_moves.grouped("picking_id").items():
                short = self._short_moves(moves)
                if short:
                    detail = ", ".join(
                        f"{m.product_uom_qty - m.quantity:g} {m.product_uom.name} {m.product_id.display_name}"
                        for m in short
                    )
                    detected[(visibility.id, "stock.picking", picking.id)] = {
                        "detail": self.env._("%(picking)s is short of %(detail)s", picking=picking.name, detail=detail)
                    }
        exceptions = self.env["order.visibility.exception"]
        exceptions._sync("stock_shortage", detected, self)
        held = self.filtered(lambda v: v.credit_hold and v.stage not in CLOSED_STAGES)
        exceptions._sync("credit_hold", {(v.id, "", 0): {"detail": v.credit_hold_reason} for v in held}, self)
        pending = self.approval_ids.filtered(lambda a: a.state == "pending")
        exceptions._sync(
            "approval_pending",
            {
                (a.visibility_id.id, "order.visibility.approval", a.id): {"detail": a._exception_detail()}
                for a in pending
            },
            self,
        )

    def _on_transitions(self, transitions):
        """Hook called with the stage changes of one recompute pass.

        Other addons (webhooks) extend it to emit events in the same
        transaction; the core posts nothing here so that chatter stays quiet.
        """

    def _derive_stages(self, facts=None):
        """{visibility id: stage code} from the orders' current documents.

        The rules are the table of docs/architecture.md (Stages), top-down, on the
        facts read for all orders at once (see ``_stage_facts``).
        """
        facts = facts if facts is not None else self._stage_facts()
        return {visibility.id: visibility._derive_stage(facts) for visibility in self}

    def _stage_facts(self):
        """{order id: StageFacts} of the orders of ``self``, in one query.

        What the stage rules need from sales, stock and accounting: the
        order's state and invoice status, whether goods left the company
        (``qty_delivered``, which Odoo computes from done moves into customer
        locations only), the open moves of any step (pick, pack, ship;
        returns excluded), and the payment states of the posted customer
        invoices. Reading them through the ORM costs a full record load of
        every line, move and invoice; this reads those columns only. It runs
        as the engine (superuser), which only derives data from them.
        """
        orders = self.sale_order_id
        self.env["sale.order"].flush_model(["state", "invoice_status"])
        self.env["sale.order.line"].flush_model(["order_id", "product_id", "qty_delivered", "invoice_lines"])
        self.env["product.template"].flush_model(["type"])
        self.env["product.product"].flush_model(["product_tmpl_id"])
        self.env["stock.location"].flush_model(["usage"])
        self.env["stock.picking"].flush_model(["sale_id"])
        self.env["stock.move"].flush_model(["picking_id", "state", "location_id"])
        self.env["account.move"].flush_model(["state", "move_type", "payment_state"])
        self.env["account.move.line"].flush_model(["move_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT so.id, so.state, so.invoice_status,
                          EXISTS (SELECT 1 FROM sale_order_line line
                                    JOIN product_product product ON product.id = line.product_id
                                    JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                                   WHERE line.order_id = so.id AND tmpl.type = 'consu' AND line.qty_delivered > 0),
                          ARRAY(SELECT move.id FROM stock_picking picking
                                  JOIN stock_move move ON move.picking_id = picking.id
                                  JOIN stock_location source ON source.id = move.location_id
                                 WHERE picking.sale_id = so.id AND move.state NOT IN ('done', 'cancel')
                                   AND source.usage != 'customer'
                                 ORDER BY move.id),
                          ARRAY(SELECT DISTINCT invoice.payment_state FROM sale_order_line line
                                  JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = line.id
                                  JOIN account_move_line item ON item.id = rel.invoice_line_id
                                  JOIN account_move invoice ON invoice.id = item.move_id
                                 WHERE line.order_id = so.id AND invoice.state = 'posted'
                                   AND invoice.move_type = 'out_invoice')
                     FROM sale_order so
                    WHERE so.id = ANY(%s)""",
                orders.ids,
            )
        )
        # The open moves and every move of their chains share one prefetch
        # set: reading the chain of one order reads those of all orders.
        all_open = self.env["stock.move"].browse([move_id for row in rows for move_id in row[4]])
        all_open._rollup_move_origs_fetch()
        prefetch = tuple(all_open._rollup_move_origs())
        Move = self.env["stock.move"]
        Move.browse(prefetch).fetch(MOVE_FIELDS)
        return {
            order_id: StageFacts(
                state, invoice_status, delivered, Move.browse(open_ids).with_prefetch(prefetch), payment_states
            )
            for order_id, state, invoice_status, delivered, open_ids, payment_states in rows
        }

    def _derive_stage(self, facts):
        """The stage of one order; ``facts``: see ``_stage_facts``."""
        self.ensure_one()
        order = facts[self.sale_order_id.id]
        if order.state == "cancel":
            return "cancelled"
        if self._has_pending_approval():
            return "pending_approval"
        if order.state in ("draft", "sent"):
            return "draft"
        if self._is_on_credit_hold():
            return "credit_hold"
        if order.open_moves:
            if order.delivered:
                return "partially_shipped"
            if self._short_moves(order.open_moves):
                return "awaiting_stock"
            return "ready_to_ship"
        # Everything shipped, or nothing to ship (services): invoicing decides.
        if order.invoice_status == "invoiced" and order.payment_states:
            if all(state in PAID_STATES for state in order.payment_states):
                return "paid"
            return "invoiced"
        return "shipped" if order.delivered else "confirmed"

    @api.model
    def _short_moves(self, moves):
        """The open ``moves`` that wait for goods the company does not hold.

        Either the move itself cannot be reserved, or it waits for an earlier
        move that still has to bring goods in (a purchase receipt for
        make-to-order, a manufacturing order) or that cannot be reserved.
        Moves waiting only for an earlier internal step (pick before pack)
        are not short.
        """
        short = moves.filtered(lambda m: m.state in SHORT_MOVE_STATES)
        for move in moves.filtered(lambda m: m.state == "waiting"):
            origins = self.env["stock.move"].browse(move._rollup_move_origs()).with_prefetch(moves._prefetch_ids) - move
            if not origins and move.procure_method == "make_to_order":
                short |= move  # its purchase or production is not even confirmed
            elif any(
                o.state not in ("done", "cancel")
                and (o.location_id.usage != "internal" or o.state in SHORT_MOVE_STATES)
                for o in origins
            ):
                short |= move
        return short.with_prefetch(moves._prefetch_ids)

    def _has_goods_to_ship(self):
        """Whether the order is confirmed with goods still to ship: what
        fulfilment reassignment and expedited freight act on."""
        self.ensure_one()
        return self.sale_order_id.sudo().state == "sale" and self.stage in TO_SHIP_STAGES

    def _stage_label(self):
        """The order's stage as the reader's language names it."""
        self.ensure_one()
        return dict(self._fields["stage"]._description_selection(self.env)).get(self.stage, self.stage)

    def _has_pending_approval(self):
        # A review after the fact does not hold the order: it is confirmed already.
        # Nor does an expedite request: the order is confirmed and goes on.
        return any(
            approval.state == "pending" and not approval.is_review and approval.reason != "expedite"
            for approval in self.approval_ids
        )

    def _is_on_credit_hold(self):
        return self.credit_hold

    def action_request_credit_release(self):
        """Ask an approver (not the requester, not the salesperson) to release the hold."""
        self.check_access("read")
        for visibility in self.filtered("credit_hold"):
            order = visibility.sale_order_id.sudo()
            company = order.company_id
            amount = order.currency_id._convert(
                order.amount_untaxed, company.currency_id, company, order.date_order or fields.Date.today()
            )
            self.env["order.visibility.approval"]._request(
                visibility,
                "credit_release",
                visibility.credit_hold_reason or self.env._("Credit hold"),
                values={"amount_company": amount, "margin_approved": visibility.margin_percent},
            )
        return True

    # ------------------------------------------------------------------
    # Scheduled sweeps
    # ------------------------------------------------------------------

    @api.model
    def _param(self, key):
        return self.env["res.config.settings"]._get_visibility_param(key)

    @api.model
    def _process_safely(self, records, work, what):
        """Run ``work(records)`` in a savepoint; return (failed records, results).

        When the batch fails it is rolled back and split in halves, down to
        the single records that fail: those are logged with their name and
        returned, every other record is processed. ``results`` holds what
        ``work`` returned for each part that committed. One bad order never
        stops a scheduled pass.
        """
        try:
            with self.env.cr.savepoint():
                result = work(records)
            return records.browse(), [result]
        except Exception:
            if len(records) <= 1:
                _logger.exception("order visibility %s failed on %s", what, records.display_name)
                return records, []
        half = len(records) // 2
        failed_a, results_a = self._process_safely(records[:half], work, what)
        failed_b, results_b = self._process_safely(records[half:], work, what)
        return failed_a | failed_b, results_a + results_b

    @api.model
    def _cron_exception_sweep(self):
        """Open and auto-resolve the time-based exceptions of all open orders,
        then refresh the risk of the orders still to ship.

        Each condition is one indexed search over the stored visibility data;
        running the sweep twice opens nothing the second time. A condition or
        a batch that fails is rolled back, narrowed down to the orders it
        fails on and the rest goes on; orders and checks that failed are
        logged and counted in ``order_visibility.last_sweep_failures``. When the scheduler's time is up it stops; the
        next run starts over (every step is idempotent).
        """
        self = self.sudo()
        now = fields.Datetime.now()
        stats = {}
        failed = self.browse()
        Exception_ = self.env["order.visibility.exception"]
        # One check per active exception type that has a time-based detector
        # (order.visibility.exception._detect_<code>), in the types' order.
        types = self.env["order.visibility.exception.type"].search_fetch([("code", "!=", False)], ["code"])
        codes = dict.fromkeys(types.mapped("code"))
        checks = [
            (code, getattr(Exception_, f"_detect_{code}")) for code in codes if hasattr(Exception_, f"_detect_{code}")
        ]
        cron = self.env["ir.cron"]
        # Slack shrinks with time: the risk of every order still to ship is refreshed.
        to_ship = self.search([("stage", "in", (*OPEN_CONFIRMED_STAGES, "pending_approval"))])
        risk_batches = [to_ship[start : start + BATCH_SIZE] for start in range(0, len(to_ship), BATCH_SIZE)]
        time_left = cron._commit_progress(remaining=len(checks) + len(risk_batches))
        failed_checks = 0
        for code, detect in checks:
            try:
                with self.env.cr.savepoint():
                    detected = detect(now)
            except Exception:
                _logger.exception("order visibility sweep: detecting %s failed, the other checks go on", code)
                failed_checks += 1
                detected = None
            if detected is not None:
                try:
                    with self.env.cr.savepoint():
                        stats[code] = tuple(map(len, Exception_._sync(code, detected, None)))
                except Exception:
                    _logger.exception("order visibility sweep (%s) failed: narrowing it down to orders", code)
                    # Each order's exceptions of this code are synchronised on their own.
                    involved = (
                        self.browse({key[0] for key in detected})
                        | Exception_.search([("code", "=", code), ("state", "!=", "resolved")]).visibility_id
                    )

                    def sync_some(visibilities, code=code, detected=detected):
                        ids = set(visibilities.ids)
                        some = {key: value for key, value in detected.items() if key[0] in ids}
                        return Exception_._sync(code, some, visibilities)

                    code_failed, results = self._process_safely(involved, sync_some, f"sweep ({code})")
                    failed |= code_failed
                    stats[code] = (sum(len(r[0]) for r in results), sum(len(r[1]) for r in results))
            time_left = cron._commit_progress(1)
            if not time_left:
                break
        for batch in risk_batches if time_left else []:
            failed |= self._process_safely(batch, lambda visibilities: visibilities._update_risk(), "risk refresh")[0]
            if not cron._commit_progress(1):
                break
        failures = len(failed) + failed_checks
        self.env["ir.config_parameter"].set_param("order_visibility.last_sweep_failures", failures)
        (_logger.warning if failures else _logger.info)(
            "order visibility sweep: %s; %s orders and %s checks failed",
            ", ".join(f"{code} +{o}/-{r}" for code, (o, r) in stats.items()),
            len(failed),
            failed_checks,
        )
        return stats

    @api.model
    def _cron_reconcile(self):
        """Nightly: recompute every order in batches and report the drift.

        Drift is the number of orders whose stored stage was wrong; it should
        be zero. Each batch runs in its own savepoint; an order it fails on is
        logged and skipped (``_process_safely``). When the scheduler's time is
        up the pass stops, saves where it is, and the next run resumes after
        the last order done.
        At the end, drift and failures are logged and kept in
        ``order_visibility.last_drift`` and ``order_visibility.last_reconcile_failures``.
        """
        self = self.sudo()
        params = self.env["ir.config_parameter"]
        SaleOrder = self.env["sale.order"].sudo().with_context(active_test=False)
        cron = self.env["ir.cron"]
        progress = json.loads(params.get_param(RECONCILE_PROGRESS_KEY) or "{}")
        last_id = progress.get("last_id", 0)
        totals = {key: progress.get(key, 0) for key in ("checked", "drift", "failed")}
        cron._commit_progress(remaining=SaleOrder.search_count([("id", ">", last_id)]))

        def reconcile(orders):
            return len(self._recompute_orders(orders, cause="reconciliation"))

        while batch := SaleOrder.search([("id", ">", last_id)], order="id", limit=BATCH_SIZE):
            failed, drifts = self._process_safely(batch, reconcile, "reconciliation")
            totals["drift"] += sum(drifts)
            totals["checked"] += len(batch)
            totals["failed"] += len(failed)
            last_id = batch[-1].id
            self.env.invalidate_all()
            if not cron._commit_progress(len(batch)):
                # Saved only when stopping: writing a parameter clears every
                # worker's registry cache. Interrupted otherwise, the next run
                # starts over, which is safe (a pass is idempotent).
                params.set_param(RECONCILE_PROGRESS_KEY, json.dumps({"last_id": last_id, **totals}))
                cron._commit_progress()
                _logger.info("order visibility reconciliation: time is up after order id %s, resuming later", last_id)
                return totals["drift"]
        params.set_param(RECONCILE_PROGRESS_KEY, False)
        params.set_param("order_visibility.last_drift", totals["drift"])
        params.set_param("order_visibility.last_reconcile_failures", totals["failed"])
        log = _logger.warning if totals["drift"] or totals["failed"] else _logger.info
        log(
            "order visibility reconciliation: %s orders checked, drift %s, failed on %s",
            totals["checked"],
            totals["drift"],
            totals["failed"],
        )
        return totals["drift"]

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_recompute(self):
        """Recompute the stage of the selected orders now (managers)."""
        if not self.env.user.has_group("order_visibility.group_order_visibility_manager"):
            raise AccessError(self.env._("Only Order Visibility managers can recompute orders."))
        self._recompute_orders(self.sale_order_id, cause="manual")
        return True

    def message_post(self, **kwargs):
        message = super().message_post(**kwargs)
        self._log_customer_update_if_sent(message, kwargs.get("message_type"))
        return message

    def action_open_sale_order(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": self.sale_order_id.id,
            "view_mode": "form",
        }
