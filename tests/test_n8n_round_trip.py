# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The n8n round trip, for real: a real n8n on 127.0.0.1 runs the workflow
of ``docs/webhooks/n8n/order_visibility_workflow.json``, verifies the
signature of Order Visibility's events, answers the HTTP request with 200 or
401 according to the verification, then answers a shipped order with a signed
``in_transit`` milestone posted to Odoo's inbound route.

n8n 2.8.4 is installed from the npm registry on first use (about three
minutes) into ``~/.cache/order-visibility/n8n-2.8.4`` (``OV_N8N_DIR``
overrides it), outside the clone so that every clone shares it. It needs
Node.js 20 or later and npm.
"""

import json
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import requests
from standardwebhooks.webhooks import Webhook

from odoo.addons.order_visibility_webhooks.tests.common import LocalReceiverMixin
from odoo.addons.order_visibility_webhooks.tests.common_inbound import InboundCommon
from odoo.addons.order_visibility_webhooks.tools.signing import generate_secret
from odoo.fields import Command
from odoo.tests import release_test_lock, tagged
from odoo.tools import config

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / "docs" / "webhooks" / "n8n" / "order_visibility_workflow.json"
N8N_VERSION = "2.8.4"
N8N_DIR = Path(os.environ.get("OV_N8N_DIR") or Path.home() / ".cache" / "order-visibility" / f"n8n-{N8N_VERSION}")
WEBHOOK_PATH = "order-visibility"
START_TIMEOUT = 180  # seconds for n8n to activate the workflow
ROUND_TRIP_TIMEOUT = 60  # seconds for the milestone to come back


def node_major_version():
    node = shutil.which("node")
    if not node:
        return None
    output = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout
    try:
        return int(output.strip().lstrip("v").split(".")[0])
    except ValueError:
        return None


def ensure_n8n():
    """The n8n executable of the shared cache folder, installed on first use."""
    executable = N8N_DIR / "node_modules" / ".bin" / "n8n"
    if executable.exists():
        return executable
    N8N_DIR.mkdir(parents=True, exist_ok=True)
    # n8n pins xlsx to a URL outside the registry: take the registry's 0.18.5.
    (N8N_DIR / "package.json").write_text(
        json.dumps(
            {
                "name": "order-visibility-n8n",
                "private": True,
                "dependencies": {"n8n": N8N_VERSION},
                "overrides": {"xlsx": "npm:xlsx@0.18.5"},
            }
        )
    )
    with (N8N_DIR / "npm-install.log").open("w") as log:
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund"],
            cwd=N8N_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=1800,
        )
    return executable


def lift_address_space_limit():
    """Odoo caps its own address space (limit_memory_hard, a soft RLIMIT_AS)
    and children inherit it; Node reserves gigabytes of address space for
    WebAssembly, which n8n's task runner uses: give n8n the hard limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("post_install", "-at_install")
class TestN8nRoundTrip(LocalReceiverMixin, InboundCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        major = node_major_version()
        if major is None or major < 20:
            raise RuntimeError(
                "The n8n round trip needs Node.js 20 or later and npm (found: "
                f"{'none' if major is None else f'Node {major}'}): install them, e.g. `apt-get install nodejs npm` "
                "on Debian 13 or from https://nodejs.org/en/download, then run the tests again."
            )
        cls.n8n = ensure_n8n()
        cls.endpoint_secret = generate_secret()
        cls.n8n_source = cls.env["order.visibility.webhook.source"].create(
            {"name": "n8n", "code": "n8n", "company_id": cls.company.id}
        )
        # As an administrator copies it into n8n: the generated secret, shown once.
        cls.source_secret = cls.n8n_source.action_show_secret()["context"]["default_secret"]
        cls.state_dir = Path(tempfile.mkdtemp(prefix="ov-n8n-"))
        cls.addClassCleanup(shutil.rmtree, cls.state_dir, ignore_errors=True)
        cls.port = free_port()
        cls.n8n_env = {
            **os.environ,
            "N8N_USER_FOLDER": str(cls.state_dir),
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_PORT": str(cls.port),
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_SECURE_COOKIE": "false",
            "N8N_RUNNERS_ENABLED": "true",
            # The workflow's Code nodes read their configuration with $env
            # (blocked by default in n8n 2.x) and sign with crypto.
            "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false",
            "NODE_FUNCTION_ALLOW_BUILTIN": "crypto",
            "OV_N8N_WEBHOOK_SECRET": cls.endpoint_secret,
            "OV_ODOO_URL": f"http://127.0.0.1:{config['http_port']}",
            "OV_ODOO_DB": cls.env.cr.dbname,
            "OV_N8N_SOURCE_CODE": cls.n8n_source.code,
            "OV_N8N_SOURCE_SECRET": cls.source_secret,
        }
        cls.n8n_log_path = cls.state_dir / "n8n.log"
        for command in (
            ["import:workflow", f"--input={WORKFLOW}"],
            ["publish:workflow", f"--id={json.loads(WORKFLOW.read_text())['id']}"],
        ):
            result = subprocess.run(
                [str(cls.n8n), *command],
                env=cls.n8n_env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                preexec_fn=lift_address_space_limit,
            )
            if result.returncode:
                raise RuntimeError(f"n8n {command[0]} failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")
        cls.n8n_log = cls.n8n_log_path.open("w")
        cls.n8n_process = subprocess.Popen(
            [str(cls.n8n), "start"],
            env=cls.n8n_env,
            stdout=cls.n8n_log,
            stderr=subprocess.STDOUT,
            preexec_fn=lift_address_space_limit,  # noqa: PLW1509 (only setrlimit, before exec)
        )
        cls.addClassCleanup(cls.stop_n8n)
        cls.webhook_url = f"http://127.0.0.1:{cls.port}/webhook/{WEBHOOK_PATH}"
        cls.wait_until_webhook_is_active()

    @classmethod
    def stop_n8n(cls):
        cls.n8n_process.terminate()
        try:
            cls.n8n_process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cls.n8n_process.kill()
            cls.n8n_process.wait()
        cls.n8n_log.close()

    @classmethod
    def n8n_output(cls):
        return cls.n8n_log_path.read_text(errors="replace")[-3000:]

    @classmethod
    def wait_until_webhook_is_active(cls):
        """Wait (bounded) until n8n has migrated its database, then until the
        workflow is active. Until migrated, n8n answers every path with 200
        "n8n is starting up. Please wait" (503 on /healthz/readiness); after
        that, the webhook path answers 404 until the published workflow is
        activated, then the workflow refuses the unsigned probe with 401."""
        base_url = f"http://127.0.0.1:{cls.port}"
        deadline = time.monotonic() + START_TIMEOUT
        for method, url, ready, waiting in (
            ("GET", f"{base_url}/healthz/readiness", 200, (None, 503)),
            ("POST", cls.webhook_url, 401, (None, 404)),
        ):
            while True:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"n8n was not ready within {START_TIMEOUT} s ({url}): {cls.n8n_output()}")
                try:
                    answer = requests.request(method, url, data=b"{}", timeout=5)
                    status, body = answer.status_code, answer.text[:300]
                except requests.ConnectionError:
                    status, body = None, ""
                if status == ready:
                    break
                if status not in waiting:
                    raise RuntimeError(f"n8n answered {url} with {status} {body!r}: {cls.n8n_output()}")
                try:
                    cls.n8n_process.wait(timeout=1)  # the pause between polls; returns at once if n8n died
                except subprocess.TimeoutExpired:
                    continue
                raise RuntimeError(f"n8n stopped: {cls.n8n_output()}")

    def wait_for_milestone(self, order):
        """Let Odoo's HTTP server serve n8n's call back, until the milestone
        is on the order (bounded). The test's cursor is shared with the
        server: the test releases it only while it waits."""
        deadline = time.monotonic() + ROUND_TRIP_TIMEOUT
        while True:
            self.env.invalidate_all()
            milestones = self.milestones(order)
            if milestones or time.monotonic() > deadline:
                return milestones
            with release_test_lock():
                try:
                    self.n8n_process.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    continue
            self.fail(f"n8n stopped: {self.n8n_output()}")

    def post_event(self, event, secret, signed_at=None, tamper=None):
        """POST the event straight to n8n's webhook, signed with ``secret`` at
        ``signed_at`` (now); ``tamper`` changes the body after signing.
        Returns (webhook-id, response)."""
        body = json.dumps(event)
        msg_id = f"msg_{uuid.uuid4().hex}"
        signed_at = signed_at or datetime.now(UTC)
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(signed_at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, signed_at, body),
            "Content-Type": "application/json",
        }
        if tamper:
            body = tamper(body)
        response = requests.post(self.webhook_url, data=body.encode(), headers=headers, timeout=10)
        return msg_id, response

    def assertRefused(self, response, reason):
        self.assertEqual(response.status_code, 401, f"{response.text} {self.n8n_output()}")
        self.assertEqual(response.json(), {"status": "refused", "reason": reason})

    def assertAccepted(self, response, msg_id):
        self.assertEqual(response.status_code, 200, f"{response.text} {self.n8n_output()}")
        self.assertEqual(response.json(), {"status": "accepted", "webhook_id": msg_id})

    def shipped_event(self, order):
        return {
            "type": "order.status_changed",
            "timestamp": datetime.now(UTC).isoformat(),
            "data": {
                "order": {"id": order.id, "name": order.name},
                "old_stage": "ready_to_ship",
                "new_stage": "shipped",
            },
        }

    def allow_n8n_requests(self):
        """n8n's calls carry no test cookie: let them in. Unlike
        ``allow_requests``, the test keeps its cursor; it lends it to the
        server only while it waits (``wait_for_milestone``)."""
        return patch.object(self, "http_request_allow_all", True)

    def test_n8n_verifies_the_event_and_answers_with_a_signed_milestone(self):
        """The inbound leg: an event signed with another secret is refused
        with 401 and never answered; one signed with the endpoint's secret is
        accepted with 200 and comes back from n8n as an in_transit milestone
        on the order's timeline."""
        order = self.shipped_order()
        self.flush()
        with self.allow_n8n_requests():
            forged_id, response = self.post_event(self.shipped_event(order), generate_secret())
            self.assertRefused(response, "bad signature")
            msg_id, response = self.post_event(self.shipped_event(order), self.endpoint_secret)
            self.assertAccepted(response, msg_id)
            milestone = self.wait_for_milestone(order)
        self.assertEqual(len(milestone), 1, self.n8n_output())
        self.assertEqual(milestone.milestone, "in_transit")
        self.assertEqual(milestone.source_id, self.n8n_source)
        self.assertEqual(milestone.webhook_id, f"n8n_{msg_id}", f"not the forged event {forged_id}")
        self.assertIn(milestone, self.visibility(order).milestone_ids, "on the order's timeline")

    def test_n8n_refuses_tampered_stale_and_unsigned_events_with_401(self):
        """A body changed after signing, a signature older than the 5-minute
        window and an unsigned request are refused with 401 and a short
        reason; none of them comes back as a milestone: the only milestone
        is the answer to the valid event sent after them."""
        order = self.shipped_order()
        self.flush()
        event = self.shipped_event(order)
        with self.allow_n8n_requests():
            _id, response = self.post_event(
                event, self.endpoint_secret, tamper=lambda body: body.replace('"shipped"', '"delivered"')
            )
            self.assertRefused(response, "bad signature")
            _id, response = self.post_event(
                event, self.endpoint_secret, signed_at=datetime.now(UTC) - timedelta(minutes=10)
            )
            self.assertRefused(response, "timestamp outside the tolerance")
            response = requests.post(self.webhook_url, json=event, timeout=10)
            self.assertRefused(response, "missing signature headers")
            msg_id, response = self.post_event(event, self.endpoint_secret)
            self.assertAccepted(response, msg_id)
            milestone = self.wait_for_milestone(order)
        self.assertEqual(len(milestone), 1, self.n8n_output())
        self.assertEqual(milestone.webhook_id, f"n8n_{msg_id}", "only the valid event is answered")

    def test_round_trip_a_shipped_order_comes_back_in_transit(self):
        """The whole trip: an order shipped for real emits order.status_changed,
        the dispatcher signs and posts it to n8n, n8n verifies it, answers 200
        (before calling Odoo: the dispatcher does not wait for that call) and
        posts a signed in_transit milestone back, which lands on the order's timeline."""
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "True")
        endpoint = self.env["order.visibility.webhook.endpoint"].create(
            {
                "name": "n8n",
                "url": self.webhook_url,
                "company_id": self.company.id,
                "secret": self.endpoint_secret,
                "event_types": [Command.set(self.env.ref("order_visibility_webhooks.event_type_status_changed").ids)],
            }
        )
        order = self.shipped_order()
        delivery = self.env["order.visibility.webhook.delivery"].search(
            [("endpoint_id", "=", endpoint.id), ("event_type", "=", "order.status_changed")], order="id desc", limit=1
        )
        self.assertEqual(json.loads(delivery.payload)["data"]["new_stage"], "shipped")
        with self.allow_n8n_requests():
            self.run_cron("order_visibility_webhooks.ir_cron_dispatch")
            self.assertEqual(delivery.state, "delivered", delivery.last_error)
            self.assertEqual(delivery.last_status_code, 200, "n8n verified the event and said so")
            milestone = self.wait_for_milestone(order)
        self.assertEqual(len(milestone), 1, self.n8n_output())
        self.assertEqual(milestone.milestone, "in_transit")
        self.assertEqual(milestone.webhook_id, f"n8n_{delivery.event_id}", "n8n answered that very event")
        self.assertIn(milestone, self.visibility(order).milestone_ids, "on the order's timeline")
        self.assertIn("Carrier milestone: In transit", order.message_ids[0].body)
