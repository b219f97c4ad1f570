# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from collections import defaultdict

from odoo import api, fields, models

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


class OrderVisibility(models.Model):
    _name = "order.visibility"
    _description = "Order Visibility"
    _inherit = ["mail.thread"]
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
    company_id = fields.Many2one(related="sale_order_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="sale_order_id.partner_id", string="Customer", store=True, index=True)
    user_id = fields.Many2one(related="sale_order_id.user_id", string="Salesperson", store=True)
    team_id = fields.Many2one(related="sale_order_id.team_id", string="Sales Team", store=True)
    warehouse_id = fields.Many2one(related="sale_order_id.warehouse_id", store=True)
    currency_id = fields.Many2one(related="sale_order_id.currency_id")
    amount_total = fields.Monetary(related="sale_order_id.amount_total", currency_field="currency_id")
    customer_priority = fields.Selection(
        PRIORITIES, related="partner_id.ov_priority", string="Customer Priority", store=True
    )
    stage = fields.Selection(STAGES, required=True, default="draft", readonly=True, index=True, tracking=True)
    stage_since = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    promised_date = fields.Datetime(
        readonly=True,
        help="The commitment date of the order, else the expected date computed by Odoo.",
    )
    transition_ids = fields.One2many("order.visibility.transition", "visibility_id", string="Timeline")
    last_transition_id = fields.Many2one("order.visibility.transition", readonly=True)

    _sale_order_uniq = models.Constraint(
        "UNIQUE(sale_order_id)",
        "An order has exactly one visibility record.",
    )
    _stage_company_idx = models.Index("(company_id, stage)")

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
        orders = orders.filtered("id")
        if not orders:
            return
        precommit = self.env.cr.precommit
        dirty = precommit.data.get(DIRTY_KEY)
        if dirty is None:
            dirty = precommit.data[DIRTY_KEY] = {}
            env = self.env(su=True)
            precommit.add(lambda: env["order.visibility"]._run_scheduled_recompute())
        for order_id in orders.ids:
            dirty.setdefault(order_id, cause)

    @api.model
    def _run_scheduled_recompute(self):
        dirty = self.env.cr.precommit.data.pop(DIRTY_KEY, {})
        by_cause = defaultdict(list)
        for order_id, cause in dirty.items():
            by_cause[cause].append(order_id)
        for cause, order_ids in by_cause.items():
            self._recompute_orders(self.env["sale.order"].browse(order_ids).exists(), cause=cause)

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------

    @api.model
    def _recompute_orders(self, orders, cause="recompute"):
        """Bring the visibility records of ``orders`` up to date.

        Returns the transitions created (real stage changes only).
        """
        if not orders:
            return self.env["order.visibility.transition"]
        # The engine keeps derived data: it runs as superuser whoever caused
        # the change (callers check access to what they act on).
        self = self.sudo()
        orders = orders.sudo()
        visibilities = self._ensure_for_orders(orders)
        stages = visibilities._derive_stages()
        now = fields.Datetime.now()
        changed = defaultdict(lambda: self.browse())
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
                    "cause": cause,
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
        stale = defaultdict(lambda: self.env["sale.order"])
        for visibility in self:
            if visibility.sale_order_id.visibility_stage != visibility.stage:
                stale[visibility.stage] |= visibility.sale_order_id
        for stage, orders in stale.items():
            orders.write({"visibility_stage": stage})

    def _update_promised_dates(self):
        for visibility in self:
            order = visibility.sale_order_id
            promised = order.commitment_date or order.expected_date or False
            if visibility.promised_date != promised:
                visibility.promised_date = promised

    def _on_transitions(self, transitions):
        """Hook called with the stage changes of one recompute pass.

        Other addons (webhooks) extend it to emit events in the same
        transaction; the core posts nothing here so that chatter stays quiet.
        """

    def _derive_stages(self):
        """{visibility id: stage code} from the orders' current documents.

        The rules are the table of DESIGN.md §1, evaluated top-down; reads
        are batched over all records of ``self`` by the ORM prefetch.
        """
        result = {}
        for visibility in self:
            result[visibility.id] = visibility._derive_stage()
        return result

    def _derive_stage(self):
        self.ensure_one()
        order = self.sale_order_id
        if order.state == "cancel":
            return "cancelled"
        if self._has_pending_approval():
            return "pending_approval"
        if order.state in ("draft", "sent"):
            return "draft"
        if self._is_on_credit_hold():
            return "credit_hold"
        # Open work of any step (pick, pack, ship), returns excluded; what
        # left the company is read from qty_delivered, which Odoo computes
        # from done moves into customer locations only.
        open_moves = order.picking_ids.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel") and m.location_id.usage != "customer"
        )
        delivered = any(line.product_id.type == "consu" and line.qty_delivered > 0 for line in order.order_line)
        if open_moves:
            if delivered:
                return "partially_shipped"
            if any(m.state in SHORT_MOVE_STATES for m in open_moves):
                return "awaiting_stock"
            return "ready_to_ship"
        # Everything shipped, or nothing to ship (services): invoicing decides.
        invoices = order.invoice_ids.filtered(lambda m: m.state == "posted" and m.move_type == "out_invoice")
        if order.invoice_status == "invoiced" and invoices:
            if all(inv.payment_state in PAID_STATES for inv in invoices):
                return "paid"
            return "invoiced"
        return "shipped" if delivered else "confirmed"

    def _has_pending_approval(self):
        """Extended by approvals: an open approval request blocks the order."""
        return False

    def _is_on_credit_hold(self):
        """Extended by the credit policy: a hold not yet released."""
        return False

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_recompute(self):
        """Recompute the stage of the selected orders now."""
        self._recompute_orders(self.sale_order_id, cause="manual")
        return True

    def action_open_sale_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": self.sale_order_id.id,
            "view_mode": "form",
        }
