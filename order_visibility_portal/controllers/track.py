# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The tracking API: what the order page says, as JSON, for the customer's
own systems. Only the order's access token opens it; anything else (no
token, a wrong one, an unknown or malformed id) gets the same empty 404."""

import json
import threading
import time
from collections import defaultdict, deque

from odoo import http
from odoo.http import request
from odoo.tools import consteq

RATE_PARAM = "order_visibility_portal.track_rate_limit"
DEFAULT_RATE = 60  # requests per minute and client address
WINDOW = 60.0
MAX_ORDER_ID = 2**31 - 1  # PostgreSQL integer


class RateLimiter:
    """Requests per client address in the last minute, in this process (a
    sliding window); an address over the limit is refused until its oldest
    request leaves the window."""

    def __init__(self):
        self._hits = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, address, limit, now=None):
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits[address]
            while hits and hits[0] <= now - WINDOW:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 10000:  # forget idle addresses
                for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - WINDOW]:
                    del self._hits[key]
            return True

    def clear(self):
        with self._lock:
            self._hits.clear()


LIMITER = RateLimiter()


def iso(value):
    """RFC 3339 (UTC) of a naive UTC datetime, or None."""
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


class OrderVisibilityTrack(http.Controller):
    def _json(self, payload, status=200):
        return request.make_response(
            json.dumps(payload),
            headers=[("Content-Type", "application/json"), ("Cache-Control", "no-store")],
            status=status,
        )

    def _not_found(self):
        return self._json({}, status=404)

    def _rate_limit(self):
        try:
            limit = int(request.env["ir.config_parameter"].sudo().get_param(RATE_PARAM, DEFAULT_RATE))
        except ValueError:
            limit = DEFAULT_RATE
        return limit

    @http.route(
        "/order_visibility/track/<string:order_ref>",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        readonly=True,
        save_session=False,
    )
    def track_order(self, order_ref, **kw):
        if not LIMITER.allow(request.httprequest.remote_addr, self._rate_limit()):
            return self._json({}, status=429)
        tokens = request.httprequest.args.getlist("access_token")
        if not (order_ref.isascii() and order_ref.isdigit() and len(tokens) == 1 and tokens[0]):
            return self._not_found()
        order_id = int(order_ref)
        if not 0 < order_id <= MAX_ORDER_ID:
            return self._not_found()
        # sudo: the caller is anonymous; the token below is the only check.
        order = request.env["sale.order"].sudo().browse(order_id).exists()
        if not order or not order.access_token or not consteq(order.access_token, tokens[0]):
            return self._not_found()
        lang = order.partner_id.lang or order.company_id.partner_id.lang
        order = order.with_context(lang=lang) if lang else order
        tracking = order._ov_tracking()
        proof_url = None
        if tracking["has_proof"]:
            proof_url = order.get_base_url() + order.get_portal_url(suffix="/proof_of_delivery")
        return self._json(
            {
                "order_name": order.name,
                "stage": tracking["stage"],
                "stage_label": tracking["stage_label"],
                "first_promised_date": iso(tracking["first_promised_date"]),
                "promised_date": iso(tracking["promised_date"]),
                "milestones": [
                    {
                        "milestone": m["milestone"],
                        "at": iso(m["at"]),
                        "carrier": m["carrier"] or None,
                        "tracking_ref": m["tracking_ref"] or None,
                    }
                    for m in tracking["milestones"]
                ],
                "proof_of_delivery_url": proof_url,
            }
        )
