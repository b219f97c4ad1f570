# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound safety: which addresses are public, the address checked is the one
connected to, TLS verified against the host name, one deadline per attempt.

Every server here listens on 127.0.0.1 (the tests set the system parameter that
allows private targets, as local demos do)."""

import datetime
import http.client
import socket
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest.mock import patch

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import BaseCase, tagged

from ..tools import outbound_http
from .common import WebhookCommon


class TricklingReceiver:
    """Answers 200 with its status line and headers at once, then its 100-byte
    body one byte per second (``headers_too``: the status line and headers as
    well). A socket timeout alone never trips on it: a byte is always near."""

    def __init__(self, headers_too=False):
        self.stop = threading.Event()
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests += 1
                self.close_connection = True
                head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"
                try:
                    if headers_too:
                        self.trickle(head)
                    else:
                        self.wfile.write(head)
                        self.wfile.flush()
                    self.trickle(b"x" * 100)
                except OSError:
                    return  # the client gave up: what the test expects

            def trickle(self, data):
                for byte in data:
                    if receiver.stop.wait(1):  # the receiver's pace, and a prompt stop at clean-up
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks"

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def _certificate(ca_key, ca_name, subject_name, public_key, *, san=None, ca=False):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


class TlsReceiver:
    """An HTTPS receiver on 127.0.0.1 whose certificate names ``hooks.test``,
    issued by a test authority; it records the SNI names it is asked for and
    the client ports (one per connection)."""

    HOST = "hooks.test"

    def __init__(self):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _certificate(ca_key, "OV Test CA", "OV Test CA", ca_key.public_key(), ca=True)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(ca_key, "OV Test CA", self.HOST, key.public_key(), san=self.HOST)
        self.ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM).decode()
        self.sni, self.clients = [], []
        receiver = self

        with tempfile.TemporaryDirectory() as folder:
            cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
            cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            key_file.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
        context.sni_callback = lambda _sock, name, _context: receiver.sni.append(name)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.clients.append((self.client_address[1], self.headers.get("Host")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, address = super().get_request()
                return context.wrap_socket(sock, server_side=True), address

            def handle_error(self, request, client_address):
                pass  # a client that refused our certificate

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def target(self, host):
        port = self.server.server_address[1]
        return outbound_http.Target("https", host, port, "/hooks", ((socket.AF_INET, ("127.0.0.1", port)),))

    def client_context(self):
        return outbound_http.tls_context(ssl.create_default_context(cadata=self.ca_pem))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@tagged("post_install", "-at_install")
class TestPublicAddresses(BaseCase):
    def test_addresses_that_are_not_globally_routable_are_refused(self):
        for address in (
            "100.64.0.1",  # shared address space (carrier-grade NAT)
            "100.127.255.254",
            "::ffff:127.0.0.1",  # IPv4-mapped loopback
            "::ffff:10.0.0.1",
            "2002:7f00:1::",  # 6to4 of 127.0.0.1
            "2002:a00:1::1",  # 6to4 of 10.0.0.1
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
            "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
            "169.254.169.254",  # link-local (cloud metadata)
            "fe80::1",
            "fe80::1%eth0",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.10",
            "fc00::1",  # unique local
            "fd12:3456:789a::1",
            "127.0.0.1",
            "::1",
            "0.0.0.0",
            "::",
            "224.0.0.251",  # multicast
            "ff02::1",
            "240.0.0.1",  # reserved
            "255.255.255.255",
            "192.0.2.10",  # documentation
            "2001:db8::1",
        ):
            with self.subTest(address=address):
                self.assertFalse(outbound_http.is_public_address(address))

    def test_public_addresses_are_accepted(self):
        for address in (
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",  # IPv4-mapped: what counts is the IPv4 address
            "2002:808:808::1",  # 6to4 of 8.8.8.8
            "64:ff9b::808:808",  # NAT64 of 8.8.8.8
        ):
            with self.subTest(address=address):
                self.assertTrue(outbound_http.is_public_address(address))


@tagged("post_install", "-at_install")
class TestConnection(BaseCase):
    """The HTTP client itself, against real servers on 127.0.0.1."""

    def test_tls_is_verified_against_the_host_name_at_the_checked_address(self):
        receiver = TlsReceiver()
        self.addCleanup(receiver.close)
        connection = outbound_http.Connection(receiver.target("hooks.test"), receiver.client_context())
        self.addCleanup(connection.close)
        for _i in range(3):
            status, answer = connection.post(b"{}", {"Content-Type": "application/json"}, 5, 4096)
            self.assertEqual((status, answer), (200, b"ok"))
        self.assertEqual(receiver.sni, ["hooks.test"], "SNI names the host, one TLS handshake for three posts")
        port = receiver.server.server_address[1]
        self.assertEqual({host for _client, host in receiver.clients}, {f"hooks.test:{port}"})
        self.assertEqual(len({client for client, _host in receiver.clients}), 1, "one kept-alive connection")

        # The same address under a name the certificate does not carry: refused.
        other = outbound_http.Connection(receiver.target("elsewhere.test"), receiver.client_context())
        self.addCleanup(other.close)
        with self.assertRaises(ssl.SSLCertVerificationError):
            other.post(b"{}", {}, 5, 4096)
        # And a certificate from an authority nobody trusts: refused as well.
        untrusting = outbound_http.Connection(
            receiver.target("hooks.test"), outbound_http.tls_context(ssl.create_default_context())
        )
        self.addCleanup(untrusting.close)
        with self.assertRaises(ssl.SSLCertVerificationError):
            untrusting.post(b"{}", {}, 5, 4096)

    def test_one_deadline_for_the_whole_answer(self):
        for headers_too in (False, True):
            with self.subTest(headers_too=headers_too):
                receiver = TricklingReceiver(headers_too=headers_too)
                self.addCleanup(receiver.close)
                target = outbound_http.Target(
                    "http", "127.0.0.1", receiver.port, "/", ((socket.AF_INET, ("127.0.0.1", receiver.port)),)
                )
                connection = outbound_http.Connection(target)
                self.addCleanup(connection.close)
                with self.assertRaises(TimeoutError):
                    connection.post(b"{}", {}, 1, 4096)
                self.assertTrue(connection.timed_out)

    def test_connects_to_the_checked_addresses_only(self):
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # The name would resolve to anything: it is never resolved here.
        target = outbound_http.Target("http", "hooks.example.com", port, "/", ((socket.AF_INET, ("127.0.0.1", port)),))
        connection = outbound_http.Connection(target)
        self.addCleanup(connection.close)
        with (
            patch("socket.getaddrinfo", side_effect=AssertionError("resolved again")),
            self.assertRaises(ConnectionRefusedError),
        ):
            connection.post(b"{}", {}, 5, 4096)
        self.assertFalse(connection.timed_out)


@tagged("post_install", "-at_install")
class TestDispatcherSafety(WebhookCommon):
    def test_shared_and_ipv6_wrapped_private_urls_are_refused(self):
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "False")
        Endpoint = self.env["order.visibility.webhook.endpoint"]
        for url in (
            "https://100.64.0.1/hooks",
            "https://[::ffff:127.0.0.1]/hooks",
            "https://[2002:7f00:1::]/hooks",
            "https://[fc00::1]/hooks",
            "https://169.254.10.20/hooks",
            "https://10.20.30.40/hooks",
        ):
            with self.subTest(url=url), self.assertRaises(UserError) as caught:
                Endpoint._check_target_url(url)
            self.assertIn("private, loopback or link-local", str(caught.exception))

    def test_the_address_checked_is_the_address_connected_to(self):
        """A name answering 127.0.0.1 once, then anything else (DNS rebinding):
        each batch resolves it once and connects where it checked."""
        port = self.receiver.server.server_address[1]
        real = socket.getaddrinfo
        answers, answered = [], {"until": None}

        def rebinding_resolver(host, *args, **kwargs):
            if host != "hooks.rebind.test":
                return real(host, *args, **kwargs)
            answers.append(host)
            if answered["until"] is not None and len(answers) > answered["until"]:
                raise socket.gaierror(socket.EAI_NONAME, "rebound elsewhere")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

        with patch("socket.getaddrinfo", rebinding_resolver):
            endpoint = self.create_endpoint(url=f"http://hooks.rebind.test:{port}/hooks")  # checked at save
            for _i in range(3):
                endpoint.action_send_test_event()
            answered["until"] = len(answers) + 1  # one more answer, then the name points elsewhere
            self.assertEqual(self.dispatch(), 3)
        self.assertEqual(len(answers), answered["until"], "resolved once for the batch")
        deliveries = self.deliveries(endpoint_id=endpoint.id)
        self.assertEqual(set(deliveries.mapped("state")), {"delivered"})
        received = self.receiver.received
        self.assertEqual(len(received), 3)
        self.assertEqual({r["headers"]["host"] for r in received}, {f"hooks.rebind.test:{port}"})
        self.assertEqual(len({r["connection"] for r in received}), 1, "one kept-alive connection")

    def test_a_trickling_receiver_is_cut_at_the_timeout_and_skipped_for_the_run(self):
        trickler = TricklingReceiver()
        self.addCleanup(trickler.close)
        endpoint = self.create_endpoint(url=trickler.url, timeout=2)
        other = self.create_endpoint(name="Healthy")  # another receiver, same batches
        for _i in range(3):
            endpoint.action_send_test_event()
        other.action_send_test_event()
        first, *rest = self.deliveries(endpoint_id=endpoint.id)

        sessions = {}
        self.addCleanup(lambda: [session.close() for session in sessions.values()])
        self.assertEqual(self.dispatch_run_batch(sessions), 4)
        self.assertEqual(first.state, "failed")
        self.assertEqual(first.last_error, "No answer within 2 s.")
        [attempt] = first.attempt_ids
        self.assertLess(attempt.latency_ms, 2000 + 1500, "cut at the deadline, not after 100 one-second bytes")
        self.assertEqual(trickler.requests, 1, "the receiver's other deliveries were not sent")
        for delivery in rest:
            self.assertEqual(delivery.state, "pending")
            self.assertEqual(delivery.attempt_count, 0)
            self.assertFalse(delivery.attempt_ids)
            self.assertFalse(delivery.claimed_at)
        self.assertEqual(self.deliveries(endpoint_id=other.id).state, "delivered", "other receivers are served")
        self.assertEqual(endpoint.consecutive_failures, 1)

        # The rest of the run leaves that endpoint alone: its deliveries are due, not claimed.
        self.assertEqual(self.dispatch_run_batch(sessions), 0)
        self.assertEqual(trickler.requests, 1)
        # The next run sends them.
        endpoint.url = self.receiver.url
        self.assertEqual(self.dispatch(), 2)
        self.assertEqual([d.state for d in rest], ["delivered", "delivered"])

    def dispatch_run_batch(self, sessions):
        """One batch of a dispatcher run that keeps ``sessions`` across its batches."""
        self.flush()
        with self.enter_registry_test_mode(), self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            done = env["order.visibility.webhook.delivery"]._dispatch_batch(sessions=sessions)
        self.env.invalidate_all()
        return done

    def test_answers_are_capped_and_redirects_not_followed(self):
        """The cap closes the connection rather than reading the rest; the next
        delivery opens a fresh one."""
        self.create_endpoint()
        self.receiver.mode = "big"
        self.confirmed_order()
        self.confirmed_order()
        self.assertEqual(self.dispatch(), 2)
        deliveries = self.deliveries()
        self.assertEqual(set(deliveries.mapped("state")), {"delivered"})
        for delivery in deliveries:
            self.assertEqual(len(delivery.attempt_ids.response), 4096)
        self.assertEqual(len({r["connection"] for r in self.receiver.received}), 2, "a new connection after a cap")

    def test_http_client_errors_are_recorded_not_raised(self):
        class Garbage(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
                self.close_connection = True

        server = ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        endpoint = self.create_endpoint(url=f"http://127.0.0.1:{server.server_address[1]}/hooks")
        endpoint.action_send_test_event()
        self.dispatch()
        delivery = self.deliveries(endpoint_id=endpoint.id)
        self.assertEqual(delivery.state, "failed")
        self.assertEqual(delivery.last_error, f"Connection failed: {http.client.BadStatusLine.__name__}")
