# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Service levels: the first promise kept on record, its later changes
logged, and each order measured once its goods have all left (on time, in
full, fill rate, cycle times), whenever its stage changes: stored computed
fields, computed for all the orders of an engine pass at once (see
docs/user/service-levels.md)."""

from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, float_compare

from ..tools.constants import (
    PROMISE_CAUSE_OF,
    PROMISE_CAUSES,
    PROMISE_CAUSES_KEY,
    SERVICE_LEVEL_FIELDS,
    SHIPPED_STAGES,
)
from ..tools.dates import hours_between

NOT_MEASURED = dict.fromkeys(SERVICE_LEVEL_FIELDS, False)


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    first_promised_date = fields.Datetime(
        string="First Promise",
        readonly=True,
        copy=False,
        index=True,
        help="The promised date at the first confirmation of the order, kept as it was: "
        "service levels are measured against it.",
    )
    promise_change_ids = fields.One2many(
        "order.visibility.promise.change", "visibility_id", string="Promise Changes", readonly=True
    )
    is_measured = fields.Boolean(
        string="Measured",
        compute="_compute_service_levels",
        store=True,
        help="All the goods of the order have left: its service level is measured. "
        "Services-only and cancelled orders are not measured.",
    )
    fully_shipped_date = fields.Datetime(
        compute="_compute_service_levels", store=True, help="When the last ordered goods left."
    )
    is_on_time = fields.Boolean(
        string="On Time",
        compute="_compute_service_levels",
        store=True,
        help="The last goods left by the first promise plus the grace of the Settings.",
    )
    is_in_full = fields.Boolean(
        string="In Full",
        compute="_compute_service_levels",
        store=True,
        help="The first shipment carried the full ordered quantity of every line (no backorder).",
    )
    is_otif = fields.Boolean(string="OTIF", compute="_compute_service_levels", store=True, help="On time and in full.")
    fill_rate = fields.Float(
        digits=(16, 4),
        compute="_compute_service_levels",
        store=True,
        aggregator="avg",
        help="Units shipped by the first promise plus the grace, divided by the units ordered (0 to 1).",
    )
    quotation_to_confirmed_hours = fields.Float(
        string="Quotation to Confirmed (hours)", compute="_compute_service_levels", store=True, aggregator="avg"
    )
    confirmed_to_shipped_hours = fields.Float(
        string="Confirmed to Shipped (hours)", compute="_compute_service_levels", store=True, aggregator="avg"
    )
    paid_date = fields.Datetime(
        compute="_compute_service_levels",
        store=True,
        help="When the measured order reached the paid stage (empty until then).",
    )
    confirmed_to_paid_hours = fields.Float(
        string="Confirmed to Paid (hours)",
        compute="_compute_service_levels",
        store=True,
        aggregator="avg",
        help="Hours from the confirmation to the full payment; set once the order is paid.",
    )

    _measured_promise_idx = models.Index("(company_id, first_promised_date) WHERE is_measured")

    # ------------------------------------------------------------------
    # The promise
    # ------------------------------------------------------------------

    def _first_promises(self):
        """{visibility id: promised date} of the confirmed orders of ``self``
        with a promise and no first promise kept yet."""
        return {
            visibility.id: visibility.promised_date
            for visibility in self
            if visibility.sale_order_id.state == "sale"
            and visibility.promised_date
            and not visibility.first_promised_date
        }

    def _keep_promises(self, promises_before, causes=None, default_cause="recompute", first_promises=None):
        """Keep the first promise of newly confirmed orders, log the later changes.

        ``promises_before``: {visibility id: promised date before this pass};
        ``causes``: {order id: [events of the transaction]} as the engine
        has them; ``first_promises``: ``_first_promises()`` as the pass found
        them before writing the stage (where it wrote some already). Called
        by the recompute pass after the promised dates are updated.
        """
        now = fields.Datetime.now()
        if first_promises is None:
            first_promises = self._first_promises()
        to_keep = {}  # visibility id: its first promise
        moved = {}  # visibility: promised date before
        for visibility in self:
            promised = visibility.promised_date
            if visibility.id in first_promises:
                if not visibility.first_promised_date:  # else the stage's write kept it
                    to_keep[visibility.id] = first_promises[visibility.id]
                continue
            if visibility.sale_order_id.state != "sale" or not promised:
                continue
            before = promises_before.get(visibility.id)
            if before and before != promised:
                moved[visibility] = before
        change_vals = []
        if moved:
            declared = self._pop_declared_promise_causes(self.browse(v.id for v in moved).sale_order_id)
            found = self.browse(v.id for v in moved)._promise_change_causes(
                {visibility.id: before for visibility, before in moved.items()}
            )
            for visibility, before in moved.items():
                events = (causes or {}).get(visibility.sale_order_id.id) or [default_cause]
                change_vals.append(
                    {
                        "visibility_id": visibility.id,
                        "old_date": before,
                        "new_date": visibility.promised_date,
                        "changed_at": now,
                        "changed_by": self.env.uid,
                        # What the user said, else what the facts tell, else the event.
                        "cause": declared.get(visibility.sale_order_id.id)
                        or found.get(visibility.id)
                        or next(
                            (PROMISE_CAUSE_OF[event] for event in reversed(events) if event in PROMISE_CAUSE_OF),
                            "other",
                        ),
                    }
                )
        self.browse(list(to_keep))._write_changed("first_promised_date", to_keep)
        changes = self.env["order.visibility.promise.change"].sudo().create(change_vals)
        if changes:
            self._on_promise_changes(changes)
        return changes

    @api.model
    def _declare_promise_cause(self, orders, cause):
        """Record why a user moves the promise of ``orders`` in this
        transaction (the Move Promise wizard): the engine's pass that logs
        the change takes it. Kept in the transaction, server-side (never
        read from a caller's context)."""
        if cause not in dict(PROMISE_CAUSES):
            raise ValueError(f"unknown promise cause {cause!r}")
        declared = self.env.cr.precommit.data.setdefault(PROMISE_CAUSES_KEY, {})
        declared.update(dict.fromkeys(orders.ids, cause))

    @api.model
    def _pop_declared_promise_causes(self, orders):
        declared = self.env.cr.precommit.data.get(PROMISE_CAUSES_KEY) or {}
        return {order_id: declared.pop(order_id) for order_id in orders.ids if order_id in declared}

    def _promise_change_causes(self, promises_before):
        """{visibility id: cause} the facts tell for the promises of ``self``
        that moved (``promises_before``: {visibility id: promised date
        before}): ``supplier_delay`` when the promise moved later and a
        purchase still feeding the order is planned after the old promise.
        Called for the changed orders only; other addons add their causes
        (the webhooks addon: ``carrier_eta``)."""
        later = self.filtered(lambda v: v.promised_date > promises_before[v.id])
        if not later:
            return {}
        facts = later._stage_facts()
        found = {}
        for visibility in later:
            open_moves = facts[visibility.sale_order_id.id].open_moves
            planned = self._feeding_purchase_lines(open_moves).mapped("date_planned")
            if planned and max(planned) > promises_before[visibility.id]:
                found[visibility.id] = "supplier_delay"
        return found

    def _on_promise_changes(self, changes):
        """Hook called once per recompute pass with the promise changes it
        logged (``order.visibility.promise.change`` records).

        The core does nothing here; the webhooks addon extends it to emit
        ``order.promise_changed`` in the same transaction.
        """

    # ------------------------------------------------------------------
    # The measures
    # ------------------------------------------------------------------

    @api.depends("stage", "stage_since", "first_promised_date")
    def _compute_service_levels(self):
        """Measure the orders whose goods have all left; the others are not
        measured. The engine's stage changes trigger it: the ORM computes
        every order of a pass at once, and ``_service_level_values`` reads
        their moves in one query. The orders not measured get the same
        values: assigned to all of them at once, one field at a time (on
        100,000 orders, one assignment per order and field cost a second)."""
        measured = self.filtered(lambda v: v.id and v.stage in SHIPPED_STAGES)._service_level_values()
        self.filtered(lambda v: v.id not in measured).update(NOT_MEASURED)
        for visibility in self.filtered(lambda v: v.id in measured):
            values = measured[visibility.id]
            if visibility.stage == "paid":
                values = values | {
                    "paid_date": visibility.stage_since,
                    "confirmed_to_paid_hours": hours_between(
                        visibility.sale_order_id.date_order, visibility.stage_since
                    ),
                }
            visibility.update(values)

    def _service_level_values(self):
        """{visibility id: measures} of the measurable orders of ``self``, from
        their goods lines and the done moves that carried them to the
        customer (returns from the customer are not counted), in one query.

        The query filters the orders (``so.id``), not their lines: filtered
        on ``line.order_id``, PostgreSQL joined the orders by a parallel scan
        of the whole table (42 ms for 500 orders at 100,000 orders, 11 ms
        this way; the same rows)."""
        if not self:
            return {}
        orders = self.sale_order_id
        self.env["sale.order"].flush_model(["date_order"])
        self.env["sale.order.line"].flush_model(["order_id", "product_id", "product_uom_qty", "product_uom_id"])
        self.env["product.product"].flush_model(["product_tmpl_id"])
        self.env["product.template"].flush_model(["type"])
        self.env["stock.location"].flush_model(["usage"])
        self.env["stock.picking"].flush_model(["date_done"])
        self.env["stock.move"].flush_model(
            [
                "sale_line_id",
                "state",
                "location_id",
                "location_dest_id",
                "product_uom",
                "quantity",
                "date",
                "picking_id",
            ]
        )
        rows = self.env.execute_query(
            SQL(
                """SELECT line.order_id, so.create_date, line.id, line.product_uom_qty, line.product_uom_id,
                          move.product_uom, move.quantity, COALESCE(picking.date_done, move.date), move.picking_id
                     FROM sale_order_line line
                     JOIN sale_order so ON so.id = line.order_id
                     JOIN product_product product ON product.id = line.product_id
                     JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                LEFT JOIN (stock_move move
                           JOIN stock_location source ON source.id = move.location_id AND source.usage != 'customer'
                           JOIN stock_location dest ON dest.id = move.location_dest_id AND dest.usage = 'customer'
                           LEFT JOIN stock_picking picking ON picking.id = move.picking_id)
                       ON move.sale_line_id = line.id AND move.state = 'done'
                    WHERE so.id = ANY(%s) AND line.display_type IS NULL AND tmpl.type = 'consu'
                      AND line.product_uom_qty > 0""",
                orders.ids,
            )
        )
        created = {}
        ordered = defaultdict(dict)  # order id: {line id: quantity}
        moves = defaultdict(list)  # order id: [(done at, picking id, line id, quantity in the line's unit)]
        UoM = self.env["uom.uom"]
        for order_id, create_date, line_id, line_qty, line_uom, move_uom, quantity, done_at, picking_id in rows:
            created[order_id] = create_date
            ordered[order_id][line_id] = line_qty
            if done_at is None:
                continue
            if move_uom != line_uom:
                quantity_in_line_uom = UoM.browse(move_uom)._compute_quantity(
                    quantity, UoM.browse(line_uom), round=False
                )
            else:
                quantity_in_line_uom = quantity
            moves[order_id].append((done_at, picking_id or 0, line_id, quantity_in_line_uom))
        grace = timedelta(hours=self._param("order_visibility.otif_grace_hours"))
        digits = self.env["decimal.precision"].precision_get("Product Unit")
        values = {}
        for visibility in self:
            order = visibility.sale_order_id
            lines, shipments = ordered.get(order.id), sorted(moves.get(order.id, ()))
            promise = visibility.first_promised_date or visibility.promised_date
            if not lines or not shipments or not promise:
                continue
            deadline = promise + grace
            first_done, first_picking = shipments[0][:2]
            in_first, by_deadline = defaultdict(float), defaultdict(float)
            for done_at, picking_id, line_id, quantity in shipments:
                if (picking_id and picking_id == first_picking) or (not picking_id and done_at == first_done):
                    in_first[line_id] += quantity
                if done_at <= deadline:
                    by_deadline[line_id] += quantity
            shipped_at = shipments[-1][0]
            is_on_time = shipped_at <= deadline
            is_in_full = all(
                float_compare(in_first[line_id], quantity, precision_digits=digits) >= 0
                for line_id, quantity in lines.items()
            )
            filled = sum(min(by_deadline[line_id], quantity) for line_id, quantity in lines.items())
            confirmed = order.date_order
            values[visibility.id] = {
                "is_measured": True,
                "fully_shipped_date": shipped_at,
                "is_on_time": is_on_time,
                "is_in_full": is_in_full,
                "is_otif": is_on_time and is_in_full,
                "fill_rate": round(filled / sum(lines.values()), 4),
                "quotation_to_confirmed_hours": hours_between(created[order.id], confirmed),
                "confirmed_to_shipped_hours": hours_between(confirmed, shipped_at),
                "paid_date": False,
                "confirmed_to_paid_hours": False,
            }
        return values
