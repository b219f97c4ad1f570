# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.mimetypes import fix_filename_extension, guess_mimetype

from ..tools.milestone_payload import MILESTONE_CODES, PROOF_MIMETYPES, InvalidPayload

MILESTONES = [
    ("picked_up", "Picked up"),
    ("in_transit", "In transit"),
    ("delayed", "Delayed"),
    ("delivered", "Delivered"),
    ("failed_delivery", "Failed delivery"),
]
assert tuple(code for code, _label in MILESTONES) == MILESTONE_CODES
# Milestones that open a delivery exception (delayed: only past the promise).
EXCEPTION_MILESTONES = ("delayed", "failed_delivery")


class OrderVisibilityMilestone(models.Model):
    """A delivery milestone received from an inbound source, and the message that carried it.

    One row per accepted message: the Standard Webhooks ``webhook-id`` is
    unique per source, which makes a replayed message a no-op.
    """

    _name = "order.visibility.milestone"
    _description = "Delivery Milestone"
    _order = "occurred_at desc, id desc"
    _check_company_auto = True

    source_id = fields.Many2one(
        "order.visibility.webhook.source", required=True, readonly=True, ondelete="restrict", index=True
    )
    webhook_id = fields.Char(string="Message ID", required=True, readonly=True, help="The webhook-id header.")
    visibility_id = fields.Many2one("order.visibility", required=True, readonly=True, ondelete="cascade", index=True)
    sale_order_id = fields.Many2one(related="visibility_id.sale_order_id", string="Order", store=True, index=True)
    company_id = fields.Many2one(related="visibility_id.company_id", store=True, index=True)
    milestone = fields.Selection(MILESTONES, required=True, readonly=True)
    occurred_at = fields.Datetime(required=True, readonly=True)
    received_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    eta = fields.Datetime(string="New ETA", readonly=True)
    carrier = fields.Char(readonly=True)
    tracking_ref = fields.Char(string="Tracking Reference", readonly=True)
    note = fields.Text(readonly=True)
    signed_by = fields.Char(string="Signed For By", readonly=True)
    picking_id = fields.Many2one("stock.picking", string="Delivery Order", readonly=True, index="btree_not_null")
    attachment_id = fields.Many2one("ir.attachment", string="Proof of Delivery", readonly=True)
    state = fields.Selection([("accepted", "Accepted")], required=True, default="accepted", readonly=True)

    _webhook_id_uniq = models.Constraint(
        "UNIQUE(source_id, webhook_id)",
        "This message was already received from this source.",
    )

    # ------------------------------------------------------------------
    # Receiving (called by the inbound controller, after the signature,
    # the timestamp and the body have been checked)
    # ------------------------------------------------------------------

    @api.model
    def _find_order(self, source, values):
        """The sales order a milestone of ``source`` names, in the source's company only."""
        domain = [("company_id", "=", source.company_id.id), ("state", "!=", "cancel")]
        if values["order_id"]:
            domain.append(("id", "=", values["order_id"]))
        else:
            domain.append(("name", "=", values["order"]))
        # sudo: the sender is authenticated by its signature, not as an Odoo
        # user; the domain above keeps it inside its own company.
        return self.env["sale.order"].sudo().search(domain, limit=1)

    @api.model
    def _delivery_picking(self, order):
        """The delivery order of ``order`` a carrier milestone is about: the
        last transfer to the customer that is done, else the last one open."""
        to_customer = order.picking_ids.filtered(
            lambda p: p.location_dest_id.usage == "customer" and p.state != "cancel"
        ).sorted(lambda p: (p.state == "done", p.date_done or p.scheduled_date, p.id))
        return to_customer[-1:]

    @api.model
    def _proof_document(self, proof):
        """``proof`` with the type of its document read from the decoded bytes,
        never taken from the sender's word, and a file name that says that
        type. Raises InvalidPayload unless it is a PDF, a JPEG or a PNG (no
        HTML or SVG is ever stored)."""
        mimetype = guess_mimetype(proof["raw"], default="application/octet-stream")
        if mimetype not in PROOF_MIMETYPES:
            raise InvalidPayload("data.proof.content: expected a PDF, JPEG or PNG document")
        name = proof["filename"].replace("\\", "/").rsplit("/", 1)[-1].strip() or "proof"
        return {**proof, "mimetype": mimetype, "filename": fix_filename_extension(name, mimetype)}

    @api.model
    def _receive(self, source, webhook_id, values, order):
        """Record one milestone of ``order`` and its effects; returns the milestone.

        Runs as superuser in the source's company (see the controller). Raises
        UserError when the milestone cannot be applied; the caller rolls back.
        """
        source.ensure_one()
        order.ensure_one()
        visibility = self.env["order.visibility"]._ensure_for_orders(order)
        picking = self._delivery_picking(order)
        proof = values.get("proof") or {}
        if proof.get("content") and not picking:
            raise UserError(self.env._("The order has no delivery order to attach the proof of delivery to."))
        milestone = self.create(
            {
                "source_id": source.id,
                "webhook_id": webhook_id,
                "visibility_id": visibility.id,
                "milestone": values["milestone"],
                "occurred_at": values["occurred_at"],
                "eta": values.get("eta") or False,
                "carrier": values.get("carrier") or False,
                "tracking_ref": values.get("tracking_ref") or False,
                "note": values.get("note") or False,
                "signed_by": proof.get("signed_by") or False,
                "picking_id": picking.id or False,
            }
        )
        if proof.get("content"):
            milestone.attachment_id = self.env["ir.attachment"].create(
                {
                    "name": proof["filename"],
                    "datas": proof["content"],
                    "mimetype": proof["mimetype"],
                    "res_model": "stock.picking",
                    "res_id": picking.id,
                    "description": self.env._("Proof of delivery received from %(sender)s", sender=source.name),
                }
            )
        milestone._apply()
        return milestone

    def _apply(self):
        """The effects of accepted milestones: chatter note, delivery
        exception, risk score and the ``order.milestone_received`` hook."""
        for milestone in self:
            order = milestone.sale_order_id
            # Stored texts (chatter, exception detail) in the company's
            # language: the sender has none, and the readers are its staff.
            lang = order.company_id.partner_id.lang or "en_US"
            milestone_l = milestone.with_context(lang=lang)
            order.message_post(body=milestone_l._chatter_note(), subtype_xmlid="mail.mt_note")
            milestone_l._sync_delivery_exception()
        self.visibility_id._update_risk()
        self._notify_received()
        self.filtered(lambda m: m.milestone in EXCEPTION_MILESTONES).visibility_id._send_carrier_customer_updates()

    def _label(self):
        return dict(self._fields["milestone"]._description_selection(self.env))[self.milestone]

    def _chatter_note(self):
        """The note posted on the order: HTML in which whatever the sender
        wrote (carrier, reference, signed-for name, note) is escaped text."""
        self.ensure_one()
        parts = [self.env._("Carrier milestone: %(milestone)s", milestone=self._label())]
        if self.carrier or self.tracking_ref:
            parts.append(" ".join(filter(None, [self.carrier, self.tracking_ref])))
        if self.eta:
            parts.append(self.env._("new ETA %(eta)s", eta=fields.Datetime.to_string(self.eta)))
        if self.signed_by:
            parts.append(self.env._("signed for by %(name)s", name=self.signed_by))
        if self.note:
            parts.append(self.note)
        text = " — ".join(parts) + f" ({self.source_id.name})"
        return Markup("<br/>").join(escape(line) for line in text.splitlines())

    def _is_late_delay(self):
        promised = self.visibility_id.promised_date
        return self.milestone == "delayed" and bool(self.eta and promised and self.eta > promised)

    def _sync_delivery_exception(self):
        """Open a delivery exception on a failed delivery or a delay past the
        promised date; resolve it on delivery (through the core's engine)."""
        self.ensure_one()
        Exception_ = self.env["order.visibility.exception"]
        visibility = self.visibility_id
        if self.milestone == "delivered":
            Exception_._sync("delivery_exception", {}, visibility)
            return
        if self.milestone == "failed_delivery":
            detail = self.env._(
                "Delivery failed (%(carrier)s)%(note)s",
                carrier=self.carrier or self.source_id.name,
                note=f": {self.note}" if self.note else "",
            )
        elif self._is_late_delay():
            detail = self.env._(
                "Delayed by %(carrier)s: new ETA %(eta)s, promised %(promised)s",
                carrier=self.carrier or self.source_id.name,
                eta=fields.Datetime.to_string(self.eta),
                promised=fields.Datetime.to_string(visibility.promised_date),
            )
        else:
            return
        key = (visibility.id, "stock.picking", self.picking_id.id) if self.picking_id else (visibility.id, "", 0)
        Exception_._sync("delivery_exception", {key: {"detail": detail}}, visibility)

    def _notify_received(self):
        """Emit ``order.milestone_received`` in the same transaction (outbox)."""
        self.env["order.visibility.webhook.delivery"]._emit_events(
            [
                {
                    "visibility": milestone.visibility_id,
                    "type": "order.milestone_received",
                    "data": {"milestone": milestone._event_data()},
                }
                for milestone in self
            ]
        )

    def _event_data(self):
        """The milestone as ``order.milestone_received`` carries it (language-neutral codes)."""
        self.ensure_one()

        def iso(moment):
            return moment.isoformat() + "Z" if moment else None

        return {
            "id": self.id,
            "code": self.milestone,
            "occurred_at": iso(self.occurred_at),
            "received_at": iso(self.received_at),
            "eta": iso(self.eta),
            "carrier": self.carrier or None,
            "tracking_ref": self.tracking_ref or None,
            "note": self.note or None,
            "signed_by": self.signed_by or None,
            "proof_attached": bool(self.attachment_id),
            "source": self.source_id.code,
            "webhook_id": self.webhook_id,
        }
