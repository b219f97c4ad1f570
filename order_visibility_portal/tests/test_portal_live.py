# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The card's own route, who may join an order's bus channel, what the bus
says, the link in the customer updates and the promise's reason."""

import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from unittest.mock import patch

from lxml import html

from odoo.addons.bus.models.bus import BusBus
from odoo.addons.order_visibility.tools.constants import STAGES
from odoo.tests import tagged

from ..controllers.track import LIMITER
from ..models.order_visibility import CHANNEL_TAG, REFRESH_TYPE
from .common import PortalCommon

CUSTOMER_LABELS = {
    "order received", "being prepared", "ready to ship", "partially shipped", "shipped", "delivered", "cancelled",
}  # fmt: skip
# Queries of one request after a warm-up, whatever the number of milestones.
PAGE_QUERIES = 40
CARD_QUERIES = 16
API_QUERIES = 12


def card_of(content):
    cards = html.fromstring(content).xpath("//*[@id='ov_where_is_my_order']")
    return cards[0] if cards else None


@tagged("post_install", "-at_install")
class TestPortalLive(PortalCommon):
    def card_url(self, order, token=None):
        url = f"/my/orders/{order.id}/where_is_my_order"
        return f"{url}?access_token={token}" if token is not None else url

    def get(self, url, user=None):
        self.env.flush_all()
        self.authenticate(user.login, user.login) if user else self.authenticate(None, None)
        return self.url_open(url, allow_redirects=False)

    def channels_of(self, user, asked):
        """The bus channels a websocket of ``user`` (None: a visitor) gets when
        its page asks for ``asked``, through the real ir.websocket chain."""
        env_user = user or self.env.ref("base.public_user")
        session = SimpleNamespace(uid=user.id if user else None)
        with patch("odoo.addons.bus.models.ir_websocket.request", SimpleNamespace(session=session)):
            channels = self.env["ir.websocket"].with_user(env_user)._build_bus_channel_list(list(asked))
        return {
            channel[0].id
            for channel in channels
            if isinstance(channel, tuple) and len(channel) == 2 and channel[1] == CHANNEL_TAG
        }, channels

    # -- the card's route ------------------------------------------------

    def test_card_route_answers_as_the_page(self):
        order = self.shipped_order(partner=self.portal_user.partner_id)
        self.add_milestone(order, "in_transit", tracking_ref="NW-5")
        token = order._portal_ensure_token()
        own = self.get(self.card_url(order), self.portal_user)
        self.assertEqual(own.status_code, 200)
        root = card_of(own.content)
        self.assertEqual((root.get("data-ov-stage"), root.get("data-ov-order-id")), ("shipped", str(order.id)))
        self.assertIsNone(root.get("data-ov-token"), "a logged-in buyer's card holds no token")
        self.assertIn("NW-5", root.text_content())
        self.assertIn("no-store", own.headers.get("Cache-Control", ""))

        by_token = self.get(self.card_url(order, token))
        self.assertEqual(by_token.status_code, 200)
        self.assertEqual(card_of(by_token.content).get("data-ov-token"), token)

        other = self.shipped_order(partner=self.other_customer)
        self.add_milestone(other, "in_transit", tracking_ref="SECRET-REF")
        other_token = other._portal_ensure_token()
        quotation = self.create_order([(self.goods, 1)], partner=self.portal_user.partner_id)
        for url, user in (
            (self.card_url(other), self.portal_user),
            (self.card_url(other, token), self.portal_user),
            (self.card_url(order), None),
            (self.card_url(order, "wrong"), None),
            (self.card_url(order, ""), None),
            (self.card_url(order, other_token), None),
            (self.card_url(quotation), self.portal_user),
            (f"/my/orders/{order.id + 1000000}/where_is_my_order", self.portal_user),
            ("/my/orders/0/where_is_my_order", self.portal_user),
            ("/my/orders/99999999999999999999/where_is_my_order", self.portal_user),
            ("/my/orders/99999999999999999999/proof_of_delivery", None),
        ):
            with self.subTest(url=url, user=user and user.login):
                response = self.get(url, user)
                self.assertEqual(response.status_code, 404)
                self.assertIsNone(card_of(response.content) if response.content.strip() else None)
                self.assertNotIn("SECRET-REF", response.text)

    def test_card_route_says_nothing_internal(self):
        self.switch_on_governance()
        self.portal_user.partner_id.parent_id.credit_limit = 100.0
        self.set_stock(self.goods, 10)
        held = self.create_order([(self.goods, 10)], partner=self.portal_user.partner_id)
        self.confirm_in_form(held)
        visibility = self.assertStage(held, "credit_hold")
        held.message_post(body="Internal note: watch this customer's margin", subtype_xmlid="mail.mt_note")
        internal = {label for _code, label in STAGES if label.lower() not in CUSTOMER_LABELS} - {"Quotation"}
        internal |= {"Credit Hold", "Pending Approval", "risk", "margin", "exception", "approval", "credit limit"}
        internal |= {"Internal note", self.env.user.name}
        internal |= {visibility.credit_hold_reason, *visibility.exception_ids.mapped("detail")} - {False, ""}
        pattern = re.compile("|".join(rf"\b{re.escape(word)}\b" for word in sorted(internal)), re.IGNORECASE)
        response = self.get(self.card_url(held), self.portal_user)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(card_of(response.content).get("data-ov-stage"), "received")
        self.assertFalse(pattern.findall(" ".join(card_of(response.content).text_content().split())))

    # -- the bus ---------------------------------------------------------

    def test_who_joins_an_orders_channel(self):
        order = self.shipped_order(partner=self.portal_user.partner_id)
        token = order._portal_ensure_token()
        other = self.shipped_order(partner=self.other_customer)
        asked = f"order_visibility_portal.order_{order.id}"
        with_token = f"{asked}_{token}"
        self.assertEqual(self.channels_of(self.portal_user, [asked])[0], {order.id}, "the customer's buyer")
        self.assertEqual(self.channels_of(None, [with_token])[0], {order.id}, "the holder of the link")
        self.assertEqual(self.channels_of(self.other_portal_user, [with_token])[0], {order.id})
        for user, channel in (
            (None, asked),
            (None, f"{asked}_wrong"),
            (None, f"{asked}_{token[:-1]}"),
            (None, f"order_visibility_portal.order_{other.id}_{token}"),
            (self.other_portal_user, asked),
            (self.portal_user, f"order_visibility_portal.order_{other.id}"),
            (self.portal_user, "order_visibility_portal.order_99999999999"),
            (self.portal_user, "order_visibility_portal.order_0"),
            (self.portal_user, "order_visibility_portal.order_abc"),
            (self.portal_user, f"order_visibility_portal.order_{order.id}_{'x' * 200}"),
        ):
            with self.subTest(user=user and user.login, channel=channel):
                allowed, channels = self.channels_of(user, [channel])
                self.assertFalse(allowed)
                strings = [c for c in channels if isinstance(c, str)]
                self.assertNotIn(channel, strings, "the client's string itself is never subscribed")

    def test_a_milestone_notifies_the_orders_channel_only_with_its_id(self):
        order = self.shipped_order(partner=self.portal_user.partner_id)
        sent = []
        original = BusBus._sendone

        def record(bus, target, notification_type, message):
            sent.append((target, notification_type, message))
            return original(bus, target, notification_type, message)

        with patch.object(BusBus, "_sendone", record):
            milestone = self.add_milestone(order, "delayed", eta=datetime.now() + timedelta(days=5), note="Dock")
            milestone._apply()
            self.flush()
            self.assertFalse([entry for entry in sent if entry[1] == REFRESH_TYPE], "nothing before the commit")
            self.commit()
        ours = [entry for entry in sent if entry[1] == REFRESH_TYPE]
        self.assertTrue(ours, "the order's page is told")
        for target, _type, message in ours:
            self.assertEqual(target, (order, CHANNEL_TAG))
            self.assertEqual(message, {"order_id": order.id}, "nothing but the order's id")

    def test_a_stage_change_notifies_the_order_and_a_quotation_is_quiet(self):
        sent = []
        original = BusBus._sendone

        def record(bus, target, notification_type, message):
            if notification_type == REFRESH_TYPE:
                sent.append(target[0])
            return original(bus, target, notification_type, message)

        with patch.object(BusBus, "_sendone", record):
            quotation = self.create_order([(self.goods, 1)], partner=self.portal_user.partner_id)
            self.commit()
            self.assertFalse(sent, "a quotation has no card to refresh")
            order = self.create_order([(self.goods, 2)], partner=self.portal_user.partner_id)
            self.set_stock(self.goods, 2)
            order.action_confirm()
            self.flush()
            self.assertFalse(sent, "nothing is sent before the commit: a rolled back change notifies nobody")
            self.commit()
            self.assertIn(order, sent)
            sent.clear()
            self.deliver(order.picking_ids)
            self.commit()
        self.assertStage(order, "shipped")
        self.assertIn(order, sent)
        self.assertNotIn(quotation, sent)

    # -- the link in the customer updates ----------------------------------

    def test_customer_update_carries_the_order_link(self):
        self.customer.email = "orders@harbor.example.com"
        order = self.shipped_order()
        visibility = self.visibility(order)
        self.assertFalse(order.access_token)
        message = visibility._send_customer_update()
        token = order.access_token
        self.assertTrue(token, "the order got its access token")
        link = f"{order.get_base_url()}/my/orders/{order.id}?access_token={token}"
        self.assertEqual(visibility._customer_update_link(), link)
        (anchor,) = html.fromstring(message.body).xpath("//a[hasclass('ov_customer_update_link')]")
        self.assertEqual(anchor.get("href"), link)
        self.assertEqual(anchor.text_content(), "View your order")
        # The link opens the order page, its card included, without an account.
        self.authenticate(None, None)
        page = self.url_open(link)
        self.assertEqual(page.status_code, 200)
        self.assertEqual(card_of(page.content).get("data-ov-stage"), "shipped")

    def test_drafted_update_in_dutch_carries_the_link(self):
        self.setup_dutch(modules=("order_visibility", "order_visibility_portal"))
        self.customer.write({"email": "orders@harbor.example.com", "lang": "nl_NL"})
        agent = self.new_user("ov_portal_cs", "order_visibility.group_order_visibility_user", email="cs@example.com")
        order = self.shipped_order()
        action = self.visibility(order).with_user(agent).action_draft_customer_update()
        composer = self.env[action["res_model"]].with_context(**action["context"]).with_user(agent).create({})
        (anchor,) = html.fromstring(composer.body).xpath("//a[hasclass('ov_customer_update_link')]")
        self.assertEqual(anchor.get("href"), f"{order.get_base_url()}{order.get_portal_url()}")
        self.assertIn(f"access_token={order.access_token}", anchor.get("href"))
        self.assertEqual(anchor.text_content(), "Bekijk uw bestelling")

    # -- the promise's reason ------------------------------------------------

    def test_moved_promise_gives_its_reason_in_customer_words(self):
        first = datetime(2030, 3, 4, 10, 0)
        order = self.create_order([(self.goods, 1)], partner=self.portal_user.partner_id, commitment_date=first)
        order.action_confirm()
        self.flush()
        response = self.get(self.card_url(order), self.portal_user)
        self.assertFalse(card_of(response.content).xpath(".//dd[hasclass('ov_promise_change')]"), "not moved yet")
        order.commitment_date = first + timedelta(days=3)
        self.flush()
        change = self.env["order.visibility.promise.change"].search([("sale_order_id", "=", order.id)])
        self.assertEqual(change.cause, "order_edited")
        root = card_of(self.get(self.card_url(order), self.portal_user).content)
        (reason,) = root.xpath(".//dd[hasclass('ov_promise_change')]")
        self.assertEqual(
            " ".join(reason.text_content().split()), "Your order was changed, which moved its delivery date."
        )
        promise = " ".join(root.xpath(".//dd[hasclass('ov_promised_date')]")[0].text_content().split())
        self.assertIn("03/07/2030", promise)
        self.assertIn("first promised: 03/04/2030", promise)
        text = root.text_content()
        for internal in ("order_edited", "Order edited", change.changed_by.name):
            self.assertNotIn(internal, text)

    def test_every_cause_code_reads_in_customer_words_in_dutch(self):
        self.setup_dutch(modules=("order_visibility_portal",))
        order = self.env["sale.order"]
        english = {
            "customer_request": "The delivery date was changed at your request.",
            "supplier_delay": "Our supplier delivered later than planned.",
            "carrier_eta": "The carrier gave us a new delivery estimate.",
            "order_edited": "Your order was changed, which moved its delivery date.",
            "other": "We had to change the planned delivery date.",
            "a_code_added_later": "We had to change the planned delivery date.",
            False: "We had to change the planned delivery date.",
        }
        dutch = {
            "customer_request": "De leverdatum is op uw verzoek gewijzigd.",
            "supplier_delay": "Onze leverancier leverde later dan gepland.",
            "carrier_eta": "De vervoerder gaf ons een nieuwe verwachte leverdatum.",
            "order_edited": "Uw bestelling is gewijzigd, waardoor de leverdatum is verschoven.",
            "other": "We moesten de geplande leverdatum wijzigen.",
            "a_code_added_later": "We moesten de geplande leverdatum wijzigen.",
            False: "We moesten de geplande leverdatum wijzigen.",
        }
        for cause, text in english.items():
            self.assertEqual(order.with_context(lang="en_US")._ov_promise_reason(cause), text)
        for cause, text in dutch.items():
            self.assertEqual(order.with_context(lang="nl_NL")._ov_promise_reason(cause), text)

    def test_dutch_card_gives_the_reason_in_dutch(self):
        self.setup_dutch(modules=("order_visibility_portal",))
        self.portal_user.lang = "nl_NL"
        first = datetime(2030, 3, 4, 10, 0)
        order = self.create_order([(self.goods, 1)], partner=self.portal_user.partner_id, commitment_date=first)
        order.action_confirm()
        self.flush()
        order.commitment_date = first + timedelta(days=2)
        self.flush()
        root = card_of(self.get(self.card_url(order), self.portal_user).content)
        text = " ".join(root.text_content().split())
        self.assertIn("Waarom de datum is verschoven", text)
        self.assertIn("Uw bestelling is gewijzigd, waardoor de leverdatum is verschoven.", text)

    # -- constant queries ------------------------------------------------

    def test_page_and_tracking_api_at_constant_query_count(self):
        """The order page and the card (as its buyer) and the tracking API
        (with the token) run the same queries for 1 and for 20 milestones,
        after a warm-up request."""
        self.addCleanup(LIMITER.clear)
        orders = {}
        for count in (1, 20):
            order = self.shipped_order(partner=self.portal_user.partner_id)
            for index in range(count):
                self.add_milestone(order, "in_transit", occurred_at=datetime(2030, 1, 1) + timedelta(hours=index))
            orders[count] = (order, order._portal_ensure_token())
        self.authenticate(self.portal_user.login, self.portal_user.login)
        for count, (order, token) in orders.items():
            for name, url, queries in (
                ("page", f"/my/orders/{order.id}", PAGE_QUERIES),
                ("card", self.card_url(order), CARD_QUERIES),
                ("api", f"/order_visibility/track/{order.id}?access_token={token}", API_QUERIES),
            ):
                with self.subTest(name=name, milestones=count):
                    LIMITER.clear()
                    self.env.flush_all()
                    self.assertEqual(self.url_open(url).status_code, 200)  # warm-up
                    with self.assertQueryCount(queries):
                        response = self.url_open(url)
                    self.assertEqual(response.status_code, 200)
                    if name == "api":
                        listed = response.json()["milestones"]
                    else:
                        listed = html.fromstring(response.content).xpath("//li[@data-ov-milestone]")
                    self.assertEqual(len(listed), count)

    # -- the demo's portal user ----------------------------------------------

    def test_demo_portal_user_logs_in_and_sees_several_stages(self):
        """The login and password documented in docs/user/portal.md open the
        portal on Harbor Fresh Foods' orders, in more than one customer stage."""
        user = self.env.ref("order_visibility_demo.user_harbor_fresh_portal", raise_if_not_found=False)
        if not user:
            self.skipTest("order_visibility_demo is not installed")
        credential = {"login": "harbor.portal", "password": "harbor-portal-demo", "type": "password"}
        self.assertEqual(self.env["res.users"].authenticate(credential, {"interactive": False})["uid"], user.id)
        self.assertTrue(user.share and user.has_group("base.group_portal"))
        listing = self.get("/my/orders", user)
        badges = html.fromstring(listing.content).xpath("//td[@name='ov_stage']/span/@data-ov-stage")
        self.assertGreaterEqual(len(set(badges)), 2, badges)
        self.assertIn("shipped", badges)
