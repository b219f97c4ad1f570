#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A minimal receiver of Order Visibility webhooks (standard library + standardwebhooks).

    pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... python3 receiver_example.py 8765

It verifies every request with the Standard Webhooks reference library
(signature and a 5-minute timestamp window), answers 401 to anything that does
not verify, treats the ``webhook-id`` as an idempotency key (a retry or a replay
of an event it already processed is acknowledged and ignored), and checks the
per-order ``sequence`` to spot a gap. During a secret rotation, list both
secrets separated by a space in WEBHOOK_SECRET: either one verifies.
The suite's tests run the same logic (order_visibility_webhooks/tests/common.py).
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRETS = os.environ.get("WEBHOOK_SECRET", "").split()
seen_ids = set()  # use a database table with a unique index in production
last_sequence = {}  # (order_id) -> last sequence processed


def verify(body, headers):
    """The parsed event if one of the secrets verifies it, else None."""
    for secret in SECRETS:
        try:
            return Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            continue
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the dispatcher reuses its connection
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between headers and body

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {key.lower(): value for key, value in self.headers.items()}
        event = verify(body, headers)
        if event is None:
            return self.answer(401, {"error": "bad signature"})
        if headers["webhook-id"] in seen_ids:
            return self.answer(200, {"duplicate": True})  # already processed: acknowledge only
        data = event["data"]
        order_id = data.get("order_id")
        if order_id is not None:
            expected = last_sequence.get(order_id, 0) + 1
            if data["sequence"] != expected:
                print(f"order {order_id}: expected event {expected}, got {data['sequence']}", file=sys.stderr)
            last_sequence[order_id] = max(data["sequence"], last_sequence.get(order_id, 0))
        seen_ids.add(headers["webhook-id"])
        print(event["type"], json.dumps(data, sort_keys=True))
        return self.answer(200, {"ok": True})

    def answer(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    if not SECRETS:
        sys.exit("set WEBHOOK_SECRET to the endpoint's whsec_ secret")
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
