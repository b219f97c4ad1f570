# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A real HTTP receiver on 127.0.0.1 that verifies signatures with standardwebhooks,
and helpers to drive the dispatcher as its scheduled action does."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from odoo import SUPERUSER_ID, api, fields
from odoo.addons.order_visibility.tests.common import OrderVisibilityCommon
from odoo.tests import common as odoo_test_common


class Receiver:
    """A webhook receiver in a thread. ``mode``: ok, error (500), redirect (302),
    slow (answers after ``delay`` seconds), big (a 100 kB answer)."""

    def __init__(self):
        self.mode = "ok"
        self.delay = 0.0
        self.gave_up = 0
        self.secrets = []
        self.received = []  # dicts: path, headers, body, payload, verified_with
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = [s for s in receiver.secrets if receiver.verifies(s, body, headers)]
                with receiver.lock:
                    receiver.received.append(
                        {
                            "path": self.path,
                            "headers": headers,
                            "body": body,
                            "payload": json.loads(body),
                            "verified_with": verified,
                            "connection": self.client_address,
                        }
                    )
                mode = receiver.mode
                if mode == "slow":
                    time.sleep(receiver.delay)  # the receiver is slow; the test never waits on it
                if mode == "error":
                    self._answer(500, b'{"error": "boom"}')
                elif mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif mode == "big":
                    self._answer(200, b"x" * 100_000)
                else:
                    self._answer(200, b'{"ok": true}')

            def _answer(self, status, payload):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    receiver.gave_up += 1  # the client stopped waiting (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def verifies(secret, body, headers):
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def clear(self):
        with self.lock:
            self.received.clear()


class LocalReceiverMixin:
    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's test harness raises every timeout below 10 s to 10 s; the
        # dispatcher's timeouts are under test here, so requests to the
        # local receiver keep theirs (anything else goes through Odoo's guard).
        if urlsplit(r.url).hostname == "127.0.0.1":
            return odoo_test_common._super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)


class WebhookCommon(LocalReceiverMixin, OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "True")
        cls.receiver = Receiver()
        cls.addClassCleanup(cls.receiver.stop)

    def setUp(self):
        super().setUp()
        self.receiver.mode = "ok"
        self.receiver.clear()

    def create_endpoint(self, **values):
        endpoint = self.env["order.visibility.webhook.endpoint"].create(
            {"name": "Receiver", "url": self.receiver.url, "company_id": self.company.id, "timeout": 2, **values}
        )
        self.receiver.secrets = [endpoint.sudo().secret]
        return endpoint

    def deliveries(self, **domain):
        self.flush()
        return self.env["order.visibility.webhook.delivery"].search(
            [(key, "=", value) for key, value in domain.items()], order="id"
        )

    def dispatch(self, now=None, limit=200):
        """One dispatcher batch as the scheduled action runs it (its own cursor,
        which commits), at time ``now``; returns how many deliveries it claimed."""
        self.flush()
        with self.enter_registry_test_mode(), self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            done = env["order.visibility.webhook.delivery"]._dispatch_batch(
                limit=limit, now=now or fields.Datetime.now()
            )
        self.env.invalidate_all()
        return done

    def dispatch_all(self, now=None):
        total = 0
        while done := self.dispatch(now):
            total += done
        return total

    def confirmed_order(self, quantity=2):
        self.set_stock(self.goods, quantity)
        order = self.create_order([(self.goods, quantity)])
        order.action_confirm()
        self.flush()
        return order
