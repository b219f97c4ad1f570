# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What a customer sees of an order: its customer stage, promise, carrier
milestones and the updates sent. Private methods only (no RPC surface):
the portal controllers call them on an order whose access Odoo's portal
has checked, and they return customer-safe values only."""

from odoo import models
from odoo.tools.misc import format_date

from ..tools.customer_stage import CUSTOMER_STAGES, PROGRESS_STEPS, customer_stage_code


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _ov_customer_stage_labels(self):
        """{customer stage: label}, in the reader's language."""
        labels = {
            "received": self.env._("Order received"),
            "preparing": self.env._("Being prepared"),
            "ready": self.env._("Ready to ship"),
            "partially_shipped": self.env._("Partially shipped"),
            "shipped": self.env._("Shipped"),
            "delivered": self.env._("Delivered"),
            "cancelled": self.env._("Cancelled"),
        }
        assert tuple(labels) == CUSTOMER_STAGES
        return labels

    def _ov_milestone_labels(self):
        """{carrier milestone: what the customer reads}, in the reader's language."""
        return {
            "picked_up": self.env._("Picked up by the carrier"),
            "in_transit": self.env._("In transit"),
            "delayed": self.env._("Delayed by the carrier"),
            "delivered": self.env._("Delivered"),
            "failed_delivery": self.env._("Delivery attempt failed"),
        }

    def _ov_promise_reason(self, cause):
        """Why the promised date moved, in customer words, from a promise
        change's ``cause`` code; any other code (a cause added later, or
        none) reads as a neutral sentence. Never the internal label, a user
        or a note."""
        reasons = {
            "customer_request": self.env._("The delivery date was changed at your request."),
            "supplier_delay": self.env._("Our supplier delivered later than planned."),
            "carrier_eta": self.env._("The carrier gave us a new delivery estimate."),
            "order_edited": self.env._("Your order was changed, which moved its delivery date."),
        }
        return reasons.get(cause) or self.env._("We had to change the planned delivery date.")

    def _ov_promise_change(self, visibility):
        """{"first", "promised", "reason"} when the promised date of this order
        (its engine record ``visibility``, sudo) moved since the first
        promise, else False. The reason is the latest logged change's."""
        first, promised = visibility.first_promised_date, visibility.promised_date
        if not (first and promised) or first.date() == promised.date():
            return False
        change = (
            self.env["order.visibility.promise.change"]
            .sudo()
            .search_fetch([("visibility_id", "=", visibility.id)], ["cause"], order="changed_at desc, id desc", limit=1)
        )
        return {"first": first, "promised": promised, "reason": self._ov_promise_reason(change.cause)}

    def _ov_delivered_ids(self):
        """Ids of the orders of ``self`` the carrier delivered: a ``delivered``
        milestone or a proof of delivery received (one query)."""
        if not self.ids:
            return set()
        # sudo: milestones are not readable by customers; only the order ids
        # of ``self`` come out.
        groups = (
            self.env["order.visibility.milestone"]
            .sudo()
            ._read_group(
                [
                    "&",
                    ("sale_order_id", "in", self.ids),
                    "|",
                    ("milestone", "=", "delivered"),
                    ("attachment_id", "!=", False),
                ],
                ["sale_order_id"],
            )
        )
        return {order.id for (order,) in groups}

    def _ov_customer_stages(self):
        """{order id: (customer stage, label)} of the orders of ``self``."""
        delivered = self._ov_delivered_ids()
        labels = self._ov_customer_stage_labels()
        stages = {}
        for order in self:
            code = customer_stage_code(order.visibility_stage, order.id in delivered)
            stages[order.id] = (code, labels[code])
        return stages

    def _customer_stage(self):
        """(code, label) of the customer stage of this order."""
        self.ensure_one()
        return self._ov_customer_stages()[self.id]

    def _ov_customer_update_text(self, cause):
        """What an update already sent was about, from its cause key
        (``ship:<date>``, ``promised:<date>``, ``carrier_delay:<date>``,
        ``failed_delivery:<date>``), in customer words."""
        kind, __, day = (cause or "").partition(":")
        try:
            day = format_date(self.env, day, lang_code=self.env.lang) if day and day != "none" else ""
        except ValueError:
            day = ""
        if kind == "ship" and day:
            return self.env._("We let you know your order was expected to ship on %(date)s.", date=day)
        if kind == "promised" and day:
            return self.env._("We let you know about your order's delivery date, %(date)s.", date=day)
        if kind == "carrier_delay" and day:
            return self.env._("The carrier was delayed; it expected to deliver on %(date)s.", date=day)
        if kind == "failed_delivery" and day:
            return self.env._("The carrier could not deliver your order on %(date)s.", date=day)
        return self.env._("We sent you an update about your order.")

    def _ov_proof_attachment(self):
        """The latest proof of delivery of this order (sudo), or an empty recordset."""
        self.ensure_one()
        milestone = (
            self.env["order.visibility.milestone"]
            .sudo()
            .search([("sale_order_id", "=", self.id), ("attachment_id", "!=", False)], limit=1)
        )
        return milestone.attachment_id

    def _ov_tracking(self):
        """What the customer sees of this order, customer-safe values only:
        {"stage", "stage_label", "progress": [(code, label, state)],
        "first_promised_date", "promised_date", "milestones": [{milestone,
        label, at, eta, carrier, tracking_ref}], "tracking_ref",
        "tracking_url", "has_proof", "updates": [(date, text)], "promise_change":
        {"first", "promised", "reason"} or False}.

        Call it only on an order whose access the portal has checked (it
        reads the suite's records as superuser); a constant number of
        queries whatever the number of milestones.
        """
        self.ensure_one()
        order = self.sudo()
        code, label = order._customer_stage()
        labels = order._ov_customer_stage_labels()
        current = "shipped" if code == "partially_shipped" else code
        progress = []
        if code != "cancelled":
            reached = PROGRESS_STEPS.index(current)
            for index, step in enumerate(PROGRESS_STEPS):
                state = "done" if index < reached else "current" if index == reached else "todo"
                progress.append((step, label if step == current else labels[step], state))
        visibility = order.visibility_ids[:1]
        milestone_labels = order._ov_milestone_labels()
        records = (
            self.env["order.visibility.milestone"]
            .sudo()
            .search([("sale_order_id", "=", order.id)], order="occurred_at, id")
        )
        milestones = [
            {
                "milestone": m.milestone,
                "label": milestone_labels[m.milestone],
                "at": m.occurred_at,
                "eta": m.eta if m.milestone in ("delayed", "failed_delivery") else False,
                "carrier": m.carrier or False,
                "tracking_ref": m.tracking_ref or False,
            }
            for m in records
        ]
        with_ref = records.filtered("tracking_ref")[-1:]
        pickings = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and p.state != "cancel")
        picking = pickings.sorted(lambda p: (p.date_done or p.scheduled_date, p.id))[-1:]
        # The carrier's reference, else the delivery order's (stock_delivery).
        tracking_ref = with_ref.tracking_ref
        if not tracking_ref and "carrier_tracking_ref" in pickings._fields:
            tracking_ref = picking.carrier_tracking_ref
        tracking_url = picking.carrier_tracking_url if "carrier_tracking_url" in pickings._fields else False
        updates = [
            (update.sent_at, order._ov_customer_update_text(update.cause))
            for update in self.env["order.visibility.customer.update"]
            .sudo()
            .search([("sale_order_id", "=", order.id)], order="sent_at, id")
        ]
        return {
            "stage": code,
            "stage_label": label,
            "progress": progress,
            "first_promised_date": visibility.first_promised_date or visibility.promised_date or False,
            "promised_date": visibility.promised_date or False,
            "milestones": milestones,
            "carrier": with_ref.carrier or (records[-1:].carrier or False),
            "tracking_ref": tracking_ref or False,
            "tracking_url": tracking_url or False,
            "has_proof": bool(records.filtered("attachment_id")),
            "updates": updates,
            "promise_change": order._ov_promise_change(visibility) if visibility else False,
        }
