# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Several Odoo nodes on one database, as the compose profile ``multinode``
runs them, for real: on the test database,

* an HTTP node, ``--workers=2 --max-cron-threads=0`` (prefork: two HTTP
  workers and the gevent worker serving the websocket on its own port),
* two cron nodes, ``--no-http --max-cron-threads=2`` each,

and the test shows that

* orders driven over JSON-RPC through the HTTP node (quotation, confirmation,
  delivery validated) reach a local webhook receiver (``standardwebhooks``
  signatures checked) with every event delivered exactly once and, per
  order, in sequence with no gap, the dispatcher run by the cron nodes;
* a scheduled pass (the exception sweep) made due and triggered runs once per
  interval although both cron nodes were woken for it (Odoo locks the job's
  row): one run in the dashboard's run log and one "starting" line across
  both nodes' logs, for two intervals;
* the control tower's bus notice reaches a websocket connected to the HTTP
  node's gevent port with an Order Visibility user's session cookie,
  subscribed as the web client subscribes, when an order is confirmed.

Everything runs on committed data. Every scheduled action is made not due
while the nodes run (their next and last calls are put back at the end), so
the cron nodes run only what the test wakes; what the test committed is
removed at the end.
"""

import contextlib
import itertools
import json
import shutil
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import websocket
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry
from odoo.tests.common import get_db_name

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ovtool.settings import STATE  # noqa: E402 (the checkout's tooling, found through REPO)
from tests.odoo_nodes import JsonRpc, OdooNode, free_port, log_since, log_size, wait_for  # noqa: E402

ORDERS = 6
TIMEOUT = 60  # seconds for anything the nodes do asynchronously
SWEEP_XMLID = "order_visibility.ir_cron_exception_sweep"
DISPATCH_XMLID = "order_visibility_webhooks.ir_cron_dispatch"
ALLOW_PRIVATE_PARAM = "order_visibility_webhooks.allow_private_targets"
CONTROL_TOWER_CHANNEL = "order_visibility_dashboard.control_tower"
CONTROL_TOWER_NOTICE = "order_visibility_dashboard/changed"
USER_GROUP = "order_visibility.group_order_visibility_user"
WEBSOCKET_VERSION = "19.0-2"  # bus.websocket.WebsocketConnectionHandler._VERSION


class Receiver:
    """A webhook receiver on 127.0.0.1 that verifies each delivery's signature
    and records (order, sequence, event id) in arrival order."""

    def __init__(self):
        self.secret = None
        self.received = []  # dicts: event_id, order_id, sequence, verified
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(body, headers)
                    verified = True
                except WebhookVerificationError:
                    verified = False
                data = json.loads(body)["data"]
                with receiver.lock:
                    receiver.received.append(
                        {
                            "event_id": headers.get("webhook-id"),
                            "order_id": data["order_id"],
                            "sequence": data["sequence"],
                            "verified": verified,
                        }
                    )
                answer = b'{"ok": true}' if verified else b'{"error": "bad signature"}'
                self.send_response(200 if verified else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def events(self):
        with self.lock:
            return list(self.received)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def committed(fn):
    """Run ``fn(env)`` as superuser in a transaction of its own, committed."""
    registry = Registry(get_db_name())
    with registry.cursor() as cr:
        return fn(api.Environment(cr, SUPERUSER_ID, {}))


def query(sql, params=()):
    def run(env):
        env.cr.execute(sql, params)
        return env.cr.fetchall()

    return committed(run)


class Fixture:
    """What the test committed, to remove it at the end."""

    def __init__(self):
        self.receiver = Receiver()
        self.tag = uuid.uuid4().hex[:8]
        self.cron_calls = {}
        self.max_trigger_id = self.max_cron_run_id = 0
        self.param = None
        self.added_to_group = False
        self.endpoint_id = self.product_id = self.partner_id = self.warehouse_id = None
        self.order_ids = []

    def set_up(self, env):
        crons = env["ir.cron"].with_context(active_test=False).search([])
        env.cr.execute("SELECT id, nextcall, lastcall FROM ir_cron")
        self.cron_calls = {row[0]: row[1:] for row in env.cr.fetchall()}
        env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM ir_cron_trigger")
        [(self.max_trigger_id,)] = env.cr.fetchall()
        env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM order_visibility_cron_run")
        [(self.max_cron_run_id,)] = env.cr.fetchall()
        # Nothing is due while the nodes run but what the test triggers.
        crons.write({"nextcall": fields.Datetime.now() + timedelta(days=7)})

        params = env["ir.config_parameter"]
        self.param = params.get_param(ALLOW_PRIVATE_PARAM)
        params.set_param(ALLOW_PRIVATE_PARAM, "True")

        admin = env.ref("base.user_admin")
        if not admin.has_group(USER_GROUP):
            admin.group_ids = [(4, env.ref(USER_GROUP).id)]
            self.added_to_group = True

        company = admin.company_id
        product = env["product.product"].create(
            {"name": f"Multinode probe {self.tag}", "type": "consu", "is_storable": True, "list_price": 10}
        )
        self.product_id = product.id
        warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 1000)
        self.partner_id = env["res.partner"].create({"name": f"Multinode customer {self.tag}"}).id
        endpoint = env["order.visibility.webhook.endpoint"].create(
            {"name": f"Multinode receiver {self.tag}", "url": self.receiver.url, "company_id": company.id}
        )
        self.endpoint_id = endpoint.id
        self.receiver.secret = endpoint.sudo().secret
        self.warehouse_id = warehouse.id

    def tear_down(self):
        """Each step in a transaction of its own: one that fails leaves the
        others done. Raises the first error at the end."""
        errors = []
        for step in (self._restore_settings, self._remove_orders, self._remove_the_rest):
            try:
                committed(step)
            except Exception as error:  # every step runs; the first error is raised below
                errors.append(error)
        if errors:
            raise errors[0]

    def _restore_settings(self, env):
        cr = env.cr
        for cron_id, (nextcall, lastcall) in self.cron_calls.items():
            cr.execute("UPDATE ir_cron SET nextcall = %s, lastcall = %s WHERE id = %s", [nextcall, lastcall, cron_id])
        cr.execute("DELETE FROM ir_cron_trigger WHERE id > %s", [self.max_trigger_id])
        env["ir.cron"].invalidate_model()
        env["ir.config_parameter"].set_param(ALLOW_PRIVATE_PARAM, self.param or False)
        if self.added_to_group:
            env.ref("base.user_admin").group_ids = [(3, env.ref(USER_GROUP).id)]

    def _remove_orders(self, env):
        cr = env.cr
        orders = env["sale.order"].browse(self.order_ids).exists()
        pickings = orders.picking_ids
        if pickings:
            # Done moves cannot be deleted through the ORM: cancelled first.
            cr.execute("DELETE FROM stock_move_line WHERE picking_id IN %s", [tuple(pickings.ids)])
            cr.execute("UPDATE stock_move SET state = 'cancel' WHERE picking_id IN %s", [tuple(pickings.ids)])
            cr.execute("UPDATE stock_picking SET state = 'cancel' WHERE id IN %s", [tuple(pickings.ids)])
            env.invalidate_all()
            pickings.unlink()
        if orders:
            cr.execute("UPDATE sale_order SET state = 'cancel' WHERE id IN %s", [tuple(orders.ids)])
            env.invalidate_all()
            orders.unlink()

    def _remove_the_rest(self, env):
        cr = env.cr
        if self.endpoint_id:
            env["order.visibility.webhook.endpoint"].browse(self.endpoint_id).exists().unlink()
        if self.product_id:
            cr.execute("DELETE FROM stock_move_line WHERE product_id = %s", [self.product_id])
            cr.execute("DELETE FROM stock_move WHERE product_id = %s", [self.product_id])
            cr.execute("DELETE FROM stock_quant WHERE product_id = %s", [self.product_id])
            env.invalidate_all()
            product = env["product.product"].browse(self.product_id)
            template = product.product_tmpl_id
            product.unlink()
            template.exists().unlink()
        if self.partner_id:
            env["res.partner"].browse(self.partner_id).exists().unlink()
        env["order.visibility.cron.run"].search([("id", ">", self.max_cron_run_id)]).unlink()


@contextlib.contextmanager
def node_logs():
    """The nodes' logs, kept after the run in .ov/test-multinode/<database>/
    (a failure names them); those of runs older than a day are removed."""
    root = STATE / "test-multinode"
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        if time.time() - old.stat().st_mtime > 86400:
            shutil.rmtree(old, ignore_errors=True)
    logdir = root / get_db_name()
    shutil.rmtree(logdir, ignore_errors=True)
    logdir.mkdir()
    yield logdir


@pytest.fixture(scope="module")
def nodes():
    """The committed set-up, the receiver and the three nodes; all removed
    and stopped at the end."""
    fixture = Fixture()
    http_port = gevent_port = free_port()
    while gevent_port == http_port:
        gevent_port = free_port()
    with node_logs() as tmp:
        cron_logging = [
            "--log-handler=odoo.service.server:DEBUG",
            "--log-handler=odoo.addons.base.models.ir_cron:DEBUG",
        ]
        web = OdooNode(
            "web",
            tmp,
            "--http-interface=127.0.0.1",
            f"--http-port={http_port}",
            f"--gevent-port={gevent_port}",
            "--workers=2",
            "--max-cron-threads=0",
        )
        crons = [
            OdooNode(name, tmp, "--no-http", "--max-cron-threads=2", *cron_logging) for name in ("cron_a", "cron_b")
        ]
        try:
            committed(fixture.set_up)
            for node in (web, *crons):
                node.start()
            url = f"http://127.0.0.1:{http_port}"
            web.wait_http(url)
            web.wait_until(
                lambda: "Evented Service (longpolling) running" in log_since(web.log),
                what=f"its gevent worker on port {gevent_port}",
            )
            for node in crons:
                node.wait_until(lambda node=node: wake_crons() and woken(node), what="its cron threads woken")
            yield {"url": url, "ws_url": f"ws://127.0.0.1:{gevent_port}/websocket", "web": web, "crons": crons,
                   "fixture": fixture}  # fmt: skip
        finally:
            for node in (web, *crons):
                node.stop()
            fixture.receiver.stop()
            fixture.tear_down()


def wake_crons():
    """NOTIFY the cron threads as ``_trigger()`` does (they otherwise poll
    once a minute only)."""
    committed(lambda env: env["ir.cron"]._notifydb())
    return True


def woken(node, offset=0):
    return "polling for jobs (notified:" in log_since(node.log, offset)


def drive_order(rpc, fixture):
    """Quotation, confirmation and delivery, each an RPC call to the HTTP node."""
    order_id = rpc.call_kw(
        "sale.order",
        "create",
        [
            {
                "partner_id": fixture.partner_id,
                "warehouse_id": fixture.warehouse_id,
                "order_line": [(0, 0, {"product_id": fixture.product_id, "product_uom_qty": 2})],
            }
        ],
    )[0]
    fixture.order_ids.append(order_id)
    rpc.call_kw("sale.order", "action_confirm", [order_id])
    [order] = rpc.call_kw("sale.order", "read", [order_id], ["picking_ids", "state"])
    assert order["state"] == "sale", order
    for picking_id in order["picking_ids"]:
        result = rpc.call_kw("stock.picking", "button_validate", [picking_id])
        assert result is True, f"validating the delivery asked for more: {result}"
    return order_id


def test_every_event_delivered_once_and_in_sequence_per_order(nodes):
    fixture = nodes["fixture"]
    rpc = JsonRpc(nodes["url"])
    rpc.login()
    for _ in range(ORDERS):
        drive_order(rpc, fixture)

    def settled():
        rows = query(
            "SELECT event_id, sale_order_id, sequence, state FROM order_visibility_webhook_delivery "
            "WHERE endpoint_id = %s",
            [fixture.endpoint_id],
        )
        if rows and all(row[3] == "delivered" for row in rows) and len(fixture.receiver.events()) >= len(rows):
            return rows
        return None

    rows = wait_for(settled, TIMEOUT, "every webhook delivery to be delivered")
    received = fixture.receiver.events()
    assert all(event["verified"] for event in received), "a delivery's signature did not verify"
    assert {row[1] for row in rows} == set(fixture.order_ids), "an order emitted no event"

    ids = [event["event_id"] for event in received]
    assert len(ids) == len(set(ids)), f"events received more than once: {sorted(i for i in ids if ids.count(i) > 1)}"
    assert set(ids) == {row[0] for row in rows}, "the receiver did not get exactly the outbox's events"

    by_order = defaultdict(list)
    for event in received:
        by_order[event["order_id"]].append(event["sequence"])
    for order_id, sequences in by_order.items():
        assert sequences == list(range(1, len(sequences) + 1)), (
            f"order {order_id}: received out of sequence {sequences}"
        )
    assert sum(map(len, by_order.values())) >= 2 * ORDERS, "fewer events than confirmations and deliveries"


def last_sweep_run_id():
    return query("SELECT COALESCE(MAX(id), 0) FROM order_visibility_cron_run")[0][0]


def sweep_runs(after, up_to=None):
    """Runs of the sweep in the dashboard's run log with an id in (after, up_to]."""
    sql = "SELECT count(*) FROM order_visibility_cron_run WHERE cron_code = 'exception_sweep' AND id > %s"
    params = [after]
    if up_to is not None:
        sql += " AND id <= %s"
        params.append(up_to)
    return query(sql, params)[0][0]


def test_scheduled_pass_runs_once_per_interval_on_two_cron_nodes(nodes):
    crons = nodes["crons"]
    sweep_id = committed(lambda env: env.ref(SWEEP_XMLID).id)
    starting = f"Job 'Order Visibility: exception sweep' ({sweep_id}) starting"
    bounds = [last_sweep_run_id()]
    for interval in (1, 2):
        offsets = [log_size(node.log) for node in crons]

        def make_due(env):
            cron = env.ref(SWEEP_XMLID)
            cron.nextcall = fields.Datetime.now()
            cron._trigger()  # wakes every cron node (NOTIFY cron_trigger at commit)

        committed(make_due)
        after = bounds[-1]
        wait_for(lambda after=after: sweep_runs(after) >= 1, TIMEOUT, f"the sweep's run of interval {interval}")
        for node, offset in zip(crons, offsets, strict=True):
            node.wait_until(
                lambda node=node, offset=offset: woken(node, offset),
                TIMEOUT,
                f"woken for interval {interval}",
            )
        logs = [log_since(node.log, offset) for node, offset in zip(crons, offsets, strict=True)]
        assert sum(log.count(starting) for log in logs) == 1, f"interval {interval}: the sweep started more than once"
        nextcall = committed(lambda env: env.ref(SWEEP_XMLID).nextcall)
        assert nextcall > fields.Datetime.now() + timedelta(minutes=10), "the next interval was not scheduled"
        bounds.append(last_sweep_run_id())
    # Counted again once both intervals are over: a late second run would show.
    for interval, (after, up_to) in enumerate(itertools.pairwise(bounds), start=1):
        runs = sweep_runs(after, up_to)
        assert runs == 1, f"interval {interval}: the sweep ran {runs} times"
    assert sweep_runs(bounds[-1]) == 0, "the sweep ran again without being due"


def test_control_tower_notice_reaches_the_browser_on_the_http_node(nodes):
    fixture = nodes["fixture"]
    rpc = JsonRpc(nodes["url"])
    rpc.login()
    session_id = rpc.session.cookies.get("session_id")
    assert session_id
    last = query("SELECT COALESCE(MAX(id), 0) FROM bus_bus")[0][0]
    ws = websocket.create_connection(
        f"{nodes['ws_url']}?version={WEBSOCKET_VERSION}",
        cookie=f"session_id={session_id}",
        origin=nodes["url"],
        timeout=TIMEOUT,
    )
    try:
        ws.send(json.dumps({"event_name": "subscribe", "data": {"channels": [CONTROL_TOWER_CHANNEL], "last": last}}))
        # Subscribing sends what the channels got after ``last`` too: the
        # notice arrives whether the confirmation commits before or after
        # the gevent worker reads the subscription.
        order_id = rpc.call_kw(
            "sale.order",
            "create",
            [
                {
                    "partner_id": fixture.partner_id,
                    "order_line": [(0, 0, {"product_id": fixture.product_id, "product_uom_qty": 1})],
                }
            ],
        )[0]
        fixture.order_ids.append(order_id)
        rpc.call_kw("sale.order", "action_confirm", [order_id])
        deadline = time.monotonic() + TIMEOUT
        notices = []
        while not notices and time.monotonic() < deadline:
            ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                frame = ws.recv()
            except websocket.WebSocketTimeoutException:
                break
            if not frame:
                continue
            notices.extend(n for n in json.loads(frame) if n.get("message", {}).get("type") == CONTROL_TOWER_NOTICE)
        assert notices, "no control tower notice on the websocket"
        company_id = committed(lambda env: env.ref("base.user_admin").company_id.id)
        assert notices[0]["message"]["payload"] == {"company_id": company_id}
        assert notices[0]["id"] > last
    finally:
        ws.close()
