# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound delivery milestones, signed per the Standard Webhooks specification.

Every rejection is answered before anything is written (or inside a
savepoint that is rolled back), with a short JSON reason that names no
secret and no signature.
"""

import json
import logging
import time

from psycopg2 import IntegrityError

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from ..tools.milestone_payload import MAX_BODY_BYTES, InvalidPayload, validate_milestone_body
from ..tools.signing import TIMESTAMP_TOLERANCE, InvalidSecret, verify

_logger = logging.getLogger(__name__)

ROUTE = "/order_visibility/webhook/<string:code>"
MAX_MESSAGE_ID_LENGTH = 255


class InboundMilestoneController(http.Controller):
    @http.route(ROUTE, type="http", auth="public", csrf=False, methods=["POST"], save_session=False)
    def receive_milestone(self, code, **_kwargs):
        return self._receive(code)

    def _answer(self, http_status, error=None, message=None, **values):
        if error:
            _logger.info("inbound milestone refused (%s): %s %s", http_status, error, message or "")
            values.update(error=error, message=message)
        return request.make_json_response(values, status=http_status)

    def _receive(self, code):
        httprequest = request.httprequest
        # Size first, before reading or parsing anything.
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            return self._answer(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
        body = httprequest.get_data(cache=False)
        if len(body) > MAX_BODY_BYTES:
            return self._answer(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")

        # sudo: the caller is anonymous until its signature is checked, and
        # the source (with its secret) is readable by administrators only.
        source = (
            request.env["order.visibility.webhook.source"]
            .sudo()
            .search([("code", "=", code), ("active", "=", True)], limit=1)
        )
        if not source:
            return self._answer(404, "unknown_source", "no active source with this code")

        msg_id = httprequest.headers.get("webhook-id", "").strip()
        timestamp = httprequest.headers.get("webhook-timestamp", "").strip()
        signature = httprequest.headers.get("webhook-signature", "").strip()
        if not (msg_id and timestamp and signature):
            return self._answer(
                400, "missing_headers", "webhook-id, webhook-timestamp and webhook-signature are required"
            )
        if len(msg_id) > MAX_MESSAGE_ID_LENGTH or not msg_id.isprintable():
            return self._answer(
                400, "bad_message_id", f"webhook-id: at most {MAX_MESSAGE_ID_LENGTH} printable characters"
            )
        if not timestamp.isdigit():
            return self._answer(400, "bad_timestamp", "webhook-timestamp: unix seconds expected")
        age = int(time.time()) - int(timestamp)
        if age > TIMESTAMP_TOLERANCE:
            return self._answer(401, "timestamp_too_old", "webhook-timestamp is more than 5 minutes old")
        if age < -TIMESTAMP_TOLERANCE:
            return self._answer(401, "timestamp_in_future", "webhook-timestamp is more than 5 minutes ahead")
        try:
            valid = verify([source.secret], msg_id, timestamp, body, signature)
        except InvalidSecret:
            _logger.warning("inbound milestone source %s has an invalid secret", source.code)
            valid = False
        if not valid:
            return self._answer(401, "invalid_signature", "no valid v1 signature for this source")

        Milestone = request.env["order.visibility.milestone"].sudo().with_company(source.company_id)
        if Milestone.search_count([("source_id", "=", source.id), ("webhook_id", "=", msg_id)], limit=1):
            return self._answer(200, status="duplicate", webhook_id=msg_id)

        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            return self._answer(400, "malformed_json", "the body is not JSON")
        try:
            values = validate_milestone_body(payload)
        except InvalidPayload as exc:
            return self._answer(422, "invalid_payload", str(exc))
        if (values["occurred_at"] - fields.Datetime.now()).total_seconds() > TIMESTAMP_TOLERANCE:
            return self._answer(422, "invalid_payload", "data.occurred_at: in the future")

        order = Milestone._find_order(source, values)
        if not order:
            return self._answer(404, "unknown_order", "no such order for this source's company")

        # The work runs as superuser in the source's company: the sender is
        # authenticated by its signature, not as an Odoo user, and it only
        # reaches the order found in its own company above. A savepoint makes
        # a refusal at this stage change nothing.
        try:
            with request.env.cr.savepoint():
                milestone = Milestone._receive(source, msg_id, values, order)
        except (UserError, ValidationError) as exc:
            return self._answer(422, "not_applicable", exc.args[0] if exc.args else "")
        except IntegrityError:
            # The same message arrived twice at once: the other one won.
            return self._answer(200, status="duplicate", webhook_id=msg_id)
        return self._answer(200, status="accepted", webhook_id=msg_id, milestone_id=milestone.id)
