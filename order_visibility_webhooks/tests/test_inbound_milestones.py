# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound milestones over real HTTP: what an accepted one does, and that
every refusal answers a short reason and changes nothing."""

import base64
import json
from datetime import UTC, datetime, timedelta

from odoo.tests import tagged

from .common_inbound import SECRET, InboundCommon, iso

# A real 1x1 PNG: the type of a proof of delivery is read from its bytes.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


@tagged("post_install", "-at_install")
class TestInboundMilestones(InboundCommon):
    def test_in_transit_lands_on_the_timeline_and_the_chatter(self):
        order = self.shipped_order()
        status, answer = self.post(
            self.milestone_body(order, "in_transit", carrier="DHL", tracking_ref="JD0146"), msg_id="msg_transit_1"
        )
        self.assertEqual((status, answer["status"]), (200, "accepted"))
        milestone = self.milestones(order)
        self.assertEqual(milestone.id, answer["milestone_id"])
        self.assertEqual(
            (milestone.milestone, milestone.carrier, milestone.tracking_ref), ("in_transit", "DHL", "JD0146")
        )
        self.assertEqual(milestone.webhook_id, "msg_transit_1")
        self.assertEqual(milestone.source_id, self.source)
        self.assertEqual(milestone.picking_id, order.picking_ids, "the delivery order it is about")
        self.assertEqual(self.visibility(order).milestone_ids, milestone, "on the order's timeline")
        note = order.message_ids[0]
        self.assertIn("Carrier milestone: In transit", note.body)
        self.assertIn("DHL JD0146", note.body)
        self.assertFalse(self.delivery_exceptions(order), "in transit is not an exception")
        self.assertEqual(self.source.milestone_count, 1)
        self.assertTrue(self.source.last_received_at)

    def test_timeline_page_shows_the_milestones(self):
        arch = self.env["order.visibility"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="milestone_ids"', arch)

    def test_delay_past_the_promise_opens_an_exception_and_raises_the_risk_delivery_resolves_it(self):
        order = self.shipped_order(promised_in_days=1)
        visibility = self.visibility(order)
        self.assertEqual(visibility.risk_score, 0)
        eta = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=4)
        status, _answer = self.post(self.milestone_body(order, "delayed", eta=iso(eta), carrier="DHL"))
        self.assertEqual(status, 200)
        exception = self.delivery_exceptions(order, "open")
        self.assertEqual(len(exception), 1)
        self.assertIn("new ETA", exception.detail)
        self.assertEqual(exception.res_model, "stock.picking")
        visibility.invalidate_recordset()
        self.assertEqual(visibility.risk_reasons[-1][0], "carrier_delay")
        self.assertAlmostEqual(visibility.risk_reasons[-1][1]["days"], 3.0, delta=0.1)
        self.assertGreaterEqual(visibility.risk_score, 30)
        self.assertIn("the carrier expects delivery 3.0 days after the promise", visibility.risk_explanation)

        status, _answer = self.post(
            self.milestone_body(
                order,
                "delivered",
                proof={"signed_by": "J. Peeters", "filename": "pod.png", "mimetype": "image/png", "content": PNG},
            )
        )
        self.assertEqual(status, 200)
        self.assertEqual(exception.state, "resolved", "delivered resolves the delivery exception")
        delivered = self.milestones(order).filtered(lambda m: m.milestone == "delivered")
        self.assertEqual(delivered.signed_by, "J. Peeters")
        attachment = delivered.attachment_id
        self.assertEqual((attachment.res_model, attachment.res_id), ("stock.picking", order.picking_ids.id))
        self.assertEqual(attachment.datas.decode(), PNG)
        self.assertEqual(attachment.name, "pod.png")
        visibility.invalidate_recordset()
        self.assertNotIn("carrier_delay", [code for code, _figures in visibility.risk_reasons or []])
        self.assertEqual(visibility.risk_score, 0)

    def test_delay_within_the_promise_opens_nothing(self):
        order = self.shipped_order(promised_in_days=5)
        eta = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=2)
        status, _answer = self.post(self.milestone_body(order, "delayed", eta=iso(eta)))
        self.assertEqual(status, 200)
        self.assertFalse(self.delivery_exceptions(order))
        self.assertEqual(self.visibility(order).risk_score, 0)

    def test_failed_delivery_opens_a_delivery_exception(self):
        order = self.shipped_order()
        status, _answer = self.post(self.milestone_body(order, "failed_delivery", note="Nobody at the dock"))
        self.assertEqual(status, 200)
        exception = self.delivery_exceptions(order, "open")
        self.assertEqual(len(exception), 1)
        self.assertIn("Nobody at the dock", exception.detail)
        self.assertTrue(exception.activity_ids, "its owners got a to-do")
        self.assertIn("exceptions", [code for code, _figures in self.visibility(order).risk_reasons])

    def test_order_by_id_and_generic_type(self):
        order = self.shipped_order()
        body = self.milestone_body(order, "picked_up")
        body["type"] = "milestone"
        del body["data"]["order"]
        body["data"]["order_id"] = order.id
        status, _answer = self.post(body)
        self.assertEqual(status, 200)
        self.assertEqual(self.milestones(order).milestone, "picked_up")

    def test_replay_answers_200_with_no_second_effect(self):
        order = self.shipped_order()
        body = self.milestone_body(order, "failed_delivery")
        self.assertEqual(self.post(body, msg_id="msg_replayed")[0], 200)
        before = self.footprint(order)
        status, answer = self.post(body, msg_id="msg_replayed")
        self.assertEqual((status, answer["status"]), (200, "duplicate"))
        self.assertEqual(self.footprint(order), before)
        self.assertEqual(len(self.milestones(order)), 1)

    def test_a_rotated_secret_signature_among_several_is_accepted(self):
        order = self.shipped_order()
        body = json.dumps(self.milestone_body(order, "in_transit"))
        now = datetime.now(UTC)
        from standardwebhooks.webhooks import Webhook

        other = "whsec_" + base64.b64encode(b"x" * 32).decode()
        signature = " ".join(Webhook(key).sign("msg_two_sigs", now, body) for key in (other, SECRET))
        status, _answer = self.post(
            None, raw=body, msg_id="msg_two_sigs", timestamp=now, headers={"webhook-signature": signature}
        )
        self.assertEqual(status, 200)

    def test_every_refusal_answers_a_reason_and_changes_nothing(self):
        order = self.shipped_order()
        inactive = self.env["order.visibility.webhook.source"].create(
            {"name": "Old 3PL", "code": "old-3pl", "secret": SECRET, "active": False}
        )
        now = datetime.now(UTC)
        good = self.milestone_body(order, "in_transit")

        def with_data(**changes):
            body = json.loads(json.dumps(good))
            body["data"].update(changes)
            return body

        other_secret = "whsec_" + base64.b64encode(b"y" * 32).decode()
        cases = [
            ("wrong signature", {"body": good, "secret": other_secret}, 401, "invalid_signature"),
            (
                "signature of another body",
                {"body": good, "headers": {"webhook-signature": "v1,AAAA"}},
                401,
                "invalid_signature",
            ),
            (
                "timestamp 6 minutes old",
                {"body": good, "timestamp": now - timedelta(minutes=6)},
                401,
                "timestamp_too_old",
            ),
            (
                "timestamp 6 minutes ahead",
                {"body": good, "timestamp": now + timedelta(minutes=6)},
                401,
                "timestamp_in_future",
            ),
            ("no signature header", {"body": good, "headers": {"webhook-signature": None}}, 400, "missing_headers"),
            ("no id header", {"body": good, "headers": {"webhook-id": None}}, 400, "missing_headers"),
            (
                "timestamp not a number",
                {"body": good, "headers": {"webhook-timestamp": "yesterday"}},
                400,
                "bad_timestamp",
            ),
            ("malformed JSON", {"body": None, "raw": '{"type": "milestone.in_transit", '}, 400, "malformed_json"),
            ("unknown milestone", {"body": with_data(milestone="lost")}, 422, "invalid_payload"),
            ("bad date", {"body": with_data(occurred_at="26/11/2026")}, 422, "invalid_payload"),
            (
                "date in the future",
                {"body": with_data(occurred_at=iso(datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)))},
                422,
                "invalid_payload",
            ),
            (
                "delayed without ETA",
                {"body": {**good, "type": "milestone"} | {"data": {**good["data"], "milestone": "delayed"}}},
                422,
                "invalid_payload",
            ),
            ("proof on in transit", {"body": with_data(proof={"signed_by": "X"})}, 422, "invalid_payload"),
            ("type and milestone disagree", {"body": {**good, "type": "milestone.delivered"}}, 422, "invalid_payload"),
            ("unknown field", {"body": with_data(colour="red")}, 422, "invalid_payload"),
            (
                "oversized body",
                {"body": None, "raw": json.dumps(with_data(note="x" * (1024 * 1024)))},
                413,
                "body_too_large",
            ),
            ("unknown source", {"body": good, "code": "nobody"}, 404, "unknown_source"),
            ("inactive source", {"body": good, "code": inactive.code}, 404, "unknown_source"),
            ("unknown order", {"body": with_data(order="S99999")}, 404, "unknown_order"),
        ]
        before = self.footprint(order)
        for name, kwargs, expected_status, expected_error in cases:
            with self.subTest(name):
                status, answer = self.post(**kwargs)
                self.assertEqual(status, expected_status, answer)
                self.assertEqual(answer.get("error"), expected_error, answer)
                self.assertTrue(answer.get("message"))
                self.assertNotIn(SECRET[6:], json.dumps(answer), "no secret in the answer")
                self.assertEqual(self.footprint(order), before, "nothing changed")
        self.assertFalse(self.milestones(order))

    def test_proof_without_a_delivery_order_is_refused_and_changes_nothing(self):
        order = self.create_order([(self.service, 1)])
        order.action_confirm()
        before = self.footprint(order)
        status, answer = self.post(
            self.milestone_body(
                order, "delivered", proof={"filename": "pod.pdf", "mimetype": "application/pdf", "content": PNG}
            )
        )
        self.assertEqual((status, answer["error"]), (422, "not_applicable"))
        self.assertEqual(self.footprint(order), before)
