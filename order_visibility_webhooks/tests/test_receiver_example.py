# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The published receiver example (docs/webhooks/receiver_example.py) against the real dispatcher."""

import importlib.util
import threading
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

from odoo import fields
from odoo.tests import tagged

from .common import WebhookCommon

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "webhooks" / "receiver_example.py"


@tagged("post_install", "-at_install")
class TestReceiverExample(WebhookCommon):
    def test_example_verifies_and_dedupes(self):
        spec = importlib.util.spec_from_file_location("receiver_example", EXAMPLE)
        example = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(example)
        server = ThreadingHTTPServer(("127.0.0.1", 0), example.Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)

        endpoint = self.create_endpoint(url=f"http://127.0.0.1:{server.server_address[1]}/hooks")
        example.SECRETS[:] = ["whsec_" + "A" * 32]  # a wrong secret first: 401, retried later
        self.confirmed_order()
        [delivery] = self.deliveries(endpoint_id=endpoint.id)
        self.dispatch()
        self.assertEqual(delivery.state, "failed")
        self.assertEqual(delivery.last_status_code, 401)

        example.SECRETS[:] = [endpoint.sudo().secret]
        self.dispatch(delivery.next_attempt_at)
        self.assertEqual(delivery.state, "delivered")
        self.assertIn(delivery.event_id, example.seen_ids)
        self.assertEqual(list(example.last_sequence.values()), [1])

        # A replay carries the same webhook-id: acknowledged as a duplicate.
        self.env["order.visibility.webhook.replay"].create(
            {
                "endpoint_id": endpoint.id,
                "date_from": fields.Datetime.now() - timedelta(hours=1),
                "date_to": fields.Datetime.now() + timedelta(hours=1),
            }
        ).action_replay()
        self.dispatch()
        replay = self.deliveries(endpoint_id=endpoint.id) - delivery
        self.assertEqual(replay.state, "delivered")
        self.assertIn('"duplicate": true', replay.attempt_ids.response)
