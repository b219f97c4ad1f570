# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re
from datetime import datetime, timedelta

from lxml import html

from odoo.addons.order_visibility.models.order_visibility_approval import APPROVAL_REASONS
from odoo.addons.order_visibility.tools.constants import STAGES
from odoo.tests import tagged

from .common import PNG, PortalCommon

CUSTOMER_LABELS = {
    "Order received", "Being prepared", "Ready to ship", "Partially shipped", "Shipped", "Delivered", "Cancelled",
}  # fmt: skip


def card(response):
    """The "where is my order" card of a portal page, or None."""
    cards = html.fromstring(response.content).xpath("//*[@id='ov_where_is_my_order']")
    return cards[0] if cards else None


def visible_text(response):
    """What the page shows (no scripts, no styles)."""
    tree = html.fromstring(response.content)
    for node in tree.xpath("//script|//style"):
        node.drop_tree()
    return " ".join(tree.text_content().split())


@tagged("post_install", "-at_install")
class TestPortalPages(PortalCommon):
    def open_as(self, user, url):
        self.env.flush_all()
        self.authenticate(user.login, user.login) if user else self.authenticate(None, None)
        return self.url_open(url)

    def test_own_order_shows_the_card(self):
        order = self.shipped_order(partner=self.portal_user.partner_id)
        self.add_milestone(order, "picked_up", carrier="Northwind", tracking_ref="NW-77")
        self.add_milestone(order, "in_transit", carrier="Northwind", tracking_ref="NW-77")
        response = self.open_as(self.portal_user, f"/my/orders/{order.id}")
        self.assertEqual(response.status_code, 200)
        root = card(response)
        self.assertIsNotNone(root, "the page has the card")
        self.assertEqual(root.get("data-ov-stage"), "shipped")
        text = " ".join(root.text_content().split())
        self.assertIn("Where is my order?", text)
        self.assertIn("Picked up by the carrier", text)
        self.assertIn("In transit", text)
        self.assertIn("NW-77", text)
        self.assertEqual(
            [
                (li.get("data-ov-step"), "ov_step_current" in li.get("class"))
                for li in root.xpath(".//li[@data-ov-step]")
            ],
            [("received", False), ("preparing", False), ("ready", False), ("shipped", True), ("delivered", False)],
        )
        self.assertFalse(root.xpath(".//a[contains(@href, '/web/content')]"))

        listing = self.open_as(self.portal_user, "/my/orders")
        badges = html.fromstring(listing.content).xpath("//td[@name='ov_stage']/span")
        self.assertEqual([(b.get("data-ov-stage"), b.text_content().strip()) for b in badges], [("shipped", "Shipped")])

    def test_proof_of_delivery_through_the_order_only(self):
        order = self.shipped_order(partner=self.portal_user.partner_id)
        milestone = self.add_milestone(order, "delivered", proof=True)
        response = self.open_as(self.portal_user, f"/my/orders/{order.id}")
        root = card(response)
        self.assertEqual(root.get("data-ov-stage"), "delivered")
        (link,) = root.xpath(".//a[hasclass('ov_proof_of_delivery')]")
        self.assertIn(f"/my/orders/{order.id}/proof_of_delivery", link.get("href"))
        self.assertEqual(self.url_open(link.get("href")).content, PNG)
        # The attachment itself stays closed to the portal user.
        raw = self.url_open(f"/web/content/{milestone.attachment_id.id}")
        self.assertNotEqual(raw.content, PNG)
        # Another customer's buyer gets nothing.
        other = self.open_as(self.other_portal_user, f"/my/orders/{order.id}/proof_of_delivery")
        self.assertNotEqual(other.content, PNG)

    def test_moved_promise_shows_the_first_one(self):
        first = datetime(2030, 3, 4, 10, 0)
        order = self.create_order([(self.goods, 1)], partner=self.portal_user.partner_id, commitment_date=first)
        order.action_confirm()
        self.flush()
        order.commitment_date = first + timedelta(days=3)
        self.flush()
        root = card(self.open_as(self.portal_user, f"/my/orders/{order.id}"))
        (promise,) = root.xpath(".//dd[hasclass('ov_promised_date')]")
        text = " ".join(promise.text_content().split())
        self.assertIn("03/07/2030", text)
        self.assertIn("first promised: 03/04/2030", text)

    def test_updates_sent_and_failed_delivery_in_customer_words(self):
        order = self.shipped_order(partner=self.portal_user.partner_id)
        self.add_milestone(order, "failed_delivery", eta=datetime(2030, 3, 9, 12, 0))
        self.env["order.visibility.customer.update"].sudo().create(
            {
                "visibility_id": self.visibility(order).id,
                "cause": "failed_delivery:2030-03-08",
                "sent_at": datetime(2030, 3, 8, 9, 0),
            }
        )
        root = card(self.open_as(self.portal_user, f"/my/orders/{order.id}"))
        milestones = " ".join(root.xpath(".//ul[hasclass('ov_milestones')]")[0].text_content().split())
        self.assertIn("Delivery attempt failed", milestones)
        self.assertIn("next expected delivery 03/09/2030", milestones)
        updates = " ".join(root.xpath(".//ul[hasclass('ov_updates')]")[0].text_content().split())
        self.assertEqual(updates, "03/08/2030: The carrier could not deliver your order on 03/08/2030.")
        self.assertNotIn("failed_delivery:", root.text_content(), "the internal cause key stays inside")

    def test_another_customers_order_answers_as_odoo(self):
        order = self.shipped_order(partner=self.other_customer)
        self.add_milestone(order, "in_transit", tracking_ref="SECRET-REF")
        response = self.open_as(self.portal_user, f"/my/orders/{order.id}")
        self.assertTrue(response.url.endswith("/my"), "redirected to the portal home, as Odoo does")
        self.assertIsNone(card(response))
        self.assertNotIn(order.name, response.text)
        self.assertNotIn("SECRET-REF", response.text)
        listing = self.open_as(self.portal_user, "/my/orders")
        self.assertNotIn(order.name, listing.text)

    def test_token_link_without_login(self):
        order = self.shipped_order()
        self.add_milestone(order, "delivered")
        response = self.open_as(None, order.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(card(response).get("data-ov-stage"), "delivered")
        wrong = self.open_as(None, f"/my/orders/{order.id}?access_token=wrong")
        self.assertIsNone(card(wrong))
        self.assertNotIn(order.name, wrong.text)

    def test_no_internal_word_on_held_approved_or_excepted_orders(self):
        self.switch_on_governance()
        self.portal_user.partner_id.parent_id.credit_limit = 100.0
        self.set_stock(self.goods, 10)
        held = self.create_order([(self.goods, 10)], partner=self.portal_user.partner_id)
        self.confirm_in_form(held)
        visibility = self.assertStage(held, "credit_hold")
        self.assertTrue(visibility.exception_ids, "the held order has open exceptions")
        quotation = self.create_order([(self.goods, 80)], partner=self.portal_user.partner_id)
        quotation.order_line.price_unit = 26.0
        self.confirm_in_form(quotation)
        self.assertStage(quotation, "pending_approval")
        self.env.flush_all()

        shared = {label.lower() for label in CUSTOMER_LABELS}
        internal = {label for _code, label in STAGES if label.lower() not in shared}
        internal |= {"Credit Hold", "Pending Approval", "risk", "margin", "exception", "approval", "credit limit"}
        internal |= {label for _code, label in APPROVAL_REASONS}
        internal |= set(self.env["order.visibility.exception.type"].search([]).mapped("name"))
        internal |= {visibility.credit_hold_reason, *visibility.exception_ids.mapped("detail")} - {False, ""}
        internal -= {"Quotation"}  # Odoo's own page names a quotation so
        pattern = re.compile("|".join(rf"\b{re.escape(word)}\b" for word in sorted(internal)), re.IGNORECASE)
        token = held._portal_ensure_token()
        pages = {
            "held order": self.open_as(self.portal_user, f"/my/orders/{held.id}"),
            "quotation": self.open_as(self.portal_user, f"/my/orders/{quotation.id}"),
            "orders": self.open_as(self.portal_user, "/my/orders"),
            "card alone": self.open_as(self.portal_user, f"/my/orders/{held.id}/where_is_my_order"),
        }
        self.assertEqual(card(pages["held order"]).get("data-ov-stage"), "received")
        for name, response in pages.items():
            with self.subTest(page=name):
                self.assertEqual(response.status_code, 200)
                self.assertFalse(pattern.findall(visible_text(response)))
        answer = self.open_as(None, f"/order_visibility/track/{held.id}?access_token={token}").text
        self.assertFalse(pattern.findall(answer))
        self.assertIn('"stage": "received"', answer)

    def test_dutch_portal_user(self):
        self.setup_dutch(modules=("order_visibility_portal",))
        self.portal_user.lang = "nl_NL"
        order = self.shipped_order(partner=self.portal_user.partner_id)
        self.add_milestone(order, "picked_up")
        root = card(self.open_as(self.portal_user, f"/my/orders/{order.id}"))
        text = " ".join(root.text_content().split())
        self.assertIn("Waar is mijn bestelling?", text)
        self.assertIn("Verzonden", text)
        self.assertIn("Opgehaald door de vervoerder", text)

    def test_two_companies(self):
        company_b = self.setup_second_company()["company"]
        order_a = self.shipped_order(partner=self.portal_user.partner_id)
        warehouse_b = self.env["stock.warehouse"].search([("company_id", "=", company_b.id)], limit=1)
        order_b = self.create_order(
            [(self.goods, 1)], partner=self.portal_user.partner_id, warehouse=warehouse_b, company_id=company_b.id
        )
        order_b.action_confirm()
        source_b = self.env["order.visibility.webhook.source"].create(
            {"name": "B Carrier", "code": "bcarrier", "secret": "whsec_" + "b" * 32, "company_id": company_b.id}
        )
        self.add_milestone(order_a, "in_transit", tracking_ref="A-REF")
        self.source, source_a = source_b, self.source
        self.add_milestone(order_b, "picked_up", tracking_ref="B-REF")
        self.source = source_a
        page_a = card(self.open_as(self.portal_user, f"/my/orders/{order_a.id}"))
        # The buyer's user works in company A: company B's order opens from
        # its link, as in the e-mails company B sends.
        page_b = card(self.open_as(None, order_b.get_portal_url()))
        self.assertIn("A-REF", page_a.text_content())
        self.assertNotIn("B-REF", page_a.text_content())
        self.assertIn("B-REF", page_b.text_content())
        self.assertNotIn("A-REF", page_b.text_content())
        self.assertEqual(page_b.get("data-ov-stage"), "preparing")
