# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import logging
import re
import time

from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools.milestone_payload import MAX_BODY_BYTES, InvalidPayload, validate_milestone_body
from ..tools.signing import TIMESTAMP_TOLERANCE, InvalidSecret, generate_secret, secret_key, verify

_logger = logging.getLogger(__name__)
MAX_MESSAGE_ID_LENGTH = 255

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ADMIN_GROUP = "order_visibility.group_order_visibility_admin"


class OrderVisibilityWebhookSource(models.Model):
    """A carrier, WMS or 3PL that posts signed delivery milestones.

    It posts to ``/order_visibility/webhook/<code>``, signing each message
    per the Standard Webhooks specification with the source's secret.
    """

    _name = "order.visibility.webhook.source"
    _description = "Inbound Milestone Source"
    _inherit = ["mail.thread"]
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        copy=False,
        tracking=True,
        help="The last part of the URL the source posts to: lowercase letters, digits, - and _.",
    )
    secret = fields.Char(
        copy=False,
        groups=ADMIN_GROUP,
        help="whsec_ followed by base64 of 24 to 64 bytes. Leave empty to let the server generate one.",
    )
    secret_revealed = fields.Boolean(
        copy=False,
        groups=ADMIN_GROUP,
        help="Once the administrator has copied the secret, it is no longer shown.",
    )
    secret_hint = fields.Char(compute="_compute_secret_hint", groups=ADMIN_GROUP)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True, tracking=True
    )
    url_path = fields.Char(string="URL Path", compute="_compute_url_path")
    milestone_ids = fields.One2many("order.visibility.milestone", "source_id", string="Received Milestones")
    milestone_count = fields.Integer(string="Accepted Messages", compute="_compute_message_stats")
    last_received_at = fields.Datetime(string="Last Message", compute="_compute_message_stats")

    _code_uniq = models.Constraint(
        "UNIQUE(code)",
        "This code is already used by another source: the URL must name one source only.",
    )

    @api.depends("code")
    def _compute_url_path(self):
        for source in self:
            source.url_path = f"/order_visibility/webhook/{source.code}" if source.code else False

    @api.depends("secret")
    def _compute_secret_hint(self):
        for source in self:
            source.secret_hint = f"whsec_…{source.secret[-4:]}" if source.secret else False

    def _compute_message_stats(self):
        stats = {
            source.id: (count, last)
            for source, count, last in self.env["order.visibility.milestone"]._read_group(
                [("source_id", "in", self.ids)], ["source_id"], ["__count", "received_at:max"]
            )
        }
        for source in self:
            source.milestone_count, source.last_received_at = stats.get(source.id, (0, False))

    @api.constrains("code")
    def _check_code(self):
        for source in self:
            if not CODE_RE.match(source.code or ""):
                raise ValidationError(
                    self.env._(
                        "The code %(code)r may use lowercase letters, digits, - and _ only "
                        "(at most 64 characters, starting with a letter or digit).",
                        code=source.code,
                    )
                )

    @api.model
    def _check_secret_value(self, secret):
        try:
            secret_key(secret)
        except InvalidSecret as exc:
            # The reason names the rule broken, never the value.
            raise ValidationError(
                self.env._("The secret is not a valid Standard Webhooks secret: %(reason)s.", reason=str(exc))
            ) from None

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("secret"):
                self._check_secret_value(vals["secret"])
            else:
                vals["secret"] = generate_secret()
            vals["secret_revealed"] = False
        return super().create(vals_list)

    def write(self, vals):
        if "secret" in vals:
            if vals["secret"]:
                self._check_secret_value(vals["secret"])
            else:
                vals["secret"] = generate_secret()
            vals["secret_revealed"] = False
        result = super().write(vals)
        if "secret" in vals:
            # Audited, never with the value.
            for source in self:
                source.message_post(
                    body=self.env._("Secret replaced by %(user)s.", user=self.env.user.name),
                    subtype_xmlid="mail.mt_note",
                )
        return result

    def action_generate_secret(self):
        """Replace the secret by a new one, shown once in the form."""
        for source in self:
            source.write({"secret": generate_secret()})
        return True

    def action_hide_secret(self):
        """The administrator has copied the secret: stop showing it."""
        self.write({"secret_revealed": True})
        return True

    def action_view_milestones(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Milestones from %(sender)s", sender=self.name),
            "res_model": "order.visibility.milestone",
            "view_mode": "list,form",
            "domain": [("source_id", "=", self.id)],
            "context": {"create": False},
        }

    # ------------------------------------------------------------------
    # Receiving a message (the route POST /order_visibility/webhook/<code>)
    # ------------------------------------------------------------------

    @api.model
    def _refuse(self, http_status, error, message):
        """(status, answer) of a refusal; logged without anything secret."""
        _logger.info("inbound milestone refused (%s): %s %s", http_status, error, message)
        return http_status, {"error": error, "message": message}

    @api.model
    def _receive_message(self, code, headers, body):
        """Check and apply one signed message; returns (HTTP status, JSON answer).

        ``headers``: the webhook-id, webhook-timestamp and webhook-signature
        values; ``body``: the raw bytes. Every check runs before anything is
        written, and the writing runs in a savepoint: a refusal changes
        nothing. Called as superuser by the route (the sender is
        authenticated by its signature, not as an Odoo user).
        """
        if len(body) > MAX_BODY_BYTES:
            return self._refuse(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
        source = self.search([("code", "=", code), ("active", "=", True)], limit=1)
        if not source:
            return self._refuse(404, "unknown_source", "no active source with this code")

        msg_id, timestamp, signature = (
            (headers.get(name) or "").strip() for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        )
        if not (msg_id and timestamp and signature):
            return self._refuse(
                400, "missing_headers", "webhook-id, webhook-timestamp and webhook-signature are required"
            )
        if len(msg_id) > MAX_MESSAGE_ID_LENGTH or not msg_id.isprintable():
            return self._refuse(
                400, "bad_message_id", f"webhook-id: at most {MAX_MESSAGE_ID_LENGTH} printable characters"
            )
        if not timestamp.isdigit():
            return self._refuse(400, "bad_timestamp", "webhook-timestamp: unix seconds expected")
        age = int(time.time()) - int(timestamp)
        if age > TIMESTAMP_TOLERANCE:
            return self._refuse(401, "timestamp_too_old", "webhook-timestamp is more than 5 minutes old")
        if age < -TIMESTAMP_TOLERANCE:
            return self._refuse(401, "timestamp_in_future", "webhook-timestamp is more than 5 minutes ahead")
        try:
            valid = verify([source.secret], msg_id, timestamp, body, signature)
        except InvalidSecret:
            _logger.warning("inbound milestone source %s has an invalid secret", source.code)
            valid = False
        if not valid:
            return self._refuse(401, "invalid_signature", "no valid v1 signature for this source")

        Milestone = self.env["order.visibility.milestone"].with_company(source.company_id)
        if Milestone.search_count([("source_id", "=", source.id), ("webhook_id", "=", msg_id)], limit=1):
            return 200, {"status": "duplicate", "webhook_id": msg_id}
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            return self._refuse(400, "malformed_json", "the body is not JSON")
        try:
            values = validate_milestone_body(payload)
        except InvalidPayload as exc:
            return self._refuse(422, "invalid_payload", str(exc))
        if (values["occurred_at"] - fields.Datetime.now()).total_seconds() > TIMESTAMP_TOLERANCE:
            return self._refuse(422, "invalid_payload", "data.occurred_at: in the future")
        order = Milestone._find_order(source, values)
        if not order:
            return self._refuse(404, "unknown_order", "no such order for this source's company")
        try:
            with self.env.cr.savepoint():
                milestone = Milestone._receive(source, msg_id, values, order)
        except (UserError, ValidationError) as exc:
            return self._refuse(422, "not_applicable", exc.args[0] if exc.args else "")
        except IntegrityError:
            # The same message arrived twice at once: the other one won.
            return 200, {"status": "duplicate", "webhook_id": msg_id}
        return 200, {"status": "accepted", "webhook_id": msg_id, "milestone_id": milestone.id}
