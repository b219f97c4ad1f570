# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The stage engine: the facts of the orders read in one query, the stage
rules of docs/dev/architecture.md, the transitions, and the exceptions whose
condition is the state of the documents themselves."""

import json
from collections import defaultdict
from typing import NamedTuple

from odoo import api, fields, models
from odoo.addons.base_automation.models.base_automation import WRITE_TRIGGERS
from odoo.tools import SQL

from ..tools.constants import (
    CLOSED_STAGES,
    LINE_FIELDS,
    MOVE_FIELDS,
    ORDER_FIELDS,
    PAID_STATES,
    SHORT_MOVE_STATES,
    STAGE_CAUSES,
    TO_SHIP_STAGES,
)
from ..tools.fetch import record_columns


class StageFacts(NamedTuple):
    """What the stage rules read about one order (see ``_stage_facts``)."""

    state: str
    invoice_status: str
    delivered: bool
    open_moves: models.BaseModel  # stock.move, with one prefetch set for the pass
    payment_states: list
    # A return transfer (not cancelled) or a posted credit note exists:
    # the returns lifecycle reads the order (order_visibility_returns.py).
    aftersales: bool = False
    returned: bool = False  # a return transfer (not cancelled) exists
    # purchase.order.line ids of dropship requests for quotation not confirmed
    # yet: the order waits on its vendor before any transfer exists.
    vendor_lines: tuple = ()
    # Some approval of the order is pending (which one, and whether it holds
    # the order, the records tell: see _has_pending_approval).
    pending_approvals: bool = True


def _best_cause(stage, causes):
    preferred = STAGE_CAUSES.get(stage, ())
    return next((c for c in preferred if c in causes), causes[-1])


# From this many orders, the engine's facts query runs without JIT (see _stage_facts).
JIT_OFF_ORDERS = 100
# What the facts query lists for a posted credit note, among the payment
# states of the invoices (not one of Odoo's payment states).
REFUNDED = "refunded"


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

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
        # Orders deleted since they were marked are left out (see _ensure_for_orders).
        visibilities = self._ensure_for_orders(orders.sudo(), existing_only=True)
        orders = visibilities.sale_order_id
        # Load the columns the engine reads, not whole records: sale.order
        # and sale.order.line have a hundred columns each.
        orders.fetch(ORDER_FIELDS)
        facts = visibilities._stage_facts()
        stages = visibilities._derive_stages(facts)
        now = fields.Datetime.now()
        transition_vals = []
        for visibility in visibilities:
            new_stage = stages[visibility.id]
            if new_stage == visibility.stage:
                continue
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
        # The promised date and the first promise do not depend on the stage:
        # found first, so that a first confirmation writes its record once.
        promises_before = {visibility.id: visibility.promised_date for visibility in visibilities}
        visibilities._update_promised_dates()
        first_promises = visibilities._first_promises()
        if len(transitions) == 1:
            # One order (a user's change): the stage, since when, its
            # transition and its first promise in one write, so that what
            # follows a write (automation rules, tracking) runs once.
            vals = {"stage": transitions.to_stage, "stage_since": now, "last_transition_id": transitions.id}
            if transitions.visibility_id.id in first_promises:
                vals["first_promised_date"] = first_promises[transitions.visibility_id.id]
            transitions.visibility_id.write(vals)
        elif transitions:
            # Many (a batch, an installation): one write per stage, then each
            # order's own transition (see _write_changed).
            for stage, stage_transitions in transitions.grouped("to_stage").items():
                stage_transitions.visibility_id.write({"stage": stage, "stage_since": now})
            transitions.visibility_id._write_changed("last_transition_id", {t.visibility_id.id: t for t in transitions})
        visibilities._sync_sale_order_stage()
        visibilities._keep_promises(promises_before, causes, cause, first_promises)
        visibilities._update_margins()
        visibilities._update_returns(facts)
        visibilities._update_backorders(facts)
        visibilities._update_waiting_on(facts)
        visibilities._sync_event_exceptions(facts)
        visibilities._update_risk(facts)
        # The next exception sweep visits the orders of the pass
        # (order_visibility_next_check.py); a reconciliation ends with a full
        # pass of its own, so only the orders it corrected.
        (transitions.visibility_id if cause == "reconciliation" else visibilities)._mark_due()
        if transitions:
            self._on_transitions(transitions)
        return transitions

    @api.model
    def _ensure_for_orders(self, orders, existing_only=False):
        """Visibility records of ``orders``, creating the missing ones.

        The records are read whole in the same query (the engine's pass reads
        most of their columns). ``existing_only``: ``orders`` may hold orders
        deleted since (those of a transaction's pass): an order with a
        visibility record exists (it cascades), the others are checked.
        """
        existing = self.search_fetch([("sale_order_id", "in", orders.ids)], record_columns(self))
        missing = orders - existing.sale_order_id
        if missing and existing_only:
            missing = missing.exists()
        if missing:
            # The engine keeps these records: no "created" message in their
            # chatter. The columns of the orders (and customers) the new
            # records copy are read, not whole orders and customers.
            missing.fetch(["create_date", *self._copied_order_columns()])
            missing.partner_id.fetch(["ov_priority"])
            existing |= self.with_context(mail_create_nolog=True).create(
                [{"sale_order_id": order.id, "stage": "draft", "stage_since": order.create_date} for order in missing]
            )
        return existing

    @api.model
    def _copied_order_columns(self):
        """The sale.order columns the records keep a copy of (their stored
        fields related to the order's own)."""
        return [
            field.related.removeprefix("sale_order_id.")
            for field in self._fields.values()
            if field.store
            and field.related
            and field.related.count(".") == 1
            and field.related.startswith("sale_order_id.")
        ]

    def _sync_sale_order_stage(self):
        """Mirror the stage on sale.order (for its lists' filters and groups)."""
        stale = defaultdict(self.env["sale.order"].browse)
        for visibility in self:
            if visibility.sale_order_id.visibility_stage != visibility.stage:
                stale[visibility.stage] |= visibility.sale_order_id
        for stage, orders in stale.items():
            orders.write({"visibility_stage": stage})

    def _write_changed(self, field_name, values):
        """Write ``values`` ({visibility id: value}) where they differ, one
        write per value.

        When nothing follows a write of the field (no chatter tracking, no
        automation rule of this model on it) and there are several values
        (a batch, where each order has its own date or margin), the writes
        skip those overrides: each would look the automation rules up again,
        once per order. The ORM still writes the cache, the write date and
        author, marks what depends on the field, and flushes every field of
        a record in one UPDATE."""
        changed = defaultdict(list)  # value (its JSON text for a Json field) -> ids
        is_json = self._fields[field_name].type == "json"
        for visibility in self:
            value = values[visibility.id]
            if visibility[field_name] != value:
                changed[json.dumps(value) if is_json else value].append(visibility.id)
        write = models.BaseModel.write
        if len(changed) <= 1 or self._write_is_watched(field_name):
            write = type(self).write
        for value, ids in changed.items():
            write(self.browse(ids), {field_name: json.loads(value) if is_json else value})

    def _write_is_watched(self, field_name):
        """Whether something follows a write of ``field_name``: its chatter
        tracking, or an active automation rule of this model triggered by a
        write of it (or of any field)."""
        if getattr(self._fields[field_name], "tracking", None) and not self.env.context.get("tracking_disable"):
            return True
        # The rules kept in the registry's cache (base_automation.py).
        return self.env["base.automation"]._order_visibility_watched(self._name, WRITE_TRIGGERS, field_name)

    def _update_promised_dates(self):
        """The commitment date, else Odoo's expected date. The expected date
        is computed from the lines, for the orders without a commitment date
        only: on its own prefetch set, with the lines' columns it reads,
        rather than on every order of the batch with whole lines."""
        without = self.sale_order_id.filtered(lambda order: not order.commitment_date)
        without = without.with_prefetch(without._ids)
        without.order_line.fetch(LINE_FIELDS)
        expected = {order.id: order.expected_date for order in without}
        self._write_changed(
            "promised_date",
            {v.id: v.sale_order_id.commitment_date or expected[v.sale_order_id.id] or False for v in self},
        )

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
                        + self._shortage_cause(short)
                    }
        held = self.filtered(lambda v: v.credit_hold and v.stage not in CLOSED_STAGES)
        asking = self.filtered(lambda v: facts[v.sale_order_id.id].pending_approvals)
        pending = asking.approval_ids.filtered(lambda a: a.state == "pending")
        self.env["order.visibility.exception"]._sync_many(
            {
                "stock_shortage": detected,
                "credit_hold": {(v.id, "", 0): {"detail": v.credit_hold_reason} for v in held},
                "approval_pending": {
                    (a.visibility_id.id, "order.visibility.approval", a.id): {"detail": a._exception_detail()}
                    for a in pending
                },
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

        The rules are the table of docs/dev/architecture.md (Stages), top-down, on the
        facts read for all orders at once (see ``_stage_facts``).
        """
        facts = facts if facts is not None else self._stage_facts()
        return {visibility.id: visibility._derive_stage(facts) for visibility in self}

    def _stage_facts(self):
        """{order id: StageFacts} of the orders of ``self``, in one query.

        What the stage rules need from sales, stock and accounting: the
        order's state and invoice status, whether goods left the company
        (``qty_delivered``, which Odoo computes from done moves into customer
        locations only, or a done delivery to the customer: goods that came
        back had left all the same), the open moves of any step (pick, pack,
        ship; returns excluded, and so are the re-deliveries of a line made
        after a return of it: exchanges), the payment states of the posted
        customer invoices, and whether a return or a credit note exists.
        Reading them through the ORM costs a full record load of every line,
        move and invoice; this reads those columns only. It runs
        as the engine (superuser), which only derives data from them.
        """
        orders = self.sale_order_id
        self.env["sale.order"].flush_model(["state", "invoice_status"])
        self.env["sale.order.line"].flush_model(["order_id", "product_id", "qty_delivered", "invoice_lines"])
        self.env["product.template"].flush_model(["type"])
        self.env["product.product"].flush_model(["product_tmpl_id"])
        self.env["stock.location"].flush_model(["usage"])
        self.env["stock.picking"].flush_model(["sale_id"])
        self.env["stock.move"].flush_model(
            ["picking_id", "state", "location_id", "location_dest_id", "origin_returned_move_id", "sale_line_id"]
        )
        self.env["account.move"].flush_model(["state", "move_type", "payment_state"])
        self.env["account.move.line"].flush_model(["move_id"])
        self.env["purchase.order.line"].flush_model(["order_id", "sale_line_id"])
        self.env["purchase.order"].flush_model(["state", "picking_type_id"])
        self.env["stock.picking.type"].flush_model(["default_location_dest_id"])
        self.flush_model(["sale_order_id"])
        self.env["order.visibility.approval"].flush_model(["visibility_id", "state"])
        # OFFSET 0 keeps the second EXISTS a per-order probe: without it
        # PostgreSQL may hash every done delivery move of the database once per
        # batch (76 ms at 100,000 orders). A batch (a reconciliation, an
        # installation) runs without JIT: compiling this query's expressions
        # took 57 ms per 1,000 orders, more than running it; a single order's
        # estimate never reaches PostgreSQL's jit_above_cost.
        batch = len(orders) >= JIT_OFF_ORDERS
        if batch:
            self.env.cr.execute(SQL("SET LOCAL jit = off"))
        rows = self.env.execute_query(
            SQL(
                """SELECT so.id, so.state, so.invoice_status,
                          EXISTS (SELECT 1 FROM sale_order_line line
                                    JOIN product_product product ON product.id = line.product_id
                                    JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                                   WHERE line.order_id = so.id AND tmpl.type = 'consu' AND line.qty_delivered > 0)
                          OR EXISTS (SELECT 1 FROM stock_picking picking
                                       JOIN stock_move move ON move.picking_id = picking.id
                                       JOIN stock_location dest ON dest.id = move.location_dest_id
                                      WHERE picking.sale_id = so.id AND move.state = 'done'
                                        AND dest.usage = 'customer' AND move.origin_returned_move_id IS NULL
                                      OFFSET 0),
                          ARRAY(SELECT move.id FROM stock_picking picking
                                  JOIN stock_move move ON move.picking_id = picking.id
                                  JOIN stock_location source ON source.id = move.location_id
                                 WHERE picking.sale_id = so.id AND move.state NOT IN ('done', 'cancel')
                                   AND source.usage != 'customer'
                                   AND NOT EXISTS (SELECT 1 FROM stock_move ret
                                                    WHERE ret.sale_line_id = move.sale_line_id
                                                      AND ret.origin_returned_move_id IS NOT NULL
                                                      AND ret.state != 'cancel' AND ret.id < move.id)
                                 ORDER BY move.id),
                          ARRAY(SELECT DISTINCT CASE invoice.move_type WHEN 'out_refund' THEN %s
                                                                      ELSE invoice.payment_state END
                                  FROM sale_order_line line
                                  JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = line.id
                                  JOIN account_move_line item ON item.id = rel.invoice_line_id
                                  JOIN account_move invoice ON invoice.id = item.move_id
                                 WHERE line.order_id = so.id AND invoice.state = 'posted'
                                   AND invoice.move_type IN ('out_invoice', 'out_refund')),
                          EXISTS (SELECT 1 FROM sale_order_line line
                                    JOIN stock_move ret ON ret.sale_line_id = line.id
                                   WHERE line.order_id = so.id AND ret.origin_returned_move_id IS NOT NULL
                                     AND ret.state != 'cancel'),
                          ARRAY(SELECT pol.id FROM sale_order_line line
                                  JOIN purchase_order_line pol ON pol.sale_line_id = line.id
                                  JOIN purchase_order po ON po.id = pol.order_id
                                  JOIN stock_picking_type ptype ON ptype.id = po.picking_type_id
                                  JOIN stock_location pdest ON pdest.id = ptype.default_location_dest_id
                                 WHERE line.order_id = so.id AND po.state IN ('draft', 'sent', 'to approve')
                                   AND pdest.usage = 'customer'
                                 ORDER BY pol.id),
                          EXISTS (SELECT 1 FROM order_visibility visibility
                                    JOIN order_visibility_approval approval ON approval.visibility_id = visibility.id
                                   WHERE visibility.sale_order_id = so.id AND approval.state = 'pending')
                     FROM sale_order so
                    WHERE so.id = ANY(%s)""",
                REFUNDED,
                orders.ids,
            )
        )
        if batch:
            self.env.cr.execute(SQL("SET LOCAL jit TO DEFAULT"))
        # The open moves and every move of their chains share one prefetch
        # set: reading the chain of one order reads those of all orders.
        all_open = self.env["stock.move"].browse([move_id for row in rows for move_id in row[4]])
        all_open._rollup_move_origs_fetch()
        prefetch = tuple(all_open._rollup_move_origs())
        Move = self.env["stock.move"]
        Move.browse(prefetch).fetch(MOVE_FIELDS)
        facts = {}
        for order_id, state, invoice_status, delivered, open_ids, invoice_states, returned, vendor_ids, pending in rows:
            payment_states = [payment_state for payment_state in invoice_states if payment_state != REFUNDED]
            facts[order_id] = StageFacts(
                state,
                invoice_status,
                delivered,
                Move.browse(open_ids).with_prefetch(prefetch),
                payment_states,
                returned or REFUNDED in invoice_states,
                returned,
                tuple(vendor_ids),
                pending,
            )
        return facts

    def _derive_stage(self, facts):
        """The stage of one order; ``facts``: see ``_stage_facts``."""
        self.ensure_one()
        order = facts[self.sale_order_id.id]
        if order.state == "cancel":
            return "cancelled"
        if order.pending_approvals and self._has_pending_approval():
            return "pending_approval"
        if order.state in ("draft", "sent"):
            return "draft"
        if self._is_on_credit_hold():
            return "credit_hold"
        if order.open_moves:
            if order.delivered:
                return "partially_shipped"
            if order.vendor_lines or self._short_moves(order.open_moves) or self._vendor_moves(order.open_moves):
                return "awaiting_stock"
            return "ready_to_ship"
        if order.vendor_lines:
            # Dropship: the vendor's transfer does not exist before the purchase is confirmed.
            return "partially_shipped" if order.delivered else "awaiting_stock"
        # Everything shipped, or nothing to ship (services): invoicing decides.
        if order.aftersales:
            # Goods that came back and credit notes make Odoo's invoice status
            # ask for another document (to invoice, or to credit): that is the
            # returns lifecycle (return_state), not a step back. The invoices
            # not credited in full decide; when every invoice is credited in
            # full, the order is closed if goods came back, else it is to be
            # invoiced again (a credit note that cancels an invoice).
            live = [state for state in order.payment_states if state != "reversed"]
            if live:
                return "paid" if all(state in PAID_STATES for state in live) else "invoiced"
            if order.returned and order.payment_states:
                return "paid"
        elif order.invoice_status == "invoiced" and order.payment_states:
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
        # A dropship move waits on its vendor, not on the company's stock.
        vendor = self._vendor_moves(moves)
        short = moves.filtered(lambda m: m.state in SHORT_MOVE_STATES and m not in vendor)
        for move in moves.filtered(lambda m: m.state == "waiting" and m not in vendor):
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
        # Nor does an expedite request or a return authorization: the order is
        # confirmed and goes on (a return waits at its own transfer).
        return any(
            approval.state == "pending"
            and not approval.is_review
            and approval.reason not in ("expedite", "return_authorization")
            for approval in self.approval_ids
        )

    def _is_on_credit_hold(self):
        return self.credit_hold
