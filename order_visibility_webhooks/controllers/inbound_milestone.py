# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound delivery milestones, signed per the Standard Webhooks specification.

The route reads at most one byte more than the body cap from the request
stream (whatever ``Content-Length`` or a chunked ``Transfer-Encoding``
announce) and hands the bytes, with the headers, to
``order.visibility.webhook.source._receive_message``, which checks
everything before writing. A refusal is raised as a short JSON answer
(4xx), so that Odoo rolls the request's transaction back: nothing a refused
message did is kept. Any input gets a 2xx or a 4xx, never a 500.
"""

import werkzeug.exceptions

from odoo import http
from odoo.http import request

from ..models.order_visibility_webhook_source import InboundRefused
from ..tools.milestone_payload import MAX_BODY_BYTES

ROUTE = "/order_visibility/webhook/<string:code>"
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
# Odoo parses these bodies into form fields before the route runs: their
# bytes are no longer there to verify.
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InboundMilestoneController(http.Controller):
    @http.route(ROUTE, type="http", auth="public", csrf=False, methods=["POST"], save_session=False)
    def receive_milestone(self, code, **_kwargs):
        # sudo: the caller is anonymous until its signature is checked, and
        # sources (with their secrets) are readable by administrators only.
        Source = request.env["order.visibility.webhook.source"].sudo()
        try:
            body = self._read_body(Source)
            headers = {name: request.httprequest.headers.get(name, "") for name in SIGNATURE_HEADERS}
            status, answer = Source._receive_message(code, headers, body)
        except InboundRefused as refused:
            # Raised as the answer (werkzeug's abort), not returned: Odoo rolls
            # the transaction back and sends it as it is, without logging.
            werkzeug.exceptions.abort(
                request.make_json_response(refused.answer, headers=refused.headers, status=refused.status)
            )
        return request.make_json_response(answer, status=status)

    @staticmethod
    def _read_body(Source):
        """The raw body, at most MAX_BODY_BYTES; raises InboundRefused."""
        httprequest = request.httprequest
        if httprequest.mimetype in FORM_MIMETYPES:
            raise Source._refused(415, "unsupported_media_type", "send the JSON body as application/json")
        # The size first, before reading anything.
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            raise Source._refused(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
        # Odoo's request wraps werkzeug's and does not expose its input stream:
        # bounded by Content-Length, or the dechunked input of a chunked body,
        # which nothing else bounds.
        stream = httprequest._HTTPRequest__wrapped.stream
        chunks, size = [], 0
        try:
            while size <= MAX_BODY_BYTES:
                chunk = stream.read(MAX_BODY_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (OSError, werkzeug.exceptions.ClientDisconnected):
            # A malformed chunk, a body shorter than announced, a timeout.
            raise Source._refused(400, "malformed_body", "the body could not be read") from None
        if size > MAX_BODY_BYTES:
            raise Source._refused(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
        return b"".join(chunks)
