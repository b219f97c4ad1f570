# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema

from odoo.tests import tagged

from ..controllers.track import LIMITER, RATE_PARAM
from .common import PNG, PortalCommon

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "webhooks" / "schemas" / "portal.track.json").read_text()
)


@tagged("post_install", "-at_install")
class TestTrackApi(PortalCommon):
    def setUp(self):
        super().setUp()
        LIMITER.clear()
        self.addCleanup(LIMITER.clear)

    def track(self, path):
        self.env.flush_all()
        response = self.url_open(path, allow_redirects=False)
        return response.status_code, response

    def assertNotFound(self, path):
        status, response = self.track(path)
        self.assertEqual(status, 404, path)
        self.assertEqual(response.content, b"{}", path)

    def validate(self, answer):
        jsonschema.validate(answer, SCHEMA, format_checker=jsonschema.FormatChecker())

    def test_shipped_order_with_milestones(self):
        order = self.shipped_order(partner=self.portal_user.partner_id)
        self.add_milestone(order, "picked_up", carrier="Northwind", tracking_ref="NW-1")
        self.add_milestone(order, "delivered", proof=True, carrier="Northwind", tracking_ref="NW-1")
        token = order._portal_ensure_token()
        status, response = self.track(f"/order_visibility/track/{order.id}?access_token={token}")
        self.assertEqual(status, 200)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        answer = response.json()
        self.validate(answer)
        self.assertEqual(answer["order_name"], order.name)
        self.assertEqual((answer["stage"], answer["stage_label"]), ("delivered", "Delivered"))
        self.assertEqual([m["milestone"] for m in answer["milestones"]], ["picked_up", "delivered"])
        self.assertEqual({m["tracking_ref"] for m in answer["milestones"]}, {"NW-1"})
        self.assertTrue(
            answer["proof_of_delivery_url"].endswith(f"/my/orders/{order.id}/proof_of_delivery?access_token={token}")
        )
        # The proof's link gives the document to whoever holds the token...
        proof = self.url_open(answer["proof_of_delivery_url"])
        self.assertEqual((proof.status_code, proof.content), (200, PNG))
        # ...and nothing without it.
        wrong = self.url_open(f"/my/orders/{order.id}/proof_of_delivery?access_token=nope")
        self.assertNotEqual(wrong.content, PNG)

    def test_order_without_milestones(self):
        order = self.create_order([(self.goods, 1)])
        order.action_confirm()
        status, response = self.track(f"/order_visibility/track/{order.id}?access_token={order._portal_ensure_token()}")
        self.assertEqual(status, 200)
        answer = response.json()
        self.validate(answer)
        self.assertEqual(answer["milestones"], [])
        self.assertIsNone(answer["proof_of_delivery_url"])
        self.assertIn(answer["stage"], ("preparing", "ready"))

    def test_moved_promise_keeps_the_first_one(self):
        first = datetime(2030, 3, 4, 10, 0)
        order = self.create_order([(self.goods, 1)], commitment_date=first)
        order.action_confirm()
        self.flush()
        order.commitment_date = first + timedelta(days=3)
        self.flush()
        status, response = self.track(f"/order_visibility/track/{order.id}?access_token={order._portal_ensure_token()}")
        self.assertEqual(status, 200)
        answer = response.json()
        self.validate(answer)
        self.assertEqual(answer["first_promised_date"], "2030-03-04T10:00:00Z")
        self.assertEqual(answer["promised_date"], "2030-03-07T10:00:00Z")

    def test_same_empty_404_for_every_bad_request(self):
        order = self.shipped_order()
        token = order._portal_ensure_token()
        other = self.shipped_order(partner=self.other_customer)
        other_token = other._portal_ensure_token()
        for path in (
            f"/order_visibility/track/{order.id}",
            f"/order_visibility/track/{order.id}?access_token=",
            f"/order_visibility/track/{order.id}?access_token=wrong",
            f"/order_visibility/track/{order.id}?access_token={token[:-1]}",
            f"/order_visibility/track/{order.id}?access_token={other_token}",
            f"/order_visibility/track/{order.id + 100000}?access_token={token}",
            f"/order_visibility/track/0?access_token={token}",
            f"/order_visibility/track/abc?access_token={token}",
            f"/order_visibility/track/-{order.id}?access_token={token}",
            f"/order_visibility/track/{order.id}.0?access_token={token}",
            f"/order_visibility/track/99999999999999999999999?access_token={token}",
            f"/order_visibility/track/{order.id}?access_token={token}&access_token=wrong",
            f"/order_visibility/track/{order.id}?access_token={token}&access_token={token}",
            f"/order_visibility/track/%C2%B2?access_token={token}",
        ):
            with self.subTest(path=path):
                self.assertNotFound(path)

    def test_session_is_not_a_token(self):
        """A logged-in buyer of the customer still needs the token: the API is for machines."""
        order = self.shipped_order(partner=self.portal_user.partner_id)
        self.authenticate(self.portal_user.login, self.portal_user.login)
        self.assertNotFound(f"/order_visibility/track/{order.id}")

    def test_rate_limited_per_address(self):
        self.env["ir.config_parameter"].set_param(RATE_PARAM, 3)
        order = self.shipped_order()
        token = order._portal_ensure_token()
        statuses = [self.track(f"/order_visibility/track/{order.id}?access_token={token}")[0] for _i in range(3)]
        self.assertEqual(statuses, [200, 200, 200])
        self.assertEqual(self.track(f"/order_visibility/track/{order.id}?access_token={token}")[0], 429)
        # Bad requests count too: guessing tokens is limited the same way.
        self.assertEqual(self.track(f"/order_visibility/track/{order.id}?access_token=x")[0], 429)

    def test_rate_limiter_window(self):
        LIMITER.clear()
        self.assertTrue(LIMITER.allow("10.0.0.1", 2, now=100.0))
        self.assertTrue(LIMITER.allow("10.0.0.1", 2, now=101.0))
        self.assertFalse(LIMITER.allow("10.0.0.1", 2, now=102.0))
        self.assertTrue(LIMITER.allow("10.0.0.2", 2, now=102.0), "another address has its own count")
        self.assertTrue(LIMITER.allow("10.0.0.1", 2, now=160.5), "the oldest request left the window")
