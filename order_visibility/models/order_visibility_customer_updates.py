# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Proactive customer updates: a plain-language text built from the engine's
facts, drafted in the mail composer from an editable template; sent
automatically only where the admin and the customer opted in (see
docs/user/exceptions.md, "Proactive customer updates")."""

import logging
from collections import defaultdict
from contextvars import ContextVar
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools.misc import format_date

from ..tools.constants import TO_SHIP_STAGES

_logger = logging.getLogger(__name__)

# Context key of the customer update composer: a message posted from it is
# logged as an update, under the cause the server computes (never a cause or
# an "automatic" flag the caller sends: see _log_customer_update_if_sent).
CAUSE_KEY = "ov_customer_update_cause"
# (cause, automatic) of an update the server itself is sending
# (_send_customer_update): a context variable of this process, which no RPC
# can set.
_SENDING = ContextVar("order_visibility_customer_update_sending", default=None)
TEMPLATE_XMLID = "order_visibility.mail_template_customer_update"


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    customer_update_text = fields.Text(
        string="Customer Update",
        compute="_compute_customer_update_text",
        help="What to tell the customer about this order, in plain language, from the facts the engine has "
        "(advisory: a person reviews it before it is sent).",
    )
    customer_update_ids = fields.One2many(
        "order.visibility.customer.update", "visibility_id", string="Customer Updates Sent"
    )

    def _customer_update_facts(self):
        """What the update says: {"order", "short": [(quantity, unit, product)],
        "supplier_date", "expected_date", "promised_date"}.

        ``expected_date`` is the date the goods can ship: the day after the
        latest purchase feeding the short moves arrives (a day to receive
        and prepare), else now plus the vendor lead time, else now. Other
        addons (inbound milestones) may extend this with a carrier's ETA.
        """
        self.ensure_one()
        engine = self.sudo()
        order = engine.sale_order_id
        now = fields.Datetime.now()
        facts = {
            "order": order.name,
            "short": [],
            "supplier_date": False,
            "expected_date": False,
            "promised_date": self.promised_date,
        }
        if self.stage not in TO_SHIP_STAGES:
            return facts
        open_moves = engine._stage_facts()[order.id].open_moves
        short = engine._short_moves(open_moves).filtered(
            lambda m: (m.location_final_id or m.location_dest_id).usage == "customer"
        )
        quantities = defaultdict(float)
        for move in short:
            quantities[move.product_id, move.product_uom] += move.product_uom_qty - move.quantity
        # What the customer ordered, by its name: no internal reference.
        facts["short"] = [
            (qty, uom.name, product.with_context(display_default_code=False).display_name)
            for (product, uom), qty in quantities.items()
        ]
        planned = engine._feeding_purchase_lines(engine._short_moves(open_moves)).mapped("date_planned")
        if planned:
            facts["supplier_date"] = max(planned)
            facts["expected_date"] = max(planned) + timedelta(days=1)
        else:
            facts["expected_date"] = engine._expected_ship_date(now, open_moves)
        return facts

    def _customer_update_cause_key(self, facts=None):
        """The cause of an update: its delay and the date it announces (an
        update is sent once per cause)."""
        self.ensure_one()
        facts = facts or self._customer_update_facts()
        if facts["short"] and facts["expected_date"]:
            return f"ship:{fields.Date.to_string(facts['expected_date'].date())}"
        promised = facts["promised_date"]
        return f"promised:{fields.Date.to_string(promised.date()) if promised else 'none'}"

    @api.depends_context("lang")
    def _compute_customer_update_text(self):
        for visibility in self:
            visibility.customer_update_text = visibility._customer_update_sentences(visibility._customer_update_facts())

    def _customer_update_sentences(self, facts):
        """The deterministic text of the update, in the reader's language:
        the situation (``_customer_update_situation``), then an apology when
        the expected date is later than the promise."""
        text = self._customer_update_situation(facts)
        expected, promised = facts["expected_date"], facts["promised_date"]
        if promised and expected and expected.date() > promised.date():
            text += " " + self.env._(
                "This is later than the %(promised_date)s we promised; we are sorry for the delay.",
                promised_date=self._customer_update_day(promised),
            )
        return text

    def _customer_update_day(self, value):
        """A day as the update writes it ("4 December"), in the reader's language."""
        return format_date(self.env, value, lang_code=self.env.lang, date_format="d MMMM") if value else ""

    def _customer_update_situation(self, facts):
        """Where the order is and when it ships, in the reader's language
        (other addons extend it with the carrier's news)."""
        day = self._customer_update_day
        expected = facts["expected_date"]
        goods = ", ".join(f"{qty:g} {product}" for qty, _unit, product in facts["short"])
        if goods and facts["supplier_date"]:
            return self.env._(
                "Your order %(order)s waits for %(goods)s from our supplier, due on %(supplier_date)s; "
                "we now expect to ship on %(expected_date)s.",
                order=facts["order"],
                goods=goods,
                supplier_date=day(facts["supplier_date"]),
                expected_date=day(expected),
            )
        if goods:
            return self.env._(
                "Your order %(order)s waits for %(goods)s; we now expect to ship on %(expected_date)s.",
                order=facts["order"],
                goods=goods,
                expected_date=day(expected),
            )
        if expected:
            return self.env._(
                "Your order %(order)s is being prepared; we expect to ship on %(expected_date)s.",
                order=facts["order"],
                expected_date=day(expected),
            )
        return self.env._("Your order %(order)s is on its way.", order=facts["order"])

    def _customer_update_link(self):
        """The link where the customer follows this order, absolute, or ''
        (the core has no customer page: the portal addon returns the order's
        portal link with its access token). The update's template shows it
        when there is one."""
        self.ensure_one()
        return ""

    def _check_customer_update_recipient(self):
        self.ensure_one()
        partner = self.partner_id.sudo()
        if partner.ov_customer_update_opt_out:
            raise UserError(
                self.env._("%(customer)s asked not to receive order updates.", customer=partner.display_name)
            )
        if not partner.email:
            raise UserError(
                self.env._(
                    "%(customer)s has no e-mail address: add one to the customer to send an order update.",
                    customer=partner.display_name,
                )
            )

    def action_draft_customer_update(self):
        """The mail composer, pre-filled from the customer update template.

        Nothing is sent until the user clicks Send; the update is then logged
        with its cause (``customer_update_ids``).
        """
        self.ensure_one()
        self.check_access("read")
        self._check_customer_update_recipient()
        template = self.env.ref(TEMPLATE_XMLID, raise_if_not_found=False)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Customer Update"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": self._name,
                "default_res_ids": self.ids,
                "default_template_id": template.id if template else False,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": "mail.mail_notification_light",
                "force_email": True,
                CAUSE_KEY: self._customer_update_cause_key(),
            },
        }

    def _log_customer_update_if_sent(self, message, message_type):
        """Called by order.visibility.message_post: log an update the server
        sends (``_send_customer_update``), or one a person sent from the
        customer update composer to the customer.

        The composer's context key only says where the message comes from:
        the cause is the one the server computes now, the update is never
        automatic, and nothing is logged unless the customer is a recipient.
        """
        if len(self) != 1 or message_type != "comment":
            return
        sending = _SENDING.get()
        if sending:
            cause, automatic = sending
            self._log_customer_update(cause, message, automatic=automatic)
        elif self.env.context.get(CAUSE_KEY) and self.partner_id in message.sudo().partner_ids:
            self._log_customer_update(self._customer_update_cause_key(), message)

    def _log_customer_update(self, cause, message, automatic=False):
        """Record the update sent for ``cause`` (once per cause) and tell the order's chatter."""
        self.ensure_one()
        Update = self.env["order.visibility.customer.update"].sudo()
        if Update.search_count([("visibility_id", "=", self.id), ("cause", "=", cause)], limit=1):
            return
        facts = self._customer_update_facts()
        Update.create(
            {
                "visibility_id": self.id,
                "partner_id": self.partner_id.id,
                "cause": cause,
                "promised_date": facts["promised_date"],
                "expected_date": facts["expected_date"],
                "automatic": automatic,
                "sent_by": self.env.uid,
                "message_id": message.id,
            }
        )
        self.sale_order_id.sudo().message_post(
            body=self.env._("Order update sent to %(customer)s.", customer=self.partner_id.display_name),
            subtype_xmlid="mail.mt_note",
        )

    def _send_customer_update(self, cause=None, automatic=False):
        """Send this order's update now with the template, logged under ``cause``
        (the scheduled action; code acting for a person who decided to send it)."""
        self.ensure_one()
        self._check_customer_update_recipient()
        template = self.env.ref(TEMPLATE_XMLID)
        cause = cause or self._customer_update_cause_key()
        token = _SENDING.set((cause, automatic))
        try:
            return self.message_post_with_source(template, message_type="comment", subtype_xmlid="mail.mt_comment")
        finally:
            _SENDING.reset(token)

    def _send_automatic_customer_update(self, cause):
        """Send this order's update automatically under ``cause``, in a
        savepoint: a mail that cannot be sent is logged and rolled back, and
        the caller goes on. Returns whether it was sent."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._send_customer_update(cause, automatic=True)
        except Exception:
            _logger.exception("order visibility: the customer update of %s failed", self.display_name)
            return False
        return True

    @api.model
    def _cron_send_customer_updates(self):
        """Send the updates of orders at risk or late, automatically, where the
        company switched it on in Settings and the customer is flagged for
        automatic updates (and has not opted out); once per cause."""
        self = self.sudo()
        companies = self.env["res.company"].search([("ov_auto_customer_updates", "=", True)])
        template = self.env.ref(TEMPLATE_XMLID, raise_if_not_found=False)
        if not companies or not template:
            return 0
        threshold = self._param("order_visibility.at_risk_threshold")
        candidates = self.search(
            Domain("company_id", "in", companies.ids)
            & Domain("stage", "in", TO_SHIP_STAGES)
            & (Domain("risk_score", ">=", threshold) | Domain("promised_date", "<", fields.Datetime.now()))
            & Domain("partner_id.ov_auto_customer_updates", "=", True)
            & Domain("partner_id.ov_customer_update_opt_out", "=", False)
            & Domain("partner_id.email", "!=", False)
        )
        sent_causes = {
            (update.visibility_id.id, update.cause)
            for update in self.env["order.visibility.customer.update"].search_fetch(
                [("visibility_id", "in", candidates.ids)], ["visibility_id", "cause"]
            )
        }
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(candidates))
        sent = 0
        for visibility in candidates:
            cause = visibility._customer_update_cause_key()
            if (visibility.id, cause) not in sent_causes and visibility._send_automatic_customer_update(cause):
                sent += 1
            if not cron._commit_progress(1):
                break
        _logger.info("order visibility: %s customer updates sent automatically", sent)
        return sent
