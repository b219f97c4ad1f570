# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound delivery milestones, signed per the Standard Webhooks specification.

The route reads the raw body with a size cap and hands it, with the
headers, to ``order.visibility.webhook.source._receive_message``, which
checks everything before writing and answers a short JSON reason.
"""

from odoo import http
from odoo.http import request

from ..tools.milestone_payload import MAX_BODY_BYTES

ROUTE = "/order_visibility/webhook/<string:code>"
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class InboundMilestoneController(http.Controller):
    @http.route(ROUTE, type="http", auth="public", csrf=False, methods=["POST"], save_session=False)
    def receive_milestone(self, code, **_kwargs):
        httprequest = request.httprequest
        # sudo: the caller is anonymous until its signature is checked, and
        # sources (with their secrets) are readable by administrators only.
        Source = request.env["order.visibility.webhook.source"].sudo()
        # The size first, before reading or parsing anything.
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            status, answer = Source._refuse(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
        else:
            body = httprequest.get_data(cache=False)
            headers = {name: httprequest.headers.get(name, "") for name in SIGNATURE_HEADERS}
            status, answer = Source._receive_message(code, headers, body)
        return request.make_json_response(answer, status=status)
