# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Trust at the inbound boundary: hostile headers, bodies and sizes get a
short 4xx over real HTTP and change nothing; a source has a rate limit;
companies are walls for sources, administrators included; a secret shown
once is never readable again; carrier text lands in HTML only as escaped text;
the type of a proof of delivery comes from its bytes."""

import base64
import contextlib
import http.client
import json
import socket
import time
import uuid

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged
from odoo.tests.common import HOST

from ..tools.milestone_payload import MAX_BODY_BYTES
from ..tools.signing import sign
from .common_inbound import SECRET, InboundCommon

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
OTHER_SECRET = "whsec_" + base64.b64encode(b"y" * 32).decode()
ARABIC_INDIC_DIGITS = "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660"  # 1700000000
FULLWIDTH_DIGITS = "\uff11\uff17\uff10\uff10"  # 1700


def b64(data):
    return base64.b64encode(data).decode()


class RawHttpMixin:
    """POSTs written byte by byte on a socket of our own (for an HttpCase):
    headers exactly as given (duplicated, non-ASCII, malformed), the body
    with a Content-Length, chunked, announced but not sent, or with neither."""

    def raw_post(self, path, headers=(), body=b"", *, framing="length", declared_length=None, chunk_size=65536):
        """Returns (status, response headers, parsed JSON answer or None).

        ``framing``: ``length`` (Content-Length, ``declared_length`` if given),
        ``chunked``, ``malformed_chunks``, ``declared`` (a Content-Length of
        ``declared_length`` and no body at all), ``none`` (the body without
        Content-Length nor Transfer-Encoding: HTTP/1.1 says there is none).
        """
        lines = [f"POST {path} HTTP/1.1".encode(), f"Host: {HOST}:{self.http_port()}".encode()]
        payload = body
        if framing == "length":
            lines.append(f"Content-Length: {len(body) if declared_length is None else declared_length}".encode())
        elif framing == "declared":
            lines.append(f"Content-Length: {declared_length}".encode())
            payload = b""
        elif framing == "chunked":
            lines.append(b"Transfer-Encoding: chunked")
            pieces = [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)]
            payload = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"
        elif framing == "malformed_chunks":
            lines.append(b"Transfer-Encoding: chunked")
            payload = b"zz\r\n" + body + b"\r\n0\r\n\r\n"
        lines += [self._bytes(name) + b": " + self._bytes(value) for name, value in headers]
        self.cr.flush()
        self.cr.clear()
        with self.allow_requests():
            lines.append(f"Cookie: test_request_key={self.http_request_key}".encode())
            request = b"\r\n".join([*lines, b"Connection: close", b"", b""]) + payload
            with socket.create_connection((HOST, self.http_port()), timeout=30) as sock:
                # The server may answer without reading all of it (a body over
                # the cap): its answer is still there to read.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(request)
                response = http.client.HTTPResponse(sock)
                response.begin()
                data = response.read()
        self.env.invalidate_all()
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        return response.status, response.headers, answer

    @staticmethod
    def _bytes(value):
        return value if isinstance(value, bytes) else value.encode()

    def signed_headers(self, body, msg_id=None, timestamp=None, secret=SECRET, content_type="application/json"):
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = [
            ("webhook-id", msg_id),
            ("webhook-timestamp", str(timestamp)),
            ("webhook-signature", sign(secret, msg_id, timestamp, body)),
        ]
        if content_type:
            headers.append(("Content-Type", content_type))
        return headers


@tagged("post_install", "-at_install")
class TestInboundHardening(RawHttpMixin, InboundCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.path = f"/order_visibility/webhook/{cls.source.code}"
        cls.company_b = cls.setup_other_company(name="OV Inbound Walls B")["company"]
        admin = "order_visibility.group_order_visibility_admin,base.group_allow_export"
        cls.admin_a = new_test_user(
            cls.env,
            "ov_inbound_walls_admin_a",
            groups=admin,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.admin_ab = new_test_user(
            cls.env,
            "ov_inbound_walls_admin_ab",
            groups=admin,
            company_id=cls.company.id,
            company_ids=[Command.set((cls.company | cls.company_b).ids)],
        )

    def assertRefused(self, result, status, error, before, order):
        got_status, _headers, answer = result
        self.assertEqual((got_status, (answer or {}).get("error")), (status, error), answer)
        self.assertTrue(answer.get("message"))
        self.assertEqual(self.footprint(order), before, "a refusal changes nothing")

    def post_signed(self, body, **kwargs):
        return self.raw_post(self.path, self.signed_headers(body), body, **kwargs)

    # -- headers ----------------------------------------------------------

    def test_malformed_headers_answer_400_never_500(self):
        order = self.shipped_order()
        body = json.dumps(self.milestone_body(order, "in_transit")).encode()
        before = self.footprint(order)
        now = str(int(time.time())).encode()
        cases = {
            # b"\xb2" is what the server reads as '²' (headers are latin-1):
            # str.isdigit() says yes, int() says no.
            "superscript two": ("webhook-timestamp", b"\xb2", "bad_timestamp"),
            "superscripts": ("webhook-timestamp", b"\xb9\xb2\xb3", "bad_timestamp"),
            "Arabic-Indic digits": ("webhook-timestamp", ARABIC_INDIC_DIGITS.encode(), "bad_timestamp"),
            "fullwidth digits": ("webhook-timestamp", FULLWIDTH_DIGITS.encode(), "bad_timestamp"),
            "negative": ("webhook-timestamp", b"-" + now, "bad_timestamp"),
            "exponent": ("webhook-timestamp", b"1.7e9", "bad_timestamp"),
            "huge": ("webhook-timestamp", b"9" * 400, "bad_timestamp"),
            "two values": ("webhook-timestamp", now + b"," + now, "bad_timestamp"),
            "id too long": ("webhook-id", b"m" * 256, "bad_message_id"),
            "id not ASCII": ("webhook-id", "msg_é".encode(), "bad_message_id"),
            "id with a control character": ("webhook-id", b"msg\x01x", "bad_message_id"),
            "signature header too long": ("webhook-signature", b"v1," + b"A" * 2000, "bad_signature_header"),
        }
        for name, (header, value, error) in cases.items():
            with self.subTest(name):
                headers = [(h, v) for h, v in self.signed_headers(body) if h != header] + [(header, value)]
                self.assertRefused(self.raw_post(self.path, headers, body), 400, error, before, order)
        with self.subTest("a non-ASCII signature is no signature"):
            headers = [(h, v) for h, v in self.signed_headers(body) if h != "webhook-signature"]
            headers.append(("webhook-signature", b"v1,\xef\xbf\xbd"))
            self.assertRefused(self.raw_post(self.path, headers, body), 401, "invalid_signature", before, order)

    def test_unknown_or_odd_source_codes_answer_404(self):
        order = self.shipped_order()
        body = json.dumps(self.milestone_body(order, "in_transit")).encode()
        before = self.footprint(order)
        for code in ("nobody", "%00", "north%FFwind", "NORTHWIND", "%C3%A9", "x" * 300, "north.wind"):
            with self.subTest(code):
                result = self.raw_post(f"/order_visibility/webhook/{code}", self.signed_headers(body), body)
                self.assertRefused(result, 404, "unknown_source", before, order)

    # -- sizes and framing ------------------------------------------------

    def test_the_body_is_capped_whatever_its_framing(self):
        order = self.shipped_order()
        before = self.footprint(order)
        too_big = b'{"note": "' + b"x" * MAX_BODY_BYTES + b'"}'
        with self.subTest("announced too large: refused before reading"):
            result = self.raw_post(self.path, self.signed_headers(b""), framing="declared", declared_length=10**8)
            self.assertRefused(result, 413, "body_too_large", before, order)
        with self.subTest("chunked, no Content-Length: read up to the cap, then refused"):
            result = self.post_signed(too_big, framing="chunked")
            self.assertRefused(result, 413, "body_too_large", before, order)
        with self.subTest("malformed chunks"):
            result = self.post_signed(b"{}", framing="malformed_chunks")
            self.assertRefused(result, 400, "malformed_body", before, order)
        body = json.dumps(self.milestone_body(order, "in_transit")).encode()
        with self.subTest("form bodies are parsed by Odoo before the route: refused"):
            for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
                result = self.raw_post(self.path, self.signed_headers(body, content_type=content_type), body)
                self.assertRefused(result, 415, "unsupported_media_type", before, order)
        with self.subTest("a chunked body within the cap is received"):
            status, _headers, answer = self.post_signed(body, framing="chunked", chunk_size=7)
            self.assertEqual((status, answer["status"]), (200, "accepted"))

    # -- bodies -----------------------------------------------------------

    def test_bodies_that_are_not_a_milestone_answer_4xx_and_change_nothing(self):
        order = self.shipped_order()
        good = self.milestone_body(order, "delayed", eta="2026-11-30T12:00:00Z", note="Hub congestion")
        text = json.dumps(good)

        def with_data(**changes):
            body = json.loads(text)
            body["data"].update(changes)
            return json.dumps(body).encode()

        def by_id(order_id):
            body = json.loads(text)
            del body["data"]["order"]
            body["data"]["order_id"] = order_id
            return json.dumps(body).encode()

        cases = {
            "not UTF-8": (text.encode().replace(b"Hub", b"H\xfcb"), 400, "malformed_json"),
            "UTF-16": (text.encode("utf-16"), 400, "malformed_json"),
            "byte order mark": (text.encode("utf-8-sig"), 400, "malformed_json"),
            "truncated": (text.encode()[:-3], 400, "malformed_json"),
            "a key twice": (text.replace('"type"', '"type": "milestone", "type"', 1).encode(), 400, "malformed_json"),
            "NaN": (text.replace('"data"', '"x": NaN, "data"', 1).encode(), 400, "malformed_json"),
            "nested too deeply": (b"[" * 100_000 + b"]" * 100_000, 400, "malformed_json"),
            "a number of 5000 digits": (b"1" * 5000, 400, "malformed_json"),
            "empty": (b"", 400, "malformed_json"),
            "an array": (b"[]", 422, "invalid_payload"),
            "null": (b"null", 422, "invalid_payload"),
            "a string": (b'"milestone"', 422, "invalid_payload"),
            "data is a list": (json.dumps({**good, "data": []}).encode(), 422, "invalid_payload"),
            "order id beyond 64 bits": (by_id(2**70), 422, "invalid_payload"),
            "order id beyond PostgreSQL": (by_id(2**31), 422, "invalid_payload"),
            "order id infinite": (by_id(1).replace(b'"order_id": 1', b'"order_id": 1e999'), 422, "invalid_payload"),
            "order id as text": (by_id("1"), 422, "invalid_payload"),
            "NUL in the note": (with_data(note="dock\u0000closed"), 422, "invalid_payload"),
            "NUL in the order": (with_data(order=order.name + "\u0000"), 422, "invalid_payload"),
            "lone surrogate": (with_data(note="dock \ud800 closed"), 422, "invalid_payload"),
            "year 1, an hour east": (with_data(occurred_at="0001-01-01T00:30:00+01:00"), 422, "invalid_payload"),
            "year 9999, an hour west": (with_data(eta="9999-12-31T23:30:00-01:00"), 422, "invalid_payload"),
            "year 1999": (with_data(eta="1999-12-31T12:00:00Z"), 422, "invalid_payload"),
            "note of the wrong type": (with_data(note={"a": [1, 2]}), 422, "invalid_payload"),
            "milestone of the wrong type": (with_data(milestone=["delayed"]), 422, "invalid_payload"),
            "an unknown key of 10000 characters": (with_data(**{"k" * 10_000: 1}), 422, "invalid_payload"),
        }
        before = self.footprint(order)
        for name, (body, status, error) in cases.items():
            with self.subTest(name):
                self.assertRefused(self.post_signed(body), status, error, before, order)
        _status, _headers, answer = self.post_signed(with_data(**{"k" * 10_000: 1}))
        self.assertLess(len(answer["message"]), 200, "what the sender chose is quoted shortened")

    # -- rate limit -------------------------------------------------------

    def test_a_source_over_its_rate_limit_gets_429_with_retry_after(self):
        self.source.rate_limit = 3
        other = self.env["order.visibility.webhook.source"].create(
            {"name": "Other Carrier", "code": "other-carrier", "secret": SECRET, "company_id": self.company.id}
        )
        order = self.shipped_order()
        for _request in range(3):
            body = json.dumps(self.milestone_body(order, "in_transit")).encode()
            self.assertEqual(self.post_signed(body)[0], 200)
        before = self.footprint(order)
        body = json.dumps(self.milestone_body(order, "in_transit")).encode()
        status, headers, answer = self.post_signed(body)
        self.assertEqual((status, answer["error"]), (429, "rate_limited"))
        self.assertTrue(1 <= int(headers["Retry-After"]) <= 60, headers["Retry-After"])
        self.assertEqual(self.footprint(order), before, "a refusal changes nothing")
        with self.subTest("over its limit, a forged request is still refused for its signature"):
            forged = self.raw_post(self.path, self.signed_headers(body, secret=OTHER_SECRET), body)
            self.assertEqual(forged[0], 401)
        with self.subTest("another source has its own budget"):
            result = self.raw_post(f"/order_visibility/webhook/{other.code}", self.signed_headers(body), body)
            self.assertEqual(result[0], 200)

    def test_the_rate_limit_is_bounded(self):
        for value in (0, -5, 10_001):
            with self.subTest(value), self.assertRaises(ValidationError):
                self.source.rate_limit = value
                self.env.flush_all()

    # -- companies and the secret -----------------------------------------

    def test_companies_are_walls_for_sources_administrators_included(self):
        company_b = self.company_b
        source_b = self.env["order.visibility.webhook.source"].create(
            {"name": "B Carrier", "code": "b-walls", "company_id": company_b.id}
        )
        source_a = self.source.with_user(self.admin_a)
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            source_a.write({"company_id": company_b.id})
        both = (self.company | company_b).ids
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            self.source.with_user(self.admin_ab).with_context(allowed_company_ids=both).write(
                {"company_id": company_b.id}
            )
        source_a.write({"company_id": self.company.id, "name": "Northwind (same company)"})
        self.assertEqual(self.source.company_id, self.company)

        as_a = source_b.with_user(self.admin_a)
        for name, call in {
            "read": lambda: as_a.read(["name"]),
            "read the secret": lambda: as_a.read(["secret"]),
            "write": lambda: as_a.write({"name": "Mine now"}),
            "set its secret": lambda: as_a.write({"secret": SECRET}),
            "show its secret": as_a.action_show_secret,
            "generate a secret": as_a.action_generate_secret,
            "view its milestones": as_a.action_view_milestones,
            "unlink": as_a.unlink,
        }.items():
            with self.subTest(name), self.assertRaises(AccessError):
                call()
        with self.assertRaises(AccessError):
            self.env["order.visibility.webhook.source"].with_user(self.admin_a).create(
                {"name": "Into B", "code": "into-b", "secret": SECRET, "company_id": company_b.id}
            )
        Source = self.env["order.visibility.webhook.source"].with_user(self.admin_a)
        self.assertEqual(Source.search([]), self.source, "only its company's sources")

    def test_a_shown_secret_is_never_readable_again(self):
        Source = self.env["order.visibility.webhook.source"].with_user(self.admin_a)
        source = Source.create({"name": "New 3PL", "code": "new-3pl"})
        generated = source.action_show_secret()["context"]["default_secret"]
        self.assertTrue(generated.startswith("whsec_"), "shown once")
        self.env.invalidate_all()

        self.assertFalse(source.read(["new_secret"])[0]["new_secret"])
        self.assertFalse(Source.search_read([("id", "=", source.id)], ["new_secret"])[0]["new_secret"])
        everything = json.dumps([source.read(), Source.search_read([])], default=str)
        self.assertNotIn(generated[6:], everything, "no field of the source returns it")
        self.assertEqual(source.export_data(["new_secret"])["datas"], [[""]])
        self.assertNotIn("secret", Source.fields_get())
        for name, call in {
            "read the value": lambda: source.read(["secret"]),
            "search by it": lambda: Source.search([("secret", "=like", "whsec_%")]),
            "export it": lambda: source.export_data(["secret"]),
            "group by it": lambda: Source.formatted_read_group([], ["secret"], ["__count"]),
            "show it again": lambda: source.write({"secret_shown": False}),
        }.items():
            with self.subTest(name), self.assertRaises(AccessError):
                call()
        with self.assertRaises(UserError):
            source.action_show_secret()
        self.assertEqual(source.secret_hint, f"whsec_…{generated[-4:]}")
        with self.subTest("it still signs"):
            order = self.shipped_order()
            body = json.dumps(self.milestone_body(order, "in_transit")).encode()
            result = self.raw_post(source.url_path, self.signed_headers(body, secret=generated), body)
            self.assertEqual(result[0], 200)
        copied = source.copy({"code": "new-3pl-copy"})
        self.assertNotEqual(copied.sudo().secret, generated, "a copy gets a secret of its own")
        self.assertFalse(copied.secret_shown, "shown once too")

    # -- what lands in HTML -----------------------------------------------

    def test_carrier_text_lands_in_html_only_as_escaped_text(self):
        order = self.shipped_order(promised_in_days=1)
        xss = {
            "note": "<script>alert(1)</script>\nsecond line",
            "carrier": "<img src=x onerror=alert(1)>",
            "tracking_ref": '"><svg onload=alert(1)>',
        }
        body = json.dumps(self.milestone_body(order, "failed_delivery", **xss)).encode()
        self.assertEqual(self.post_signed(body)[0], 200)
        signed_by = "<b onmouseover=alert(1)>J. Peeters</b>"
        proof = {"signed_by": signed_by, "filename": "<img src=x onerror=alert(1)>.png", "mimetype": "image/png"}
        body = json.dumps(self.milestone_body(order, "delivered", proof={**proof, "content": b64(PNG)})).encode()
        self.assertEqual(self.post_signed(body)[0], 200)

        notes = order.message_ids.filtered(lambda m: "Carrier milestone" in (m.body or "")).sorted("id")
        self.assertEqual(len(notes), 2)
        failed, delivered = notes
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;<br>second line", failed.body)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", failed.body)
        self.assertIn('"&gt;&lt;svg onload=alert(1)&gt;', failed.body)
        self.assertIn("&lt;b onmouseover=alert(1)&gt;J. Peeters&lt;/b&gt;", delivered.body)
        exception = self.delivery_exceptions(order)
        self.assertIn("&lt;script&gt;", exception.message_ids.sorted("id")[0].body, "Opened: ..., escaped")
        for stored in [*notes.mapped("body"), *exception.message_ids.mapped("body")]:
            for tag in ("<script", "<img", "<svg", "<b "):
                self.assertNotIn(tag, stored)
        milestone = self.milestones(order).filtered(lambda m: m.milestone == "delivered")
        self.assertEqual(milestone.signed_by, signed_by, "plain text fields keep the text as it came")

    # -- proof of delivery ------------------------------------------------

    def test_the_type_of_a_proof_comes_from_its_bytes(self):
        order = self.shipped_order()

        def delivered(content, mimetype, filename="pod.png"):
            proof = {"filename": filename, "mimetype": mimetype, "content": b64(content)}
            return json.dumps(self.milestone_body(order, "delivered", proof=proof)).encode()

        before = self.footprint(order)
        for name, content, declared in (
            ("SVG said to be a PNG", SVG, "image/png"),
            ("HTML said to be a PDF", HTML, "application/pdf"),
            ("random bytes said to be a JPEG", bytes(range(256)) * 4, "image/jpeg"),
            ("a GIF said to be a PNG", b"GIF89a" + b"\0" * 64, "image/png"),
        ):
            with self.subTest(name):
                result = self.post_signed(delivered(content, declared))
                self.assertRefused(result, 422, "invalid_payload", before, order)

        status, _headers, answer = self.post_signed(delivered(PDF, "image/png", filename="../../etc/pod.png"))
        self.assertEqual(status, 200, answer)
        attachment = self.milestones(order).attachment_id
        self.assertEqual(attachment.mimetype, "application/pdf", "the bytes say PDF, not the sender")
        self.assertEqual(attachment.name, "pod.png.pdf", "no path, and an extension that says what it is")
        self.assertEqual(base64.b64decode(attachment.datas), PDF)
