# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The published JSON Schema of inbound milestones and the product's
validator accept and refuse the same bodies."""

import base64
import json
from pathlib import Path

import jsonschema

from odoo.tests import BaseCase, tagged

from ..tools.milestone_payload import MAX_PROOF_BYTES, InvalidPayload, validate_milestone_body

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "webhooks" / "schemas" / "inbound.milestone.json"
NOW = "2026-11-26T10:00:00Z"


def body(milestone="in_transit", type_=None, **data):
    return {
        "type": type_ or f"milestone.{milestone}",
        "timestamp": NOW,
        "data": {"order": "S00042", "milestone": milestone, "occurred_at": NOW, **data},
    }


def without(sample, *keys):
    sample = json.loads(json.dumps(sample))
    for key in keys:
        del sample["data"][key]
    return sample


PNG = base64.b64encode(b"\x89PNG" + b"\0" * 32).decode()
GOOD = {
    "in transit": body(carrier="DHL", tracking_ref="JD0146", note="left the hub"),
    "generic type": body(type_="milestone"),
    "picked up by order id": without(body("picked_up", order_id=42), "order"),
    "delayed with ETA": body("delayed", eta="2026-11-30T12:00:00+01:00"),
    "delivered with signature": body("delivered", proof={"signed_by": "J. Peeters"}),
    "delivered with photo": body(
        "delivered", proof={"signed_by": "J.", "filename": "pod.png", "mimetype": "image/png", "content": PNG}
    ),
    "delivered with document only": body(
        "delivered", proof={"filename": "pod.pdf", "mimetype": "application/pdf", "content": PNG}
    ),
    "failed delivery": body("failed_delivery", note="closed"),
    "fractional seconds": body(occurred_at="2026-11-26T10:00:00.123456Z"),
}
BAD = {
    "not an object": [],
    "no data": {"type": "milestone", "timestamp": NOW},
    "extra top-level key": {**body(), "extra": 1},
    "unknown type": body(type_="shipment.in_transit"),
    "type and milestone disagree": body(type_="milestone.delivered"),
    "unknown milestone": body("lost"),
    "both order and order_id": body(order_id=1),
    "neither order nor order_id": without(body(), "order"),
    "blank order": body(order="   "),
    "order_id not an integer": without(body(order_id="42"), "order"),
    "order_id zero": without(body(order_id=0), "order"),
    "order_id boolean": without(body(order_id=True), "order"),
    "no occurred_at": without(body(), "occurred_at"),
    "date without time zone": body(occurred_at="2026-11-26T10:00:00"),
    "date in another format": body(occurred_at="26/11/2026 10:00"),
    "month 13": body(occurred_at="2026-13-01T10:00:00Z"),
    "delayed without ETA": body("delayed"),
    "ETA null": body("delayed", eta=None),
    "carrier too long": body(carrier="x" * 65),
    "note not a string": body(note=5),
    "unknown data key": body(colour="red"),
    "proof on in transit": body(proof={"signed_by": "X"}),
    "empty proof": body("delivered", proof={}),
    "blank signed_by": body("delivered", proof={"signed_by": " "}),
    "content without filename": body("delivered", proof={"mimetype": "image/png", "content": PNG}),
    "content without mimetype": body("delivered", proof={"filename": "a.png", "content": PNG}),
    "filename without content": body("delivered", proof={"signed_by": "X", "filename": "a.png"}),
    "mimetype not allowed": body(
        "delivered", proof={"filename": "a.exe", "mimetype": "application/x-msdownload", "content": PNG}
    ),
    "content not base64": body(
        "delivered", proof={"filename": "a.png", "mimetype": "image/png", "content": "not base64!"}
    ),
    "content too large": body(
        "delivered",
        proof={
            "filename": "a.png",
            "mimetype": "image/png",
            "content": base64.b64encode(b"\0" * (MAX_PROOF_BYTES + 3)).decode(),
        },
    ),
    "unknown proof key": body("delivered", proof={"signed_by": "X", "gps": "50.8,4.3"}),
}


@tagged("post_install", "-at_install")
class TestInboundSchema(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schema = json.loads(SCHEMA.read_text())
        jsonschema.Draft202012Validator.check_schema(cls.schema)
        cls.validator = jsonschema.Draft202012Validator(cls.schema)

    def test_good_samples_pass_both(self):
        for name, sample in GOOD.items():
            with self.subTest(name):
                self.assertEqual(list(self.validator.iter_errors(sample)), [])
                validate_milestone_body(sample)

    def test_bad_samples_fail_both(self):
        for name, sample in BAD.items():
            with self.subTest(name):
                self.assertTrue(list(self.validator.iter_errors(sample)), "the schema refuses it")
                with self.assertRaises(InvalidPayload):
                    validate_milestone_body(sample)

    def test_the_schema_example_is_valid(self):
        for example in self.schema["examples"]:
            validate_milestone_body(example)
            self.validator.validate(example)
