# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import threading
import uuid
from datetime import UTC, datetime

import requests
from standardwebhooks.webhooks import Webhook

import odoo.http
from odoo.tests import tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME, get_db_name
from odoo.tests.test_cursor import TestCursor
from odoo.tools.misc import Callbacks

from ..models.order_visibility import CHANNEL_TAG
from .common import SOURCE_SECRET, PortalCommon


@tagged("post_install", "-at_install")
class TestPortalTour(PortalCommon):
    def signed_milestone(self, order, milestone):
        """The carrier's signed message of ``milestone`` (url, body, headers,
        cookies), as the inbound route receives it from the carrier."""
        moment = datetime.now(UTC)
        stamp = moment.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
        body = json.dumps(
            {
                "type": f"milestone.{milestone}",
                "timestamp": stamp,
                "data": {"order": order.name, "milestone": milestone, "occurred_at": stamp, "carrier": "Northwind"},
            }
        )
        msg_id = f"msg_{uuid.uuid4().hex}"
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(SOURCE_SECRET).sign(msg_id, moment, body),
            "Content-Type": "application/json",
        }
        # The test server serves several databases: an anonymous session
        # names this one (a carrier's server has one), nothing else.
        session = odoo.http.root.session_store.new()
        session.update(odoo.http.get_default_session(), db=get_db_name())
        odoo.http.root.session_store.save(session)
        self.addCleanup(odoo.http.root.session_store.delete, session)
        url = f"{self.base_url()}/order_visibility/webhook/{self.source.code}"
        return url, body.encode(), headers, {"session_id": session.sid}

    def test_a_milestone_arrives_live_on_the_order_page(self):
        """The buyer logs in to the portal, opens a shipped order, and the
        carrier's "delivered" milestone appears on the card, which moves to
        Delivered, without a reload (the tour marks the page and checks the
        mark is still there).

        How the milestone arrives during the tour, without sleeping: the
        carrier's signed message is posted for real to the inbound route
        (the controller, the milestone, the engine and the bus notification
        after its commit all run as in production), from a thread of this test that waits on
        an event, not on time: the event is set by ir.websocket's
        ``_after_subscribe_data`` when the page's websocket has subscribed
        to the order's channel, the moment from which a notification reaches
        the page. The tour itself only waits on DOM states (its steps'
        triggers): the card shipped and without milestones, then the card
        delivered with the milestone listed. A notification sent before the
        subscription would be lost, which is why the post waits for it,
        rather than racing the page's load."""
        order = self.shipped_order(partner=self.portal_user.partner_id)
        url, body, headers, cookies = self.signed_milestone(order, "delivered")
        subscribed, done = threading.Event(), threading.Event()
        outcome = {}
        websocket_class = type(self.env["ir.websocket"])
        original = websocket_class._after_subscribe_data

        def after_subscribe(websocket, data):
            original(websocket, data)
            if any(
                isinstance(c, tuple) and len(c) == 2 and c[1] == CHANNEL_TAG and c[0].id == order.id
                for c in data["channels"]
            ):
                subscribed.set()

        def carrier():
            if not subscribed.wait(timeout=60):
                outcome["error"] = "the page never subscribed to its order's channel"
                return
            if done.is_set():
                outcome["error"] = "the tour ended before the page subscribed"
                return
            # The test server only answers requests of the running test.
            jar = {**cookies, TEST_CURSOR_COOKIE_NAME: self.http_request_key}
            response = requests.post(url, data=body, headers=headers, cookies=jar, timeout=60)
            outcome["status"] = response.status_code
            if response.status_code != 200:
                outcome["answer"] = response.text[:300]

        self.patch(websocket_class, "_after_subscribe_data", after_subscribe)
        # The page is told after the carrier's request commits (its post-commit
        # hooks), which the test server's cursors skip: run them, as a server does.
        commit_without_hooks = TestCursor.commit

        def commit(cursor):
            hooks, cursor.postcommit = cursor.postcommit, Callbacks()
            commit_without_hooks(cursor)
            hooks.run()

        self.patch(TestCursor, "commit", commit)
        thread = threading.Thread(target=carrier, name="ov-portal-tour-carrier", daemon=True)
        self.env.flush_all()
        thread.start()
        try:
            self.start_tour(f"/my/orders/{order.id}", "order_visibility_portal_live_card", login=self.portal_user.login)
        except AssertionError as error:
            raise AssertionError(f"{error}\n\nthe carrier's side: {outcome or 'not posted'}") from None
        finally:
            done.set()
            subscribed.set()  # let the thread end if the tour failed early
            thread.join(timeout=60)
        self.assertEqual(outcome, {"status": 200})
        self.env.invalidate_all()
        milestone = self.env["order.visibility.milestone"].search([("sale_order_id", "=", order.id)])
        self.assertEqual(milestone.milestone, "delivered", "the milestone came through the inbound route")
