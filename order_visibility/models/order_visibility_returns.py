# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Returns and refunds: a lifecycle beside the stage.

Goods coming back (Odoo's return wizard: moves from the customer with
``origin_returned_move_id``), credit notes (``out_refund``) and exchanges
are read by the engine pass, for the orders that have any (a column of the
stage facts says which), and kept on the order: ``return_state``, the
quantity and value returned, and a step on the timeline for each change.
The stage itself never steps back for them (see ``_derive_stage``)."""

from collections import defaultdict

from odoo import api, fields, models

from ..tools.constants import RETURN_STATES, SETTLED_STATES


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    return_state = fields.Selection(
        RETURN_STATES,
        string="Return",
        required=True,
        default="none",
        readonly=True,
        index=True,
        tracking=True,
        help="Requested: a return transfer exists. Goods returned: every return transfer is done. "
        "Refunded: a credit note is posted and paid or reconciled. Replaced: an exchange has shipped.",
    )
    return_state_since = fields.Datetime(readonly=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    returned_qty = fields.Float(
        string="Returned Quantity",
        digits="Product Unit",
        readonly=True,
        help="Units on the order's return transfers (done: received; otherwise: requested).",
    )
    returned_value = fields.Monetary(
        currency_field="company_currency_id",
        readonly=True,
        help="Untaxed sales value of the returned units, in the company's currency.",
    )
    return_step_ids = fields.One2many("order.visibility.return.step", "visibility_id", string="Return Steps")

    def _update_returns(self, facts):
        """Bring the returns lifecycle of ``self`` up to date; returns the steps logged.

        Only orders with a return or a credit note (``facts``: see
        ``_stage_facts``), or that had one, are read: three searches for all
        of them at once, none when there is none.
        """
        Step = self.env["order.visibility.return.step"].sudo()
        aftersales = self._aftersales_order_ids(facts)
        subset = self.filtered(lambda v: v.sale_order_id.id in aftersales or v.return_state != "none")
        if not subset:
            return Step
        values = subset._return_values()
        now = fields.Datetime.now()
        step_vals = []
        for visibility in subset:
            state, qty, value, note = values[visibility.id]
            changes = {}
            if visibility.return_state != state:
                changes.update(return_state=state, return_state_since=now)
                step_vals.append(
                    {
                        "visibility_id": visibility.id,
                        "from_state": visibility.return_state,
                        "to_state": state,
                        "changed_at": now,
                        "returned_qty": qty,
                        "returned_value": value,
                        "note": note,
                    }
                )
            if visibility.company_currency_id.compare_amounts(visibility.returned_value, value) or (
                round(visibility.returned_qty, 6) != round(qty, 6)
            ):
                changes.update(returned_qty=qty, returned_value=value)
            if changes:
                visibility.write(changes)
        steps = Step.create(step_vals)
        subset._request_return_authorizations()
        if steps:
            self._on_return_steps(steps)
        return steps

    def _aftersales_order_ids(self, facts):
        """Ids of the orders of ``self`` whose returns lifecycle must be read
        (``facts``: see ``_stage_facts``). Hook: a bridge adds the orders its
        own return documents concern."""
        return {order_id for order_id, fact in facts.items() if fact.aftersales}

    def _return_documents(self):
        """What the lifecycle of the orders of ``self`` is computed from:
        ``(returns, exchanges, refunds)``, each {order id: ...}.

        ``returns``: {key: (reference, qty in the product's unit, untaxed
        value in the order's currency, received)}, key ``("stock.move", id)``
        for a return move; ``exchanges``: {key: reference} of the shipments
        of an exchange; ``refunds``: posted credit notes (account.move).
        Hook: a bridge adds its own documents under the same keys when they
        are the same moves, so nothing counts twice."""
        orders = self.sale_order_id
        Move = self.env["stock.move"]
        returns = Move.search_fetch(
            [
                ("sale_line_id.order_id", "in", orders.ids),
                ("origin_returned_move_id", "!=", False),
                ("location_id.usage", "=", "customer"),
                ("state", "!=", "cancel"),
            ],
            ["sale_line_id", "state", "product_id", "product_uom", "product_uom_qty", "quantity", "picking_id"],
            order="id",
        )
        first_return = {}
        for move in returns:
            first_return.setdefault(move.sale_line_id.id, move.id)
        # An exchange: goods shipped to the customer on a returned line after its return.
        exchanges = Move
        if first_return:
            exchanges = Move.search_fetch(
                [
                    ("sale_line_id", "in", list(first_return)),
                    ("state", "=", "done"),
                    ("location_dest_id.usage", "=", "customer"),
                    ("origin_returned_move_id", "=", False),
                ],
                ["sale_line_id", "picking_id"],
            ).filtered(lambda m: m.id > first_return[m.sale_line_id.id])
        refunds = self.env["account.move"].search_fetch(
            [
                ("move_type", "=", "out_refund"),
                ("state", "=", "posted"),
                ("invoice_line_ids.sale_line_ids.order_id", "in", orders.ids),
            ],
            ["name", "payment_state", "amount_untaxed_signed", "invoice_line_ids"],
        )
        refunds_of = defaultdict(refunds.browse)
        for refund in refunds:
            for order in refund.invoice_line_ids.sale_line_ids.order_id:
                refunds_of[order.id] |= refund
        returns_of = defaultdict(dict)
        for move in returns:
            moved = move.quantity if move.state == "done" else move.product_uom_qty
            line = move.sale_line_id
            value = 0.0
            if line.product_uom_qty:
                line_qty = move.product_uom._compute_quantity(moved, line.product_uom_id)
                value = line_qty * line.price_subtotal / line.product_uom_qty
            returns_of[line.order_id.id][("stock.move", move.id)] = (
                move.picking_id.name,
                move.product_uom._compute_quantity(moved, move.product_id.uom_id),
                value,
                move.state == "done",
            )
        exchanges_of = defaultdict(dict)
        for move in exchanges:
            exchanges_of[move.sale_line_id.order_id.id][("stock.move", move.id)] = move.picking_id.name
        return returns_of, exchanges_of, refunds_of

    def _return_values(self):
        """{visibility id: (return state, returned qty, returned value, note)}."""
        returns_of, exchanges_of, refunds_of = self._return_documents()
        today = fields.Date.context_today(self)
        values = {}
        for visibility in self:
            order = visibility.sale_order_id
            items = list(returns_of.get(order.id, {}).values())
            order_refunds = refunds_of[order.id]
            qty = sum(item[1] for item in items)
            value = sum(item[2] for item in items)
            company = order.company_id
            value = order.currency_id._convert(value, company.currency_id, company, order.date_order or today)
            pickings = ", ".join(dict.fromkeys(item[0] for item in items if item[0]))
            if exchanges_of.get(order.id):
                state = "replaced"
                note = self.env._(
                    "Replacement shipped with %(transfers)s",
                    transfers=", ".join(dict.fromkeys(r for r in exchanges_of[order.id].values() if r)),
                )
            elif order_refunds and all(r.payment_state in SETTLED_STATES for r in order_refunds):
                state = "refunded"
                note = self.env._(
                    "Refunded with %(refunds)s: %(amount)s %(currency)s",
                    refunds=", ".join(order_refunds.mapped("name")),
                    amount=f"{-sum(order_refunds.mapped('amount_untaxed_signed')):,.2f}",
                    currency=company.currency_id.name,
                )
            elif items and all(item[3] for item in items):
                state = "received"
                note = self.env._("Goods back with %(transfers)s: %(qty)s units", transfers=pickings, qty=f"{qty:g}")
            elif items:
                state = "requested"
                note = self.env._("Return %(transfers)s requested: %(qty)s units", transfers=pickings, qty=f"{qty:g}")
            else:
                state = "none"
                note = self.env._("No return open any more")
            values[visibility.id] = (state, qty, value, note)
        return values

    def _request_return_authorizations(self):
        """Returns above the Settings amount need an authorization (when that
        rule is on), once per amount: an approval, pending or decided, that
        covers the value returned is not asked again."""
        if not self._param("order_visibility.approve_returns"):
            return
        limit = self._param("order_visibility.return_approval_amount")
        Approval = self.env["order.visibility.approval"].sudo()
        for visibility in self.filtered(lambda v: v.return_state in ("requested", "received")):
            currency = visibility.company_currency_id
            if currency.compare_amounts(visibility.returned_value, limit) <= 0:
                continue
            asked = visibility.approval_ids.filtered(
                lambda a, v=visibility, c=currency: (
                    a.reason == "return_authorization" and c.compare_amounts(a.amount_company, v.returned_value) >= 0
                )
            )
            if asked:
                continue
            Approval._request(
                visibility,
                "return_authorization",
                self.env._(
                    "Return of %(amount)s %(currency)s (above %(limit)s %(currency)s)",
                    amount=f"{visibility.returned_value:,.2f}",
                    currency=currency.name,
                    limit=f"{limit:,.2f}",
                ),
                values={"amount_company": visibility.returned_value},
            )

    def _return_blocked_reason(self):
        """Why the return transfers of this order may not be received yet, or None."""
        self.ensure_one()
        approvals = self.approval_ids.filtered(lambda a: a.reason == "return_authorization")
        if any(a.state == "pending" for a in approvals):
            return self.env._("the return waits for its authorization")
        if approvals and all(a.state == "rejected" for a in approvals):
            return self.env._("the return authorization was rejected: cancel the return")
        return None

    @api.model
    def _on_return_steps(self, steps):
        """Hook called once per recompute pass with the return steps it logged
        (``order.visibility.return.step`` records).

        The core does nothing here; the webhooks addon extends it to emit
        ``order.return_requested``, ``order.return_received`` and
        ``order.refunded`` in the same transaction.
        """
