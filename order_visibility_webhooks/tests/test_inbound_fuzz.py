# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A few hundred random and malformed requests to the real inbound route,
over real HTTP on 127.0.0.1, from a seeded generator (the same requests on
every run): hostile headers (unicode digits, negative, huge, empty,
duplicated, non-ASCII bytes), encodings, sizes (over the cap with and
without Content-Length, chunked), JSON of every shape (arrays, nulls, wrong
types, deep nesting, validly signed but invalid bodies), odd source codes
and content types. Each one gets a 2xx or a 4xx, never a 5xx; a refused one
writes nothing; the log has no error or traceback."""

import base64
import json
import logging
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import quote

from odoo.tests import tagged

from ..models.order_visibility_webhook_source import MAX_RATE_LIMIT
from ..tools.milestone_payload import MAX_BODY_BYTES, MILESTONE_CODES
from ..tools.signing import sign
from .common_inbound import SECRET, InboundCommon, iso
from .test_inbound_hardening import HTML, PDF, PNG, SVG, RawHttpMixin

SEED = 16  # issue #16; change it to explore, keep it fixed in the repository
REQUESTS = 300

TIMESTAMPS = [
    b"\xb2",  # read as '\u00b2' by the server: isdigit() but not int()
    b"\xb9\xb2\xb3",
    "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660".encode(),
    "\uff11\uff17\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff10".encode(),
    b"",
    b" ",
    b"-1",
    b"0",
    b"+1700000000",
    b"1.7e9",
    b"0x65",
    b"9" * 11,
    b"9" * 400,
    b"1" * 4000,
    b"NaN",
    b"null",
    b"\xff\xfe",
    b"\x00",
]
MESSAGE_IDS = [b"", b" ", b"m" * 256, b"m" * 4000, "msg_\u00e9".encode(), b"msg\x7f", b"msg\x01", b"\xff" * 8]
SIGNATURES = [
    b"",
    b"v1,",
    b"v1",
    b"v2," + base64.b64encode(b"x" * 32),
    b"v1," + base64.b64encode(b"x" * 32),
    b"v1," + b"A" * 2000,
    b"v1,x " * 300,
    b"v1,\xff\xfe",
    b"v1,====",
]
CONTENT_TYPES = [
    None,
    b"application/json",
    b"text/plain",
    b"application/json; charset=latin-1",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=x",
    b"\xff/\xfe",
]
ODD_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**31,
    2**63,
    10**400,
    1.5,
    "",
    " ",
    "x" * 5000,
    "\u0000",
    "\ud800",
    "<script>alert(1)</script>",
    "2026-02-30T10:00:00Z",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:30:00-01:00",
    [],
    {},
    [[[[[]]]]],
    {"a": {"b": {"c": None}}},
]


@tagged("post_install", "-at_install")
class TestInboundFuzz(RawHttpMixin, InboundCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The rate limit has tests of its own: here every request is checked through.
        cls.source.rate_limit = MAX_RATE_LIMIT
        cls.path = f"/order_visibility/webhook/{cls.source.code}"

    def state(self, order):
        """Everything a message could change, to check a refused one changed nothing."""
        self.env.invalidate_all()
        visibility = self.visibility(order)
        counts = {
            model: self.env[model].search_count([])
            for model in (
                "order.visibility.milestone",
                "order.visibility.exception",
                "order.visibility.webhook.delivery",
                "mail.message",
                "mail.activity",
                "ir.attachment",
            )
        }
        return {
            **counts,
            "order": (order.write_date, order.state),
            "visibility": (visibility.write_date, visibility.stage, visibility.risk_score),
        }

    # -- the generator --------------------------------------------------

    def message(self, rng, order):
        """A valid milestone body (dict), sometimes with a proof of delivery."""
        milestone = rng.choice(MILESTONE_CODES)
        now = iso(datetime.now(UTC).replace(tzinfo=None))
        data = {"order": order.name, "milestone": milestone, "occurred_at": now}
        if milestone == "delayed":
            data["eta"] = now
        if rng.random() < 0.5:
            data["note"] = rng.choice(["Hub congestion", "<img src=x onerror=alert(1)>", "dock\nclosed"])
        if milestone == "delivered" and rng.random() < 0.5:
            content, mimetype = rng.choice(
                [(PNG, "image/png"), (PDF, "application/pdf"), (SVG, "image/png"), (HTML, "application/pdf")]
            )
            data["proof"] = {
                "signed_by": "J. Peeters",
                "filename": rng.choice(["pod.png", "pod.pdf", "../../pod", "pod.html"]),
                "mimetype": mimetype,
                "content": base64.b64encode(content).decode(),
            }
        return {"type": rng.choice(["milestone", f"milestone.{milestone}"]), "timestamp": now, "data": data}

    def mutate_json(self, rng, body):
        """The body with one to three random changes of shape or type."""
        for _change in range(rng.randint(1, 3)):
            target = body["data"] if isinstance(body.get("data"), dict) and rng.random() < 0.7 else body
            if "proof" in target and isinstance(target["proof"], dict) and rng.random() < 0.5:
                target = target["proof"]
            roll = rng.random()
            keys = list(target)
            if roll < 0.5 and keys:
                target[rng.choice(keys)] = rng.choice(ODD_VALUES)
            elif roll < 0.7 and keys:
                del target[rng.choice(keys)]
            elif roll < 0.85:
                target[rng.choice(["colour", "x" * 300, "", "\u0000", "order_id"])] = rng.choice(ODD_VALUES)
            else:
                return rng.choice([None, [], 42, "milestone", [body], {"data": body}])
        return body

    def encode(self, rng, value):
        """JSON bytes of ``value``: UTF-8 (a lone surrogate as the bytes a
        careless encoder writes), another encoding, truncated, or with a key
        twice, NaN or Infinity."""
        text = json.dumps(value, ensure_ascii=rng.random() < 0.5)
        roll = rng.random()
        if roll < 0.15:
            return text.encode(rng.choice(["utf-16", "utf-32", "utf-8-sig"]), "surrogatepass")
        if roll < 0.25:
            return text.encode("utf-8", "surrogatepass")[: rng.randint(0, len(text))]
        if roll < 0.35:
            extra = rng.choice(['"type": 1, "data"', '"x": NaN, "data"', '"x": -Infinity, "data"'])
            text = text.replace('"data"', extra, 1)
        return text.encode("utf-8", "surrogatepass")

    def random_request(self, rng, order):
        """(kind, path, headers, body, framing options) of one request; the
        body is signed with the source's secret, so most requests reach the
        checks after the signature."""
        kind = rng.choices(["headers", "encoding", "json", "size", "path", "valid"], weights=[30, 12, 33, 8, 5, 12])[0]
        body = self.message(rng, order)
        raw = json.dumps(body).encode()
        options = {}
        if kind == "json":
            raw = self.encode(rng, self.mutate_json(rng, body))
        elif kind == "encoding":
            raw = rng.choice(
                [
                    raw.decode().encode("utf-16"),
                    raw.decode().encode("utf-8-sig"),
                    raw.replace(b"Hub", b"H\xfcb").replace(b"milestone", b"m\xc3ilestone", 1),
                    bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))),
                    b"[" * 50_000 + b"]" * 50_000,
                    b"{" * 20_000,
                    b"1" * 5000,
                ]
            )
        elif kind == "size":
            roll = rng.random()
            if roll < 0.35:  # announced over the cap, nothing sent
                options = {"framing": "declared", "declared_length": MAX_BODY_BYTES + rng.randint(1, 10**8)}
                raw = b""
            elif roll < 0.7:  # chunked over the cap, no Content-Length
                raw = b'{"data": "' + b"x" * (MAX_BODY_BYTES + rng.randint(0, 4096)) + b'"}'
                options = {"framing": "chunked", "chunk_size": rng.choice([4096, 65536, 1 << 20])}
            elif roll < 0.85:
                options = {"framing": "malformed_chunks"}
            else:
                options = {"framing": "chunked", "chunk_size": rng.randint(1, 64)}
        headers = self.signed(raw)
        path = self.path
        if kind == "headers":
            for _change in range(rng.randint(1, 3)):
                roll = rng.random()
                if roll < 0.3:
                    headers[b"webhook-timestamp"] = [rng.choice(TIMESTAMPS)]
                elif roll < 0.45:
                    headers[b"webhook-id"] = [rng.choice(MESSAGE_IDS)]
                elif roll < 0.6:
                    headers[b"webhook-signature"] = [rng.choice(SIGNATURES)]
                elif roll < 0.7:
                    headers.pop(rng.choice([b"webhook-id", b"webhook-timestamp", b"webhook-signature"]), None)
                elif roll < 0.8:  # duplicated, the same value or another one
                    name = rng.choice(list(headers))
                    headers[name].append(rng.choice([headers[name][0], rng.choice(TIMESTAMPS), b"x"]))
                elif roll < 0.9:
                    ctype = rng.choice(CONTENT_TYPES)
                    headers[b"Content-Type"] = [ctype] if ctype else []
                else:
                    headers[rng.choice([b"webhook_id", b"X-Odd", b"webhook-id "])] = [rng.choice(MESSAGE_IDS)]
        elif kind == "path":
            code = rng.choice(["nobody", "%00", "%FF%FE", quote("\u00e9t\u00e9"), "x" * 300, "a%2Fb", "NORTHWIND"])
            path = f"/order_visibility/webhook/{code}"
        return kind, path, self.flat(headers), raw, options

    def signed(self, raw):
        """{header: [values]} of ``raw`` signed with the source's secret."""
        timestamp = int(time.time())
        msg_id = f"msg_{uuid.uuid4().hex}"
        return {
            b"webhook-id": [msg_id.encode()],
            b"webhook-timestamp": [str(timestamp).encode()],
            b"webhook-signature": [sign(SECRET, msg_id, timestamp, raw).encode()],
            b"Content-Type": [b"application/json"],
        }

    @staticmethod
    def flat(headers):
        return [(name, value) for name, values in headers.items() for value in values if value is not None]

    def all_requests(self, rng, order):
        """Each listed odd header value once (the review's '\u00b2' among them),
        then REQUESTS random requests."""
        for name, values in (
            (b"webhook-timestamp", TIMESTAMPS),
            (b"webhook-id", MESSAGE_IDS),
            (b"webhook-signature", SIGNATURES),
            (b"Content-Type", CONTENT_TYPES),
        ):
            for value in values:
                raw = json.dumps(self.message(rng, order)).encode()
                headers = {**self.signed(raw), name: [value]}
                yield f"listed {name.decode()}", self.path, self.flat(headers), raw, {}
        for _request in range(REQUESTS):
            yield self.random_request(rng, order)

    # -- the test ---------------------------------------------------------

    def test_random_and_malformed_requests_answer_2xx_or_4xx_and_refusals_write_nothing(self):
        order = self.shipped_order()
        rng = random.Random(SEED)
        answers = Counter()
        before = self.state(order)
        with self.assertNoLogs(level=logging.ERROR):
            for number, (kind, path, headers, body, options) in enumerate(self.all_requests(rng, order)):
                status, _headers, answer = self.raw_post(path, headers, body, **options)
                answers[status] += 1
                with self.subTest(request=number, kind=kind):
                    self.assertTrue(200 <= status < 500, f"{status} {answer}")
                    after = self.state(order)
                    if status >= 300:
                        self.assertEqual(after, before, f"refused ({status} {answer}) but something changed")
                    else:
                        self.assertIn(answer["status"], ("accepted", "duplicate"))
                    before = after
        for status in (200, 400, 401, 404, 413, 415, 422):
            self.assertTrue(answers[status], f"the generator reaches {status}: {dict(answers)}")
