# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The order's canonical status: its fields, and the scheduling that keeps
it up to date (changes mark orders dirty; one set-based pass at flush).

The other concerns of ``order.visibility`` extend it in files of their own:
the stage engine, risk, margin, sweeps, actions, fulfilment, expedite and
customer updates."""

import logging
from collections import defaultdict

from odoo import SUPERUSER_ID, api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from ..tools.constants import (
    CAUSE_CODES,
    DIRTY_KEY,
    NEW_QUOTATIONS_KEY,
    NOTICES_KEY,
    OPEN_CONFIRMED_STAGES,
    SEVERITIES,
    SEVERITY_RANK,
    STAGES,
)
from ..tools.domains import boolean_search

_logger = logging.getLogger(__name__)


class OrderVisibility(models.Model):
    _name = "order.visibility"
    _description = "Order Visibility"
    _inherit = ["mail.thread", "mail.activity.mixin"]
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
    team_id = fields.Many2one(
        related="sale_order_id.team_id", string="Sales Team", store=True, index=True, tracking=False
    )
    warehouse_id = fields.Many2one(related="sale_order_id.warehouse_id", store=True, index=True)
    currency_id = fields.Many2one(related="sale_order_id.currency_id")
    amount_total = fields.Monetary(related="sale_order_id.amount_total", currency_field="currency_id")
    customer_priority = fields.Selection(related="partner_id.ov_priority", string="Customer Priority", store=True)
    stage = fields.Selection(STAGES, required=True, default="draft", readonly=True, index=True, group_expand=True)
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
    def _transaction_buffer(self, callbacks, key, factory, flush):
        """The buffer kept under ``key`` in ``callbacks.data`` (``cr.precommit``
        or ``cr.postcommit``) for the current transaction.

        Made by ``factory()`` on first use, when ``flush(buffer)`` is
        registered to run once with those callbacks: work marked many times
        in a transaction is done once, over everything marked.
        """
        buffer = callbacks.data.get(key)
        if buffer is None:
            buffer = callbacks.data[key] = factory()
            callbacks.add(lambda: flush(buffer))
        return buffer

    @api.model
    def _after_commit_buffer(self, key, factory, method, failure):
        """The buffer kept under ``key`` in ``cr.postcommit.data``
        (``_transaction_buffer``): once the transaction commits, one
        transaction of its own runs ``order.visibility.<method>(buffer)`` as
        superuser. The user's change is committed by then: a failure is
        logged (``failure`` says what was not done), never raised to them,
        and the steps after it still run."""
        registry = self.env.registry

        def run(buffer):
            try:
                with registry.cursor() as cr:
                    getattr(api.Environment(cr, SUPERUSER_ID, {})["order.visibility"], method)(buffer)
            except Exception:
                _logger.exception("order visibility: %s", failure)

        return self._transaction_buffer(self.env.cr.postcommit, key, factory, run)

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
        engine = self.env(su=True)["order.visibility"]
        # The pass pops the buffer itself (a pass run earlier by hand leaves nothing to do).
        dirty = self._transaction_buffer(
            self.env.cr.precommit, DIRTY_KEY, dict, lambda _dirty: engine._run_scheduled_recompute()
        )
        for order_id in orders.ids:
            causes = dirty.setdefault(order_id, [])
            if cause not in causes:
                causes.append(cause)

    @api.model
    def _run_scheduled_recompute(self):
        dirty = self.env.cr.precommit.data.pop(DIRTY_KEY, {})
        # Orders deleted in the transaction are left out by the pass.
        self._recompute_orders(self.env["sale.order"].browse(list(dirty)), causes=dirty)

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
        pending = self._after_commit_buffer(
            NEW_QUOTATIONS_KEY, set, "_recompute_new_quotations", "the records of new quotations were not made"
        )
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
        # Quotations deleted since are left out by the pass.
        orders = self.env["sale.order"].browse(sorted(order_ids))
        return self.sudo()._recompute_orders(orders, cause="order_created")

    @api.model
    def _notify_after_commit(self, kind, records):
        """Note ``records`` for the notices of ``kind`` (live updates of
        open pages: the control tower, an order's portal page) sent once the
        transaction commits.

        Costs no query in the user's transaction, and a rolled back change
        notifies nobody. After commit, one short transaction of its own runs
        ``_send_notices`` over everything noted, whatever the number of
        changes and kinds: Odoo's bus then sends all their notices in one
        INSERT. If that transaction fails, an open page refreshes at its next
        change or reload; nothing of the business data depends on it.
        """
        if not records:
            return
        pending = self._after_commit_buffer(
            NOTICES_KEY,
            lambda: defaultdict(lambda: defaultdict(set)),
            "_send_notices",
            "the live notices of a committed change were not sent",
        )
        pending[kind][records._name].update(records.ids)

    @api.model
    def _send_notices(self, pending):
        """Send the notices of committed changes: ``pending`` is {kind:
        {model name: record ids}}. Each addon sends those of its own kinds
        (the records may have been deleted since: search them, never browse)."""

    @api.model
    def _param(self, key):
        return self.env["res.config.settings"]._get_visibility_param(key)

    @api.model
    def _write_column(self, fname, values):
        """Write ``values`` ({visibility id: value}) to the technical column
        ``fname`` in one UPDATE, where no tracking, automation rule or
        computed field has to follow it: the sweep's ``next_check_at`` of
        every order it visits, one statement rather than one ORM write per
        order (the engine's pass writes its fields with ``_write_changed``,
        flushed together). Pending ORM writes of the column go first, this
        UPDATE then wins; the records' cache of it is dropped."""
        if not values:
            return
        records = self.browse(list(values))
        records.flush_recordset([fname])
        column_type = SQL(self._fields[fname].column_type[1])
        self.env.cr.execute(
            SQL(
                """UPDATE order_visibility visibility SET %s = new.value
                     FROM (VALUES %s) AS new(id, value) WHERE visibility.id = new.id""",
                SQL.identifier(fname),
                SQL(", ").join(SQL("(%s, CAST(%s AS %s))", id_, value, column_type) for id_, value in values.items()),
            )
        )
        records.invalidate_recordset([fname])
