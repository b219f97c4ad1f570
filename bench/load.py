#!/usr/bin/env python3
"""Many users at once: N clients through the whole order flow on a prefork server.

    python3 bench/load.py --config=<odoo conf> --suite-db=ov_bench_small --base-db=ov_bench_base
        [--clients 8] [--orders 10 | --duration SECONDS] [--workers 4] [--rounds 1]

(``./ov bench load`` runs it.) Prints figures, never passes or fails.
Budget (docs/dev/architecture.md): throughput >= 0.9x without the suite, no
client error that does not also happen without it, every order's stage right
and its events delivered at the end.

Each side works on a copy of its database (``CREATE DATABASE ... TEMPLATE``,
with its filestore), dropped at the end: "without the suite" copies
``--base-db`` (the same Odoo apps), "with the suite" copies ``--suite-db``
(the suite and the demo scenario) and gets an active webhook endpoint
pointing at a receiver in this process (a thread on 127.0.0.1) that checks
each signature with ``standardwebhooks`` and records the event ids. Both
copies get the same fixtures (bench/core.py confirm_fixture: stocked
products, a customer) and a known admin password.

One Odoo server per side, ``--workers`` HTTP workers and one cron worker
(the webhook dispatcher runs there), on free ports. ``--clients`` threads,
each with its own HTTP session logged in as admin, loop through the flow
over JSON-RPC (/web/dataset/call_kw), as a user would:

    quotation   sale.order create, 2-3 lines of the 3 shared products (their
                stock moves and quants contend)
    confirm     action_confirm
    deliver     the picking's moves: quantity set and picked, button_validate
                (a wizard it returns is processed)
    invoice     sale.advance.payment.inv create + create_invoices
    post        account.move action_post
    pay         account.payment.register create (active_model/active_ids)
                + action_create_payments

In each round, one untimed order per client first (the workers load their
registry), then the round's share of ``--orders`` per client (or orders
for ``--duration`` seconds). Rounds
alternate the sides (without/with, then with/without). Printed per side:
orders/s, p50/p95 per step, client-visible errors by class (serialisation
failure or deadlock surfacing after Odoo's retries, other), the retries the
server logged; then the ratio and the errors seen only with the suite. At
the end, with the suite: the outbox drained (deadline), each order's
``order.status_changed`` deliveries against its transitions (one delivery
per transition, all delivered, received once with a valid signature,
gap-free sequence) and its stage ("paid" for an order fully delivered,
invoiced and paid).
"""

import argparse
import base64
import configparser
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from figures import load_average, percentile, say  # bench/ is the script's folder

STEPS = ("quotation", "confirm", "deliver", "invoice", "post", "pay")
ADMIN_PASSWORD = "ov-load-bench"
SERVER_DEADLINE = 180  # seconds for a server to answer /web/health
DRAIN_DEADLINE = 300  # seconds for the outbox to empty at the end
SHARED_PRODUCTS = 3
EXPECTED_STAGE = "paid"  # order_visibility/tools/constants.py: delivered, invoiced and paid
# Odoo's retry line (odoo.service.model, INFO): "SERIALIZATION_FAILURE, 4 tries left, ..."
RETRY_LINE = re.compile(r"(SERIALIZATION_FAILURE|DEADLOCK_DETECTED|LOCK_NOT_AVAILABLE), (\d+ tries left|maximum)")
# The werkzeug line of a call:
# "POST /web/dataset/call_kw/<model>/<method> HTTP/1.1" <status> - <queries> <query s> <other s>
CALL_LINE = re.compile(r'"POST /web/dataset/call_kw/(\S+) HTTP/[\d.]+" \d{3} \S+ (\d+) ([\d.]+) ([\d.]+)')


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def classify(name, message):
    text = f"{name} {message}"
    if "SerializationFailure" in text or "could not serialize" in text:
        return "serialization failure"
    if "DeadlockDetected" in text or "deadlock detected" in text:
        return "deadlock"
    if "LockNotAvailable" in text or "could not obtain lock" in text:
        return "lock not available"
    return "other"


# -- databases -----------------------------------------------------------------


def read_options(config_path):
    options = configparser.ConfigParser()
    options.read(config_path)
    return dict(options.items("options"))


def pg_connect(options):
    import psycopg2

    connect = {
        "dbname": "postgres",
        "host": options.get("db_host"),
        "port": options.get("db_port"),
        "user": options.get("db_user"),
        "password": options.get("db_password"),
    }
    conn = psycopg2.connect(**{k: v for k, v in connect.items() if v and v != "False"})
    conn.autocommit = True
    return conn


def filestore(options, dbname):
    return Path(options.get("data_dir") or "~/.local/share/Odoo").expanduser() / "filestore" / dbname


def copy_database(options, source, target):
    """``target`` as a copy of ``source`` (and its filestore); retried while
    someone else is connected to ``source`` (CREATE DATABASE ... TEMPLATE needs it alone)."""
    import psycopg2

    drop_database(options, target)
    deadline = time.monotonic() + 120
    conn = pg_connect(options)  # no "with conn": it would open a transaction
    with conn.cursor() as cr:
        while True:
            try:
                cr.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
                break
            except psycopg2.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise SystemExit(f"load: {source} stayed in use for 120 s: cannot copy it to {target}") from None
                time.sleep(1)  # another benchmark has it open: wait for it to close
    conn.close()
    if filestore(options, source).is_dir():
        shutil.copytree(filestore(options, source), filestore(options, target))


def drop_database(options, dbname):
    conn = pg_connect(options)
    try:
        with conn.cursor() as cr:
            cr.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    finally:
        conn.close()
    shutil.rmtree(filestore(options, dbname), ignore_errors=True)


def odoo_setup(config_path):
    from odoo.tools import config

    config.parse_config(["-c", config_path, "--log-level=warn"], setup_logging=True)


def odoo_env(dbname):
    from odoo import api
    from odoo.modules.registry import Registry

    return api.Environment(Registry(dbname).cursor(), api.SUPERUSER_ID, {})


def close_odoo(dbname):
    from odoo import sql_db
    from odoo.modules.registry import Registry

    Registry.delete(dbname)
    sql_db.close_db(dbname)


def prepare(dbname, receiver=None):
    """The fixtures of one side (the same on both), an endpoint with the suite;
    returns the shared products' ids and the customer's id."""
    from core import confirm_fixture  # bench/ is the script's folder

    env = odoo_env(dbname)
    try:
        customer, products = confirm_fixture(env)
        env.ref("base.user_admin").password = ADMIN_PASSWORD
        if receiver:
            env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "True")
            Endpoint = env["order.visibility.webhook.endpoint"].with_context(active_test=False)
            Endpoint.search([]).write({"active": False})
            endpoint = Endpoint.create(
                {"name": "Load bench receiver", "url": receiver.url, "timeout": 10, "secret": receiver.secret}
            )
            receiver.endpoint_id = endpoint.id
        env.cr.commit()
        return customer.id, products[:SHARED_PRODUCTS].ids
    finally:
        env.cr.close()


# -- receiver ------------------------------------------------------------------


class Receiver:
    """A webhook receiver thread: verifies each signature, records event ids."""

    def __init__(self):
        from standardwebhooks.webhooks import Webhook

        self.secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        verifier = Webhook(self.secret)
        self.received = Counter()  # event id -> times received with a valid signature
        self.bad = 0
        self.endpoint_id = None
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    verifier.verify(body, {k.lower(): v for k, v in self.headers.items()})
                    ok = True
                except Exception:
                    ok = False
                with lock:
                    if ok:
                        receiver.received[self.headers.get("webhook-id")] += 1
                    else:
                        receiver.bad += 1
                self.send_response(200 if ok else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# -- servers -------------------------------------------------------------------


class Server:
    def __init__(self, config_path, dbname, workers):
        self.port = free_port()
        self.log = Path(tempfile.mkstemp(prefix=f"bench-load-{dbname}-", suffix=".log")[1])
        self.conf = Path(tempfile.mkstemp(prefix="bench-load-", suffix=".conf")[1])
        skip = ("db_name", "dbfilter", "http_port", "http_interface", "gevent_port", "workers", "max_cron_threads")
        lines = [line for line in Path(config_path).read_text().splitlines() if not line.startswith(skip)]
        lines += [
            f"db_name = {dbname}",
            f"dbfilter = ^{dbname}$",
            "http_interface = 127.0.0.1",
            f"http_port = {self.port}",
            f"gevent_port = {free_port()}",
            f"workers = {workers}",
            "max_cron_threads = 1",
        ]
        self.conf.write_text("\n".join(lines) + "\n")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "odoo", "-c", str(self.conf), "--log-level=warn"),
                "--log-handler=odoo.service.model:INFO",  # Odoo's retries of serialisation failures
                "--log-handler=werkzeug:INFO",  # each call's queries and server time
                f"--logfile={self.log}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its workers with it, for the kill
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def wait(self):
        deadline = time.monotonic() + SERVER_DEADLINE
        while True:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"load: the Odoo server on port {self.port} exited at start"
                    f" (exit {self.process.returncode}): see {self.log}"
                )
            try:
                if requests.get(f"{self.base}/web/health", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"load: the Odoo server on port {self.port} gave no /web/health answer"
                    f" in {SERVER_DEADLINE} s: see {self.log}"
                )
            time.sleep(0.5)  # a benchmark polls the server it started; tests never sleep

    def calls(self):
        """Per model/method called: [(queries, server seconds)] from the werkzeug lines."""
        found = defaultdict(list)
        with open(self.log, errors="replace") as log:
            for line in log:
                match = CALL_LINE.search(line)
                if match:
                    seconds = float(match.group(3)) + float(match.group(4))
                    found[match.group(1).split("#")[0]].append((int(match.group(2)), seconds))
        return found

    def retries(self):
        """Odoo's retries of concurrency errors logged so far: by error and how
        far they went (retried / last try / gave up), and the statements that failed."""
        found, statements = Counter(), Counter()
        with open(self.log, errors="replace") as log:
            for line in log:
                match = RETRY_LINE.search(line)
                if match:
                    how = {"maximum": "gave up", "1 tries left": "last try"}.get(match.group(2), "retried")
                    found[f"{match.group(1)} {how}"] += 1
                elif "bad query: " in line:
                    statement = " ".join(line.split("bad query: ", 1)[1].replace("\\n", " ").split())
                    statement = statement.removeprefix("b'").removeprefix('b"').strip()
                    statements[re.sub(r"ARRAY\[[\d,]*\]|VALUES \(.*", "...", statement)[:90]] += 1
        return found, statements

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.conf.unlink(missing_ok=True)


# -- clients -------------------------------------------------------------------


class RpcError(Exception):
    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message


class Client:
    def __init__(self, base, dbname):
        self.base = base
        self.session = requests.Session()
        self.call("/web/session/authenticate", {"db": dbname, "login": "admin", "password": ADMIN_PASSWORD})

    def call(self, path, params):
        try:
            answer = self.session.post(
                self.base + path, json={"jsonrpc": "2.0", "method": "call", "params": params}, timeout=300
            )
        except requests.RequestException as error:
            raise RpcError(type(error).__name__, str(error)[:200]) from error
        if answer.status_code != 200:
            raise RpcError(f"HTTP {answer.status_code}", answer.text[:200])
        body = answer.json()
        if "error" in body:
            data = body["error"].get("data") or {}
            message = " ".join((data.get("message") or "").split())[:300]
            raise RpcError(data.get("name") or body["error"].get("message"), message)
        return body["result"]

    def kw(self, model, method, args, context=None, **kwargs):
        if context:
            kwargs["context"] = context
        return self.call(
            f"/web/dataset/call_kw/{model}/{method}", {"model": model, "method": method, "args": args, "kwargs": kwargs}
        )

    def order(self, customer, products, rng, timings):
        """One order through the flow; the order's id. ``timings``: step -> seconds (filled as it goes)."""

        def step(name, function):
            started = time.perf_counter()
            result = function()
            timings[name] = time.perf_counter() - started
            return result

        lines = [
            [0, 0, {"product_id": product, "product_uom_qty": rng.randint(1, 3)}]
            for product in rng.sample(products, rng.choice((2, 3)))
        ]
        created = step(
            "quotation", lambda: self.kw("sale.order", "create", [[{"partner_id": customer, "order_line": lines}]])
        )
        order = created[0] if isinstance(created, list) else created
        timings["order_id"] = order
        step("confirm", lambda: self.kw("sale.order", "action_confirm", [[order]]))

        def deliver():
            pickings = self.kw(
                "stock.picking", "search", [[("sale_id", "=", order), ("state", "not in", ("done", "cancel"))]]
            )
            for picking in pickings:
                moves = self.kw(
                    "stock.move", "search_read", [[("picking_id", "=", picking)]], fields=["product_uom_qty"]
                )
                for move in moves:
                    self.kw(
                        "stock.move", "write", [[move["id"]], {"quantity": move["product_uom_qty"], "picked": True}]
                    )
                result = self.kw("stock.picking", "button_validate", [[picking]])
                if isinstance(result, dict) and result.get("res_model"):
                    context = result.get("context") or {}
                    wizard = self.kw(result["res_model"], "create", [{}], context=context)
                    wizard = wizard[0] if isinstance(wizard, list) else wizard
                    self.kw(result["res_model"], "process", [[wizard]], context=context)

        step("deliver", deliver)

        def invoice():
            context = {"active_model": "sale.order", "active_ids": [order], "active_id": order}
            wizard = self.kw(
                "sale.advance.payment.inv", "create", [{"advance_payment_method": "delivered"}], context=context
            )
            wizard = wizard[0] if isinstance(wizard, list) else wizard
            self.kw("sale.advance.payment.inv", "create_invoices", [[wizard]], context=context)
            return self.kw("sale.order", "read", [[order], ["invoice_ids"]])[0]["invoice_ids"]

        invoices = step("invoice", invoice)
        step("post", lambda: self.kw("account.move", "action_post", [invoices]))

        def pay():
            context = {"active_model": "account.move", "active_ids": invoices}
            wizard = self.kw("account.payment.register", "create", [{}], context=context)
            wizard = wizard[0] if isinstance(wizard, list) else wizard
            self.kw("account.payment.register", "action_create_payments", [[wizard]], context=context)

        step("pay", pay)
        return order


def run_side(server, dbname, fixture, args, seed):
    """Every client's orders through the flow: (orders/s, samples, errors, order ids)."""
    customer, products = fixture
    results = []  # (client, timings dict, error or None)
    order_ids = []
    lock = threading.Lock()
    ready = threading.Barrier(args.clients + 1)
    window = {}

    def client_main(index):
        rng = random.Random(seed * 1000 + index)
        client = Client(server.base, dbname)
        # Untimed: the workers load the registry, the first calls fill the caches.
        try:
            order_ids.append(client.order(customer, products, rng, {}))
        except RpcError:
            pass
        ready.wait()
        count = 0
        while (
            (count < max(1, args.orders // args.rounds))
            if not args.duration
            else (time.monotonic() - window["start"] < args.duration)
        ):
            timings, error = {}, None
            try:
                client.order(customer, products, rng, timings)
            except RpcError as exc:
                error = exc
            with lock:
                results.append((index, timings, error))
                if error is None:  # a failed order is counted as a client error, not checked
                    order_ids.append(timings["order_id"])
            count += 1

    threads = [threading.Thread(target=client_main, args=(i,), daemon=True) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    window["start"] = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - window["start"]
    completed = sum(1 for _i, _t, error in results if error is None)
    return completed / elapsed, results, order_ids


# -- checks with the suite ------------------------------------------------------


def check_suite(dbname, receiver, order_ids, deadline):
    """The outbox drained, each order's events against its transitions, its stage."""
    env = odoo_env(dbname)
    try:
        cr = env.cr
        started = time.monotonic()
        while True:
            cr.execute(
                "SELECT count(*) FROM order_visibility_webhook_delivery"
                " WHERE endpoint_id = %s AND state != 'delivered'",
                [receiver.endpoint_id],
            )
            left = cr.fetchone()[0]
            cr.commit()
            if not left or time.monotonic() - started > deadline:
                break
            time.sleep(1)  # the server's cron worker drains the outbox
        say(f"  outbox: {left} deliveries not delivered after {time.monotonic() - started:.0f} s")
        cr.execute(
            "SELECT sale_order_id, count(*) FROM order_visibility_transition WHERE sale_order_id = ANY(%s) GROUP BY 1",
            [order_ids],
        )
        transitions = dict(cr.fetchall())
        cr.execute(
            """SELECT sale_order_id, event_id, sequence, state, payload FROM order_visibility_webhook_delivery
                WHERE endpoint_id = %s AND sale_order_id = ANY(%s) AND event_type = 'order.status_changed'
             ORDER BY sale_order_id, sequence""",
            [receiver.endpoint_id, order_ids],
        )
        deliveries = defaultdict(list)
        for order, event_id, sequence, state, payload in cr.fetchall():
            deliveries[order].append((event_id, sequence, state, payload))
        cr.execute(
            "SELECT sale_order_id, event_id, sequence FROM order_visibility_webhook_delivery WHERE endpoint_id = %s"
            " AND sale_order_id = ANY(%s) ORDER BY sale_order_id, sequence",
            [receiver.endpoint_id, order_ids],
        )
        sequences = defaultdict(list)
        all_events = []
        for order, event_id, sequence in cr.fetchall():
            sequences[order].append(sequence)
            all_events.append(event_id)
        cr.execute("SELECT sale_order_id, stage FROM order_visibility WHERE sale_order_id = ANY(%s)", [order_ids])
        stages = dict(cr.fetchall())
        problems = Counter()
        examples = {}
        for order in order_ids:
            found = []
            rows = deliveries.get(order, [])
            if len(rows) != transitions.get(order, 0):
                found.append(f"{len(rows)} status events for {transitions.get(order, 0)} transitions")
            if any(state != "delivered" for _e, _s, state, _p in rows):
                found.append("status event not delivered")
            if sequences[order] != list(range(1, len(sequences[order]) + 1)):
                found.append(f"sequence {sequences[order]}")
            if rows and json.loads(rows[-1][3]).get("data", {}).get("new_stage") != stages.get(order):
                found.append("last status event's stage is not the order's")
            if stages.get(order) != EXPECTED_STAGE:
                found.append(f"stage {stages.get(order)} (expected {EXPECTED_STAGE})")
            for problem in found:
                problems[problem.split(" (")[0] if problem.startswith("stage") else problem] += 1
                examples.setdefault(problem, order)
        missing = sum(1 for event in all_events if receiver.received[event] == 0)
        twice = sum(1 for event in all_events if receiver.received[event] > 1)
        say(
            f"  {len(order_ids)} orders: {sum(len(r) for r in deliveries.values())} status events"
            f" ({len(all_events)} events in all), {missing} not received, {twice} received twice,"
            f" {receiver.bad} bad signatures; stage {EXPECTED_STAGE}:"
            f" {sum(1 for o in order_ids if stages.get(o) == EXPECTED_STAGE)}/{len(order_ids)}"
        )
        for problem, count in problems.most_common():
            say(f"  PROBLEM {problem}: {count} orders (e.g. sale.order {examples.get(problem)})")
        return not problems and not missing and not receiver.bad
    finally:
        env.cr.close()


# -- report --------------------------------------------------------------------


def report(label, rates, results, retries):
    completed = [t for _i, t, error in results if error is None]
    errors = Counter()
    samples = {}
    for _i, timings, error in results:
        if error is not None:
            failed_at = next((s for s in STEPS if s not in timings), "?")
            errors[(classify(error.name, error.message), failed_at, error.name, error.message[:120])] += 1
    say(
        f"  {label}: {statistics.mean(rates):.2f} orders/s ({' '.join(f'{r:.2f}' for r in rates)} per round),"
        f" {len(completed)} orders completed, {sum(errors.values())} failed"
    )
    for step in STEPS:
        values = [t[step] for _i, t, _e in results if step in t]
        if values:
            samples[step] = values
            p50, p95 = statistics.median(values) * 1000, percentile(values, 0.95) * 1000
            say(f"    {step:<10} p50 {p50:7.0f} ms  p95 {p95:7.0f} ms  ({len(values)})")
    for (kind, step, name, message), count in errors.most_common():
        say(f"    error x{count} [{kind}] at {step}: {name}: {message}")
    found, statements = retries
    say(f"    Odoo's retries of concurrency errors (server log): {dict(found) or 'none'}")
    for statement, count in statements.most_common(4):
        say(f"      failed x{count}: {statement}")
    return Counter({(kind, name): count for (kind, _step, name, _m), count in errors.items()})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--suite-db", default="ov_bench_small", help="the suite and the demo scenario (copied)")
    parser.add_argument("--base-db", default="ov_bench_base", help="the same apps without the suite (copied)")
    parser.add_argument("--clients", type=int, default=int(os.environ.get("OV_LOAD_CLIENTS", "8")))
    parser.add_argument(
        "--orders",
        type=int,
        default=int(os.environ.get("OV_LOAD_ORDERS", "10")),
        help="per client and side, split over the rounds",
    )
    parser.add_argument("--duration", type=float, default=0, help="seconds per side instead of --orders")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("OV_LOAD_WORKERS", "4")))
    parser.add_argument(
        "--rounds", type=int, default=int(os.environ.get("OV_LOAD_ROUNDS", "2")), help="alternating the sides"
    )
    args = parser.parse_args(argv)
    options = read_options(args.config)
    copies = {"without": f"{args.base_db}_load", "with": f"{args.suite_db}_load"}
    size = f"{args.duration:.0f} s" if args.duration else f"{args.orders} orders"
    say(
        f"load: {args.clients} clients x {size} each through the whole flow, {args.workers} workers + 1 cron,"
        f" {args.rounds} round(s) (budget: >= 0.9x orders/s without the suite, no extra client error,"
        f" every event delivered); {load_average()}"
    )
    odoo_setup(args.config)
    receiver = Receiver()
    servers = {}
    try:
        copy_database(options, args.base_db, copies["without"])
        copy_database(options, args.suite_db, copies["with"])
        fixtures = {
            "without": prepare(copies["without"]),
            "with": prepare(copies["with"], receiver),
        }
        for side in ("without", "with"):
            close_odoo(copies[side])  # the servers alone on their databases
            servers[side] = Server(args.config, copies[side], args.workers)
        for server in servers.values():
            server.wait()
        rates = {"without": [], "with": []}
        results = {"without": [], "with": []}
        orders = {"without": [], "with": []}
        for round_ in range(args.rounds):
            for side in ("without", "with") if round_ % 2 == 0 else ("with", "without"):
                rate, side_results, side_orders = run_side(servers[side], copies[side], fixtures[side], args, round_)
                rates[side].append(rate)
                results[side] += side_results
                orders[side] += side_orders
                say(f"  round {round_ + 1}, {side} the suite: {rate:.2f} orders/s; {load_average()}")
        say("results:")
        errors = {}
        for side in ("without", "with"):
            label = f"{side} the suite ({copies[side]})"
            errors[side] = report(label, rates[side], results[side], servers[side].retries())
        say("  per call, server side (werkzeug log, warm-up included): median queries and ms, without -> with")
        calls = {side: servers[side].calls() for side in ("without", "with")}
        for call in sorted(set(calls["without"]) | set(calls["with"])):
            figures = []
            for side in ("without", "with"):
                values = calls[side].get(call) or [(0, 0.0)]
                queries = statistics.median(q for q, _t in values)
                figures.append(f"{queries:4.0f} q {statistics.median(t for _q, t in values) * 1000:6.0f} ms")
            say(f"    {call:<48} {figures[0]}  ->  {figures[1]}")
        ratio = statistics.mean(rates["with"]) / statistics.mean(rates["without"])
        say(f"  throughput with/without: {ratio:.2f}x (budget >= 0.9x)")
        extra = errors["with"] - errors["without"]
        if extra:
            for (kind, name), count in extra.items():
                if errors["without"][kind, name]:  # the same error, more often: tell the reader it is not new
                    say(
                        f"  error more often with the suite: [{kind}] {name}"
                        f" x{errors['with'][kind, name]} with, x{errors['without'][kind, name]} without"
                    )
                else:
                    say(f"  error only with the suite: x{count} [{kind}] {name}")
        else:
            say("  no client error with the suite that does not also happen without it")
        say("events and stages with the suite:")
        complete = check_suite(copies["with"], receiver, orders["with"], DRAIN_DEADLINE)
        if complete and not any(errors.values()):
            for server in servers.values():
                server.log.unlink(missing_ok=True)
            say(f"  {load_average()}")
        else:  # kept to read the tracebacks
            say(f"  server logs: {servers['without'].log} {servers['with'].log}; {load_average()}")
    finally:
        for server in servers.values():
            server.stop()
        receiver.stop()
        for dbname in copies.values():
            try:
                close_odoo(dbname)
            except Exception:
                pass
            drop_database(options, dbname)
    return 0


if __name__ == "__main__":
    sys.exit(main())
