# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import re
import time

from psycopg2 import IntegrityError
from psycopg2.errors import SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

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
    per the Standard Webhooks specification with the source's secret,
    which behaves as every webhook secret (``order.visibility.webhook.secret.mixin``):
    nobody reads it back (the receiver reads it as superuser), a generated
    one is shown once to an administrator of the source's company
    (``action_show_secret``), a typed one never.
    """

    _name = "order.visibility.webhook.source"
    _description = "Inbound Milestone Source"
    _inherit = ["order.visibility.webhook.secret.mixin", "mail.thread"]
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        copy=False,
        tracking=True,
        help="The last part of the URL the source posts to: lowercase letters, digits, - and _.",
    )
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

    @api.depends("code")
    def _compute_url_path(self):
        for source in self:
            source.url_path = f"/order_visibility/webhook/{source.code}" if source.code else False

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
        return super().write(vals)

    def action_generate_secret(self):
        """Replace the secret by a new one at once (messages signed with the
        previous one are refused from now on); returns its one-time reveal.
        Administrators of the source's company."""
        self.ensure_one()
        self._check_admin_access()
        self._replace_secret()
        self._post_secret_replaced()
        return self.action_show_secret()

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
            valid = verify([source.secret], msg_id, timestamp, body, signature)
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
