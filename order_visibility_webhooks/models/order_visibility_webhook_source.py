# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import re
import time

from psycopg2 import IntegrityError
from psycopg2.errors import SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, sql

from ..tools.constants import ADMIN_GROUP
from ..tools.milestone_payload import (
    MAX_BODY_BYTES,
    InvalidPayload,
    MalformedBody,
    parse_json_body,
    validate_milestone_body,
)
from ..tools.signing import (
    MAX_SIGNATURE_HEADER_LENGTH,
    MESSAGE_ID_RE,
    TIMESTAMP_RE,
    TIMESTAMP_TOLERANCE,
    InvalidSecret,
    generate_secret,
    secret_key,
    timestamp_is_fresh,
    verify,
)

_logger = logging.getLogger(__name__)

CODE_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
DEFAULT_RATE_LIMIT = 120  # signed requests per source and minute
MAX_RATE_LIMIT = 10_000
# Attempts at counting a request when concurrent requests of the same source
# update its counter at the same moment (a serialization failure each time).
RATE_COUNT_ATTEMPTS = 3


class InboundRefused(Exception):
    """A refused inbound message: its HTTP status, the JSON answer and headers.

    Raised, never returned, so that the transaction of the refused request
    is rolled back: a refusal writes nothing.
    """

    def __init__(self, status, error, message, headers=None):
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.answer = {"error": error, "message": message}
        self.headers = headers or {}


class OrderVisibilityWebhookSource(models.Model):
    """A carrier, WMS or 3PL that posts signed delivery milestones.

    It posts to ``/order_visibility/webhook/<code>``, signing each message
    per the Standard Webhooks specification with the source's secret. The
    value is kept in ``stored_secret``, which no user reads or writes
    (``fields.NO_ACCESS``: the receiver reads it as superuser); ``secret``
    shows it to the administrators of the source's company until one of
    them hides it (``action_hide_secret``), then never again.
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
    stored_secret = fields.Char(copy=False, groups=fields.NO_ACCESS)
    secret = fields.Char(
        compute="_compute_secret",
        inverse="_inverse_secret",
        groups=ADMIN_GROUP,
        help="whsec_ followed by base64 of 24 to 64 bytes. Leave empty to let the server generate one. "
        "Readable until an administrator hides it, then never again.",
    )
    secret_revealed = fields.Boolean(
        copy=False,
        readonly=True,
        groups=ADMIN_GROUP,
        help="An administrator copied the secret and hid it: it is never readable again.",
    )
    secret_hint = fields.Char(compute="_compute_secret_hint", groups=ADMIN_GROUP)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True, tracking=True
    )
    rate_limit = fields.Integer(
        required=True,
        default=DEFAULT_RATE_LIMIT,
        tracking=True,
        help="Signed requests accepted per minute from this source; more are answered 429 with Retry-After.",
    )
    url_path = fields.Char(string="URL Path", compute="_compute_url_path")
    milestone_ids = fields.One2many("order.visibility.milestone", "source_id", string="Received Milestones")
    milestone_count = fields.Integer(string="Accepted Messages", compute="_compute_message_stats")
    last_received_at = fields.Datetime(string="Last Message", compute="_compute_message_stats")

    _code_uniq = models.Constraint(
        "UNIQUE(code)",
        "This code is already used by another source: the URL must name one source only.",
    )

    def _auto_init(self):
        result = super()._auto_init()
        self._move_former_secret_column()
        return result

    def _move_former_secret_column(self):
        """The secret used to be a stored field "secret", readable by
        administrators even once hidden: move it where no user reads it."""
        cr = self.env.cr
        if sql.column_exists(cr, self._table, "secret"):
            table = SQL.identifier(self._table)
            cr.execute(SQL("UPDATE %s SET stored_secret = secret WHERE stored_secret IS NULL", table))
            cr.execute(SQL("ALTER TABLE %s DROP COLUMN secret", table))

    @api.depends("code")
    def _compute_url_path(self):
        for source in self:
            source.url_path = f"/order_visibility/webhook/{source.code}" if source.code else False

    @api.depends("stored_secret", "secret_revealed")
    def _compute_secret(self):
        # sudo: the value itself is NO_ACCESS; administrators of the source's
        # company read it here until one of them hides it.
        for source, source_sudo in zip(self, self.sudo(), strict=True):
            source.secret = False if source_sudo.secret_revealed else source_sudo.stored_secret

    def _inverse_secret(self):
        self.check_access("write")
        for source in self:
            source._set_secret(source.secret or generate_secret())

    @api.depends("stored_secret")
    def _compute_secret_hint(self):
        # sudo: the last four characters only, for the administrators who read the source.
        for source, source_sudo in zip(self, self.sudo(), strict=True):
            secret = source_sudo.stored_secret
            source.secret_hint = f"whsec_…{secret[-4:]}" if secret else False

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
            if not CODE_RE.fullmatch(source.code or ""):
                raise ValidationError(
                    self.env._(
                        "The code %(code)r may use lowercase letters, digits, - and _ only "
                        "(at most 64 characters, starting with a letter or digit).",
                        code=source.code,
                    )
                )

    @api.constrains("rate_limit")
    def _check_rate_limit(self):
        for source in self:
            if not 1 <= source.rate_limit <= MAX_RATE_LIMIT:
                raise ValidationError(
                    self.env._(
                        "The rate limit of %(name)s must be between 1 and %(max)s requests per minute.",
                        name=source.name,
                        max=MAX_RATE_LIMIT,
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
            if not vals.get("secret"):
                vals["secret"] = generate_secret()
        return super().create(vals_list)

    def write(self, vals):
        if "company_id" in vals and any(source.company_id.id != vals["company_id"] for source in self):
            # The secret was chosen for one company's orders: moving the source
            # would let its holder post milestones on another company's orders.
            raise UserError(
                self.env._(
                    "The company of an inbound milestone source cannot be changed. "
                    "Create a source in the other company instead."
                )
            )
        if "secret_revealed" in vals and not self.env.su:
            # A hidden secret stays hidden: only Hide Secret sets it, a new secret clears it.
            raise AccessError(self.env._("Whether a secret was hidden is recorded by the server, not set by hand."))
        return super().write(vals)

    def _set_secret(self, secret):
        """Keep ``secret`` (checked) as the source's secret, readable by its
        administrators until one of them hides it; the chatter records the
        change, never the value."""
        self.ensure_one()
        self._check_secret_value(secret)
        replaced = bool(self.sudo().stored_secret)
        # sudo: the value is NO_ACCESS; the callers checked the write access.
        self.sudo().write({"stored_secret": secret, "secret_revealed": False})
        if replaced:
            self.message_post(
                body=self.env._("Secret replaced by %(user)s.", user=self.env.user.name),
                subtype_xmlid="mail.mt_note",
            )

    def action_generate_secret(self):
        """Replace the secret by a new one, readable until it is hidden again."""
        self.check_access("write")
        for source in self:
            source._set_secret(generate_secret())
        return True

    def action_hide_secret(self):
        """The administrator has copied the secret: it is never readable again."""
        self.check_access("write")
        # sudo: only this action hides a secret (write refuses secret_revealed).
        self.sudo().write({"secret_revealed": True})
        return True

    def action_view_milestones(self):
        self.ensure_one()
        self.check_access("read")
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
    def _refused(self, http_status, error, message, headers=None):
        """The refusal to raise; logged without anything secret (the message
        quotes what the sender chose only shortened and JSON-escaped)."""
        _logger.info("inbound milestone refused (%s): %s %s", http_status, error, message)
        return InboundRefused(http_status, error, message, headers)

    @api.model
    def _receive_message(self, code, headers, body):
        """Check and apply one signed message; returns (HTTP status, JSON answer)
        of an accepted or already received message, raises InboundRefused.

        ``headers``: the webhook-id, webhook-timestamp and webhook-signature
        values; ``body``: the raw bytes. Every check runs before anything is
        written, and the writing runs in a savepoint; the route lets Odoo
        roll back the request of a refusal. Called as superuser by the route
        (the sender is authenticated by its signature, not as an Odoo user).
        """
        if len(body) > MAX_BODY_BYTES:
            raise self._refused(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
        source = self.browse()
        if isinstance(code, str) and CODE_RE.fullmatch(code):
            source = self.search([("code", "=", code), ("active", "=", True)], limit=1)
        if not source:
            raise self._refused(404, "unknown_source", "no active source with this code")

        msg_id, timestamp, signature = (
            str(headers.get(name) or "").strip() for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        )
        if not (msg_id and timestamp and signature):
            raise self._refused(
                400, "missing_headers", "webhook-id, webhook-timestamp and webhook-signature are required"
            )
        if not MESSAGE_ID_RE.fullmatch(msg_id):
            raise self._refused(400, "bad_message_id", "webhook-id: 1 to 255 printable ASCII characters")
        if not TIMESTAMP_RE.fullmatch(timestamp):
            raise self._refused(400, "bad_timestamp", "webhook-timestamp: unix seconds expected")
        if len(signature) > MAX_SIGNATURE_HEADER_LENGTH:
            raise self._refused(
                400, "bad_signature_header", f"webhook-signature: at most {MAX_SIGNATURE_HEADER_LENGTH} characters"
            )
        now = int(time.time())
        if not timestamp_is_fresh(timestamp, now):
            if int(timestamp) < now:
                raise self._refused(401, "timestamp_too_old", "webhook-timestamp is more than 5 minutes old")
            raise self._refused(401, "timestamp_in_future", "webhook-timestamp is more than 5 minutes ahead")
        try:
            valid = verify([source.stored_secret], msg_id, timestamp, body, signature)
        except InvalidSecret:
            _logger.warning("inbound milestone source %s has an invalid secret", source.code)
            valid = False
        if not valid:
            raise self._refused(401, "invalid_signature", "no valid v1 signature for this source")

        # From here on the sender is the source: its requests count, refused
        # ones included.
        hits, retry_after = source._count_request()
        if hits > source.rate_limit:
            raise self._refused(
                429,
                "rate_limited",
                f"at most {source.rate_limit} requests per minute from this source",
                headers={"Retry-After": str(retry_after)},
            )

        Milestone = self.env["order.visibility.milestone"].with_company(source.company_id)
        if Milestone.search_count([("source_id", "=", source.id), ("webhook_id", "=", msg_id)], limit=1):
            return 200, {"status": "duplicate", "webhook_id": msg_id}
        try:
            payload = parse_json_body(body)
        except MalformedBody as exc:
            raise self._refused(400, "malformed_json", str(exc)) from None
        try:
            values = validate_milestone_body(payload)
            if (values["occurred_at"] - fields.Datetime.now()).total_seconds() > TIMESTAMP_TOLERANCE:
                raise InvalidPayload("data.occurred_at: in the future")
            if values["proof"] and values["proof"].get("raw") is not None:
                values["proof"] = Milestone._proof_document(values["proof"])
        except InvalidPayload as exc:
            raise self._refused(422, "invalid_payload", str(exc)) from None
        order = Milestone._find_order(source, values)
        if not order:
            raise self._refused(404, "unknown_order", "no such order for this source's company")
        try:
            with self.env.cr.savepoint():
                milestone = Milestone._receive(source, msg_id, values, order)
        except (UserError, ValidationError) as exc:
            raise self._refused(422, "not_applicable", exc.args[0] if exc.args else "") from None
        except IntegrityError:
            # The same message arrived twice at once: the other one won.
            return 200, {"status": "duplicate", "webhook_id": msg_id}
        return 200, {"status": "accepted", "webhook_id": msg_id, "milestone_id": milestone.id}

    def _count_request(self):
        """Count one request of the source in the current minute; returns
        (requests this minute, seconds until the next minute).

        In a transaction of its own, committed at once, so that a refused
        request (whose own transaction is rolled back) counts too; one counter
        row per source, advanced by one atomic upsert, so that the workers of
        several processes share it. Under Odoo's test cursor both
        transactions are one, and a refused request's count is rolled back
        with it.
        """
        self.ensure_one()
        query = SQL(
            """INSERT INTO order_visibility_webhook_source_rate AS rate (source_id, window_start, hits)
               VALUES (%s, date_trunc('minute', now() AT TIME ZONE 'UTC'), 1)
               ON CONFLICT (source_id) DO UPDATE
                   SET hits = CASE WHEN rate.window_start = EXCLUDED.window_start THEN rate.hits + 1 ELSE 1 END,
                       window_start = EXCLUDED.window_start
               RETURNING hits,
                         60 - floor(EXTRACT(SECOND FROM now() AT TIME ZONE 'UTC'))::integer""",
            self.id,
        )
        for _attempt in range(RATE_COUNT_ATTEMPTS):
            try:
                with self.env.registry.cursor() as cr:
                    cr.execute(query, log_exceptions=False)
                    return cr.fetchone()
            except SerializationFailure:
                continue  # another request of this source counted first: count again
        # Still contended: too many requests at once.
        return self.rate_limit + 1, 1
