#!/usr/bin/env python3
"""Benchmark of the webhook outbox and dispatcher (figures, never pass/fail).

    python3 bench/webhooks.py --config=<odoo conf> --db=ov_bench_webhooks [--deliveries N]

(``./ov bench webhooks`` runs it on ``ov_bench_webhooks``.) The database must
have ``order_visibility_webhooks`` and ``base_automation`` installed; the
benchmark adds its own partner, product, endpoint and orders to it.

    throughput  deliveries/s of the dispatcher to a local keep-alive receiver
                (another process), with 1, 2 and 4 dispatcher processes on
                one endpoint, each figure beside N times the one-worker
                figure; serialisation failures in the workers' logs counted.
                Then the same with a receiver that answers in 20 ms: the
                workers wait on the network, not on this machine's CPUs, so
                the scaling shows contention between them alone
    latency     commit-to-receipt p50/p95 through the real cron trigger: an
                Odoo server with two cron threads is started on the database
                (on OV_HTTP_PORT when it is free, else on a free port; the
                benchmark stops, naming the port and the server's log, when
                it does not answer /web/health), each event's commit wakes it
                with _trigger() (NOTIFY)
    confirm     action_confirm of a quotation up to its commit, interleaved:
                nothing / our emission to one endpoint / Odoo's native
                "Send Webhook Notification" automation posting to the same
                receiver; median times and ratios
"""

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from figures import say  # bench/ is the script's folder

REPO = Path(__file__).resolve().parents[1]
BUDGETS = "budgets: >= 500 deliveries/s per worker, near-linear with more, p95 <= 1 s, emitting <= 1.1x"
WORKERS = (1, 2, 4)
SERVER_DEADLINE = 180  # seconds for the latency server to answer /web/health
SLOW_RECEIVER_MS = 20  # the second throughput pass: a receiver a network away
# What a serialisation failure looks like in an Odoo log (psycopg2's message,
# Odoo's "bad query" line, the exception's class, the dispatcher's own debug
# line for a claim that failed to serialise: an empty batch).
SERIALISATION_MARKERS = ("could not serialize access", "SerializationFailure", "failed to serialise")


# -- receiver (its own process: it must not share the dispatcher's GIL) ------


def _receiver_main(port_queue, log_path, delay):
    received = open(log_path, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave at once, as real servers do

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.write(f"{self.headers.get('webhook-id') or '-'} {time.time():.6f}\n")
            if delay:
                time.sleep(delay)  # a receiver across a network: the dispatcher waits, its CPU does not work
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


class Receiver:
    def __init__(self, delay=0.0):
        self.log = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False).name
        queue = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=_receiver_main, args=(queue, self.log, delay), daemon=True)
        self.process.start()
        self.port = queue.get(timeout=10)
        self.url = f"http://127.0.0.1:{self.port}/hooks"

    def receipts(self):
        with open(self.log) as log:
            return {line.split()[0]: float(line.split()[1]) for line in log if line.strip()}

    def stop(self):
        self.process.terminate()
        self.process.join()
        os.unlink(self.log)


# -- Odoo helpers --------------------------------------------------------------


def temp_path(prefix, suffix):
    """The path of a new empty temporary file (its descriptor closed)."""
    handle, path = tempfile.mkstemp(prefix=prefix, suffix=suffix)
    os.close(handle)
    return path


def free_port(preferred=None):
    """``preferred`` when nothing listens on it, else a port the system picks."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError("no free TCP port")


def serialisation_failures(log_path):
    """Lines of an Odoo log that report a serialisation failure."""
    try:
        with open(log_path, errors="replace") as log:
            return sum(1 for line in log if any(marker in line for marker in SERIALISATION_MARKERS))
    except FileNotFoundError:
        return 0


def odoo_env(config_path, dbname, logfile=None):
    from odoo import api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    if not config.get("_bench_loaded"):
        options = ["-c", config_path, "--log-level=warn"]
        if logfile:  # a dispatcher worker: its warnings, and its serialisation failures (debug)
            options += [f"--logfile={logfile}", "--log-handler=odoo.addons.order_visibility_webhooks:DEBUG"]
        config.parse_config(options, setup_logging=True)
        config["_bench_loaded"] = True
    registry = Registry(dbname)
    return api.Environment(registry.cursor(), api.SUPERUSER_ID, {})


def fixtures(env, receiver_url):
    env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "True")
    partner = env["res.partner"].search([("name", "=", "Webhook Bench Customer")], limit=1) or env[
        "res.partner"
    ].create({"name": "Webhook Bench Customer"})
    product = env["product.product"].search([("default_code", "=", "WH-BENCH")], limit=1) or env[
        "product.product"
    ].create({"name": "Bench Goods", "default_code": "WH-BENCH", "type": "consu", "list_price": 10})
    Endpoint = env["order.visibility.webhook.endpoint"].with_context(active_test=False)
    Endpoint.search([]).write({"active": False})
    env["base.automation"].search([("name", "=", "Webhook bench: native")]).write({"active": False})
    endpoint = Endpoint.create({"name": "Bench receiver", "url": receiver_url, "timeout": 10})
    env.cr.commit()
    return partner, product, endpoint


def emit(env, visibilities, per_order):
    env["order.visibility.webhook.delivery"]._emit_events(
        [
            {"visibility": v, "type": "order.status_changed", "data": {"old_stage": "draft", "new_stage": "draft"}}
            for _i in range(per_order)
            for v in visibilities
        ]
    )


def make_visibilities(env, partner, count):
    orders = env["sale.order"].create([{"partner_id": partner.id} for _i in range(count)])
    return env["order.visibility"]._ensure_for_orders(orders)


def _dispatch_worker(where, batch, ready, go, result_queue):
    """``where``: (Odoo config path, database, this worker's log file); ``batch``: deliveries per claim."""
    env = odoo_env(*where)
    Delivery = env["order.visibility.webhook.delivery"]
    sessions, done, idle = {}, 0, 0
    ready.put(True)
    go.wait()
    start = time.monotonic()
    while idle < 3:
        claimed = Delivery._dispatch_batch(limit=batch, sessions=sessions)
        done += claimed
        idle = 0 if claimed else idle + 1
    result_queue.put((done, time.monotonic() - start))
    env.cr.close()


# -- benchmarks ----------------------------------------------------------------


def bench_throughput(args, env, receiver, partner, endpoint):
    say(f"throughput: {args.deliveries} deliveries (5 events per order) to one endpoint, a local keep-alive receiver")
    measure_throughput(args, env, (partner, endpoint), args.deliveries, batch=200)
    # The local receiver answers at once: the workers then share this
    # machine's CPUs with it and with PostgreSQL, and more workers cannot
    # scale past the cores. A receiver that takes SLOW_RECEIVER_MS per answer
    # (a network away) leaves the CPUs idle: what is left is contention
    # between the workers (a hot row would show here).
    slow = Receiver(delay=SLOW_RECEIVER_MS / 1000)
    try:
        endpoint.write({"url": slow.url})
        env.cr.commit()
        deliveries = args.deliveries // 5
        # Batches of 50: 20 of them, so that 4 workers get an even share.
        say(
            f"throughput, receiver answering in {SLOW_RECEIVER_MS} ms (I/O-bound):"
            f" {deliveries} deliveries, batches of 50"
        )
        measure_throughput(args, env, (partner, endpoint), deliveries, batch=50)
    finally:
        endpoint.write({"url": receiver.url})
        env.cr.commit()
        slow.stop()


def measure_throughput(args, env, fixture, deliveries, batch):
    """Deliveries/s with 1, 2 and 4 dispatcher processes; each beside N x one worker."""
    partner, endpoint = fixture
    rates, logs = {}, []
    for workers in WORKERS:
        visibilities = make_visibilities(env, partner, deliveries // 5)
        emit(env, visibilities, 5)
        env.cr.commit()
        # Fresh processes (spawn: no connection inherited from this one), like
        # cron workers; they load Odoo, then start together. Each logs to its
        # own file (warnings and errors), read afterwards for serialisation failures.
        spawn = multiprocessing.get_context("spawn")
        queue, ready, go = spawn.Queue(), spawn.Queue(), spawn.Event()
        worker_logs = [temp_path(f"bench-dispatch-{workers}w-", ".log") for _i in range(workers)]
        logs += worker_logs
        procs = [
            spawn.Process(target=_dispatch_worker, args=((args.config, args.db, log), batch, ready, go, queue))
            for log in worker_logs
        ]
        for proc in procs:
            proc.start()
        for _proc in procs:
            ready.get(timeout=300)
        go.set()
        results = [queue.get() for _proc in procs]
        for proc in procs:
            proc.join()
        total = sum(done for done, _t in results)
        busy = max(t for _d, t in results)
        env.cr.execute(
            "SELECT count(*) FROM order_visibility_webhook_delivery WHERE endpoint_id = %s AND state != 'delivered'",
            [endpoint.id],
        )
        left = env.cr.fetchone()[0]
        split = " + ".join(str(done) for done, _t in results)
        rates[workers] = total / busy
        failures = sum(serialisation_failures(log) for log in worker_logs)
        scaling = ""
        if workers > 1:
            linear = workers * rates[1]
            times = {2: "twice", 4: "four times"}.get(workers, f"{workers} x")
            scaling = f" = {rates[workers] / linear:.0%} of {times} one worker ({linear:,.0f}/s)"
        say(
            f"  {workers} worker(s): {rates[workers]:,.0f} deliveries/s{scaling};"
            f" {total} delivered ({split}) in {busy:.2f} s, {total / busy / workers:,.0f} per worker;"
            f" not delivered: {left}; serialisation failures logged: {failures}"
        )
    for log in logs:
        os.unlink(log)


def bench_latency(args, env, receiver, partner):
    say(f"latency: commit-to-receipt through the real cron trigger, {args.rounds} events one at a time")
    conf = Path(temp_path("bench-webhooks-", ".conf"))
    base = Path(args.config).read_text()
    lines = [
        line
        for line in base.splitlines()
        if not line.startswith(("db_name", "dbfilter", "http_interface", "http_port", "max_cron_threads", "workers"))
    ]
    port = free_port(args.http_port)
    if port != args.http_port:
        say(f"  port {args.http_port} is taken (./ov run serving?): the benchmark's server uses {port}")
    log = Path(temp_path("bench-webhooks-server-", ".log"))
    lines += [
        f"db_name = {args.db}",
        f"dbfilter = ^{args.db}$",
        "http_interface = 127.0.0.1",
        f"http_port = {port}",
        "max_cron_threads = 2",
    ]
    conf.write_text("\n".join(lines) + "\n")
    with open(log, "w") as log_file:  # its log and anything it prints before logging starts
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "odoo", "-c", str(conf), "--log-level=warn"),
                "--log-handler=odoo.addons.order_visibility_webhooks:DEBUG",  # claims that failed to serialise
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_server(server, port, log)
        # Warm-up: the first events also wait for the server to load its
        # registry and to run the scheduled actions that were due.
        warmup = 5
        visibilities = make_visibilities(env, partner, args.rounds + warmup)
        env.cr.commit()
        latencies = []
        for index, visibility in enumerate(visibilities):
            deliveries = env["order.visibility.webhook.delivery"]._emit_events(
                [{"visibility": visibility, "type": "order.status_changed", "data": {}}]
            )
            event_id = deliveries.event_id
            env.cr.commit()
            committed = time.time()
            deadline = time.monotonic() + (120 if index == 0 else 30)
            while (received := receiver.receipts().get(event_id)) is None:
                if time.monotonic() > deadline:
                    break
                if server.poll() is not None:
                    raise SystemExit(
                        f"latency: the Odoo server on port {port} stopped (exit {server.returncode}): see {log}"
                    )
                time.sleep(0.005)  # a benchmark polls the receiver's log; tests never sleep
            if received is None:
                say(f"  event {index}: not received within the deadline")
                continue
            if index >= warmup:
                latencies.append(received - committed)
        if latencies:
            latencies.sort()
            p50 = statistics.median(latencies)
            p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
            say(f"  p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
        # The server runs two cron threads, both dispatchers of the same outbox.
        failures = serialisation_failures(log)
        say(f"  serialisation failures in the server's log: {failures}" + (f" (see {log})" if failures else ""))
        if not failures:
            log.unlink()
    finally:
        server.terminate()
        server.wait(timeout=30)
        conf.unlink()


def wait_for_server(server, port, log):
    """Until the Odoo server on ``port`` answers /web/health; a one-line SystemExit
    naming the port and its log when it exits or does not answer in time."""
    deadline = time.monotonic() + SERVER_DEADLINE
    url = f"http://127.0.0.1:{port}/web/health"
    while True:
        if server.poll() is not None:
            raise SystemExit(
                f"latency: the Odoo server on port {port} exited at start (exit {server.returncode}): see {log}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(
                f"latency: the Odoo server on port {port} gave no /web/health answer in {SERVER_DEADLINE} s: see {log}"
            )
        time.sleep(0.5)  # a benchmark polls the server it started; tests never sleep


def bench_confirm(args, env, receiver, fixture):
    partner, product, endpoint = fixture
    say(f"confirm: action_confirm of a 5-line quotation up to its commit, {args.rounds} rounds interleaved")
    Automation = env["base.automation"].with_context(active_test=False)
    native = Automation.search([("name", "=", "Webhook bench: native")], limit=1)
    if not native:
        state_field = env["ir.model.fields"]._get("sale.order", "state")
        native = Automation.create(
            {
                "name": "Webhook bench: native",
                "model_id": env["ir.model"]._get_id("sale.order"),
                "trigger": "on_write",
                "trigger_field_ids": [(6, 0, state_field.ids)],
                "filter_pre_domain": "[('state', '!=', 'sale')]",
                "filter_domain": "[('state', '=', 'sale')]",
                "action_server_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Webhook bench: native post",
                            "model_id": env["ir.model"]._get_id("sale.order"),
                            "state": "webhook",
                            "webhook_url": receiver.url,
                        },
                    )
                ],
            }
        )
    native.action_server_ids.write({"webhook_url": receiver.url})
    setups = {
        "nothing": (False, False),
        "outbox (1 endpoint)": (True, False),
        "native webhook action": (False, True),
    }
    samples = {label: [] for label in setups}
    for round_ in range(args.rounds + 3):
        for label, (outbox, native_on) in setups.items():
            endpoint.write({"active": outbox})
            native.write({"active": native_on})
            env.cr.commit()
            # The first confirmation after a switch refills the caches the
            # switch cleared: untimed; the second one is measured.
            for timed in (False, True):
                order = env["sale.order"].create(
                    {
                        "partner_id": partner.id,
                        "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1}) for _i in range(5)],
                    }
                )
                env.cr.commit()
                env.invalidate_all()
                start = time.perf_counter()
                order.action_confirm()
                env.cr.commit()  # flush, pre-commit hooks (emission), commit, post-commit (native post)
                elapsed = time.perf_counter() - start
                if timed and round_ >= 3:
                    samples[label].append(elapsed)
    endpoint.write({"active": True})
    native.write({"active": False})
    env.cr.commit()
    base = statistics.median(samples["nothing"])
    for label, values in samples.items():
        median = statistics.median(values)
        say(f"  {label:<24} median {median * 1000:6.1f} ms  ratio {median / base:.2f}x")


def ensure_database(config_path, dbname):
    """Create ``dbname`` with the webhooks addon and automation rules when it is missing."""
    import configparser

    import psycopg2

    options = configparser.ConfigParser()
    options.read(config_path)
    get = lambda key: options.get("options", key, fallback=None)  # noqa: E731
    connect = {"dbname": "postgres", "host": get("db_host"), "port": get("db_port"), "user": get("db_user")}
    if get("db_password"):
        connect["password"] = get("db_password")
    with psycopg2.connect(**{k: v for k, v in connect.items() if v}) as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        if cr.fetchone():
            return
    say(f"creating {dbname} (order_visibility_webhooks, base_automation): a few minutes")
    subprocess.run(
        [sys.executable, "-m", "odoo", "-c", config_path, "-d", dbname, "-i",
         "order_visibility_webhooks,base_automation", "--stop-after-init", "--log-level=warn"],
        check=True,
    )  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", default="ov_bench_webhooks")
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--http-port", type=int, default=int(os.environ.get("OV_HTTP_PORT", "8069")))
    parser.add_argument("only", nargs="*", default=["throughput", "latency", "confirm"])
    args = parser.parse_args(argv)
    ensure_database(args.config, args.db)
    multiprocessing.set_start_method("fork")
    receiver = Receiver()
    env = odoo_env(args.config, args.db)
    try:
        say(f"webhooks benchmark on {args.db} ({BUDGETS})")
        partner, product, endpoint = fixtures(env, receiver.url)
        if "throughput" in args.only:
            bench_throughput(args, env, receiver, partner, endpoint)
        if "confirm" in args.only:
            bench_confirm(args, env, receiver, (partner, product, endpoint))
        if "latency" in args.only:
            bench_latency(args, env, receiver, partner)
        say(json.dumps({"done": True}))
    finally:
        env.cr.close()
        receiver.stop()


if __name__ == "__main__":
    main()
