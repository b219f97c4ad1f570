# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Time-based detectors of exceptions, one per exception type code
(``_detect_<code>``), run by the exception sweep."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.constants import BATCH_SIZE, OPEN_CONFIRMED_STAGES, TO_SHIP_STAGES


class OrderVisibilityException(models.Model):
    _inherit = "order.visibility.exception"  # pylint: disable=consider-merging-classes-inherited

    # Each detector returns {(visibility id, related model, related id):
    # {"detail": text, "owner_id": optional user id}} for the sweep
    # (order.visibility._sweep_exceptions). ``visibilities``: the orders to
    # look at, those the sweep visits (None: every order).

    @api.model
    def _keys(self, visibilities, detail):
        return {(v.id, "", 0): {"detail": detail} for v in visibilities}

    @api.model
    def _scope_domain(self, visibilities, field_name="id"):
        """The domain restricting a detector's search to ``visibilities`` (None: no restriction)."""
        return [] if visibilities is None else [(field_name, "in", visibilities.ids)]

    @api.model
    def _detect_late_shipment(self, now, visibilities=None):
        Visibility = self.env["order.visibility"]
        grace = Visibility._param("order_visibility.late_grace_hours")
        late = Visibility.search(
            [
                *self._scope_domain(visibilities),
                ("stage", "in", TO_SHIP_STAGES),
                ("promised_date", "<", now - timedelta(hours=grace)),
            ]
        )
        return {
            (v.id, "", 0): {
                "detail": self.env._(
                    "Promised for %(date)s, not shipped", date=fields.Datetime.to_string(v.promised_date)
                )
            }
            for v in late
        }

    @api.model
    def _detect_stale_quotation(self, now, visibilities=None):
        Visibility = self.env["order.visibility"]
        days = Visibility._param("order_visibility.stale_quotation_days")
        stale = Visibility.search(
            [
                *self._scope_domain(visibilities),
                ("stage", "=", "draft"),
                ("stage_since", "<", now - timedelta(days=days)),
            ]
        )
        return self._keys(stale, self.env._("Quotation without progress for more than %(days)s days", days=days))

    @api.model
    def _detect_stale_order(self, now, visibilities=None):
        Visibility = self.env["order.visibility"]
        days = Visibility._param("order_visibility.stale_order_days")
        stale = Visibility.search(
            [
                *self._scope_domain(visibilities),
                ("stage", "in", OPEN_CONFIRMED_STAGES),
                ("stage_since", "<", now - timedelta(days=days)),
            ]
        )
        return self._keys(stale, self.env._("No stage change for more than %(days)s days", days=days))

    @api.model
    def _detect_invoice_blocked(self, now, visibilities=None):
        Visibility = self.env["order.visibility"]
        days = Visibility._param("order_visibility.invoice_lag_days")
        blocked = Visibility.search(
            [
                *self._scope_domain(visibilities),
                ("stage", "=", "shipped"),
                ("stage_since", "<", now - timedelta(days=days)),
            ]
        )
        return self._keys(blocked, self.env._("Delivered more than %(days)s days ago, not invoiced", days=days))

    @api.model
    def _detect_payment_overdue(self, now, visibilities=None):
        """Posted customer invoices of orders, past due and not paid.

        One query from the overdue invoices to their orders' visibility
        records (the sweep runs as the engine, over every company).
        """
        self.env["account.move"].flush_model(["move_type", "state", "payment_state", "invoice_date_due", "name"])
        self.env["account.move.line"].flush_model(["move_id"])
        self.env["sale.order.line"].flush_model(["order_id", "invoice_lines"])
        self.env["order.visibility"].flush_model(["sale_order_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT visibility.id, invoice.id, invoice.name, invoice.invoice_date_due
                     FROM account_move invoice
                     JOIN account_move_line item ON item.move_id = invoice.id
                     JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = item.id
                     JOIN sale_order_line line ON line.id = rel.order_line_id
                     JOIN order_visibility visibility ON visibility.sale_order_id = line.order_id
                    WHERE invoice.move_type = 'out_invoice' AND invoice.state = 'posted'
                      AND invoice.payment_state IN ('not_paid', 'partial') AND invoice.invoice_date_due < %s
                      %s""",
                fields.Date.context_today(self, now),
                SQL() if visibilities is None else SQL("AND visibility.id = ANY(%s)", visibilities.ids),
            )
        )
        return {
            (visibility_id, "account.move", invoice_id): {
                "detail": self.env._("%(invoice)s was due on %(date)s", invoice=name, date=due)
            }
            for visibility_id, invoice_id, name, due in rows
        }

    @api.model
    def _detect_margin_exception(self, now, visibilities=None):
        Visibility = self.env["order.visibility"]
        minimum = Visibility._param("order_visibility.min_margin_percent")
        low = Visibility.search(
            [
                *self._scope_domain(visibilities),
                ("stage", "not in", ("draft", "pending_approval", "cancelled")),
                ("margin_percent", "<", minimum),
                ("sale_order_id.amount_untaxed", "!=", 0),
            ]
        )
        return {
            (v.id, "", 0): {
                "detail": self.env._(
                    "Margin %(margin).1f %% is below the %(minimum).1f %% minimum",
                    margin=v.margin_percent,
                    minimum=minimum,
                )
            }
            for v in low
        }

    @api.model
    def _detect_supply_delay(self, now, visibilities=None):
        """A purchase feeding an order waiting for stock is late.

        Late means: its planned arrival has passed, or it arrives after the
        date promised to the customer.
        """
        Visibility = self.env["order.visibility"]
        detected = {}
        waiting = Visibility.search(
            [*self._scope_domain(visibilities), ("stage", "in", ("awaiting_stock", "partially_shipped"))]
        )
        for start in range(0, len(waiting), BATCH_SIZE):
            batch = waiting[start : start + BATCH_SIZE]
            facts = batch._stage_facts()
            for visibility in batch:
                open_moves = facts[visibility.sale_order_id.id].open_moves
                for line in Visibility._feeding_purchase_lines(open_moves):
                    promised = visibility.promised_date
                    if line.date_planned < now or (promised and line.date_planned > promised):
                        po = line.order_id
                        detected[(visibility.id, "purchase.order", po.id)] = {
                            "detail": self.env._(
                                "%(po)s from %(vendor)s planned for %(date)s",
                                po=po.name,
                                vendor=po.partner_id.display_name,
                                date=fields.Datetime.to_string(line.date_planned),
                            ),
                            "owner_id": po.user_id.id,
                        }
        return detected

    @api.model
    def _detect_fulfilment_review(self, now, visibilities=None):
        """Transfers of orders still open longer than the Settings threshold
        past their scheduled date, and credit holds left unresolved as long:
        the scheduled review of fulfilment."""
        Visibility = self.env["order.visibility"]
        hours = Visibility._param("order_visibility.transfer_wait_hours")
        limit = now - timedelta(hours=hours)
        pickings = self.env["stock.picking"].search_fetch(
            [
                *self._scope_domain(None if visibilities is None else visibilities.sale_order_id, "sale_id"),
                ("sale_id", "!=", False),
                ("picking_type_code", "!=", "incoming"),  # returns are not fulfilment
                ("state", "in", ("waiting", "confirmed", "assigned")),
                ("scheduled_date", "<", limit),
            ],
            ["name", "sale_id", "scheduled_date"],
        )
        visibility_of = {
            v.sale_order_id.id: v.id
            for v in Visibility.search_fetch([("sale_order_id", "in", pickings.sale_id.ids)], ["sale_order_id"])
        }
        detected = {
            (visibility_of[p.sale_id.id], "stock.picking", p.id): {
                "detail": self.env._(
                    "%(picking)s scheduled for %(date)s, not shipped",
                    picking=p.name,
                    date=fields.Datetime.to_string(p.scheduled_date),
                )
            }
            for p in pickings
            if p.sale_id.id in visibility_of
        }
        holds = self.search_fetch(
            [
                *self._scope_domain(visibilities, "visibility_id"),
                ("code", "=", "credit_hold"),
                ("state", "!=", "resolved"),
                ("opened_at", "<", limit),
            ],
            ["visibility_id", "opened_at"],
        )
        for hold in holds:
            detected[(hold.visibility_id.id, "", 0)] = {
                "detail": self.env._(
                    "Credit hold unresolved since %(date)s", date=fields.Datetime.to_string(hold.opened_at)
                )
            }
        return detected
