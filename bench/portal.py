#!/usr/bin/env python3
"""Benchmark of the customer portal (order_visibility_portal).

Run through ``./ov bench portal`` (bench/core.py starts this script on the
bulk database), or alone on another database of the suite with the demo
scenario, e.g. the small one::

    python bench/portal.py --config=.ov/bench.conf --db=ov_bench_small

Prints figures, never passes or fails. An Odoo HTTP server is started on
the database (no cron, no worker), and over real HTTP:

- the order page ``/my/orders/<id>``, as the demo's portal user
  (harbor.portal, logged in through /web/session/authenticate), on the
  customer's order with the most carrier milestones;
- the card alone ``/my/orders/<id>/where_is_my_order`` (the live refresh);
- the tracking API ``/order_visibility/track/<id>?access_token=...``.

Each is requested ``--rounds`` times after a warm-up; the median, p95 and
max of the wall-clock time the client sees, and the server's query counts
for the request (read from the server's werkzeug log line), are printed,
with the machine's load average before and after (wall-clock times grow
with whatever else runs on it). Budget (docs/dev/architecture.md): the
portal page median <= 150 ms at 100,000 orders, query count constant in
data size.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from figures import load_average, percentile, say  # bench/ is the script's folder

ODOO = (sys.executable, "-m", "odoo")
PAGE_MEDIAN_BUDGET_MS = 150
PORTAL_LOGIN = "harbor.portal"
PORTAL_PASSWORD = "harbor-portal-demo"  # addons/order_visibility_demo/data/res_users_portal_data.xml
# The werkzeug line of a request: "GET <path> HTTP/1.1" <status> - <queries> <query time> <other time>
REQUEST_LINE = re.compile(r'"GET (\S+) HTTP/[\d.]+" (\d{3}) \S+ (\d+) [\d.]+ [\d.]+')


def odoo_env(config_path, dbname):
    from odoo import api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", config_path, "--log-level=warn"], setup_logging=True)
    registry = Registry(dbname)
    return api.Environment(registry.cursor(), api.SUPERUSER_ID, {})


def pick_order(env):
    """(login, order id, order name, its access token, milestones, orders in
    the database): the portal user's confirmed order with the most milestones."""
    user = env["res.users"].search([("login", "=", PORTAL_LOGIN)], limit=1)
    if not user:
        return None
    env.cr.execute("SELECT count(*) FROM sale_order")
    total = env.cr.fetchone()[0]
    orders = env["sale.order"].with_user(user).search([("state", "=", "sale")])
    if not orders:
        return None
    counts = dict(
        env["order.visibility.milestone"]._read_group(
            [("sale_order_id", "in", orders.ids)], ["sale_order_id"], ["__count"]
        )
    )
    order = max(orders.sudo(), key=lambda o: (counts.get(o, 0), -o.id))
    token = order._portal_ensure_token()
    env.cr.commit()
    return user.login, order.id, order.name, token, counts.get(order, 0), total


def start_server(config_path, dbname, port, logfile):
    conf = Path(tempfile.mkstemp(suffix=".conf")[1])
    lines = [
        line
        for line in Path(config_path).read_text().splitlines()
        if not line.startswith(("db_name", "dbfilter", "http_port", "max_cron_threads", "workers", "logfile"))
    ]
    lines += [f"db_name = {dbname}", f"dbfilter = ^{dbname}$", f"http_port = {port}", "max_cron_threads = 0"]
    conf.write_text("\n".join(lines) + "\n")
    server = subprocess.Popen(
        [*ODOO, "-c", str(conf), "--log-level=warn", "--log-handler=werkzeug:INFO", f"--logfile={logfile}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the Odoo server stopped (log: {logfile})")
        try:
            if requests.get(f"{base}/web/health", timeout=5).ok:
                return server, conf, base
        except requests.ConnectionError:
            pass
        time.sleep(0.2)  # a benchmark waits for its server; tests never sleep
    server.terminate()
    raise RuntimeError(f"the Odoo server did not answer within 180 s (log: {logfile})")


def query_counts(logfile, path):
    """The query counts the server logged for GET ``path``, in order."""
    counts = []
    for line in Path(logfile).read_text(errors="replace").splitlines():
        match = REQUEST_LINE.search(line)
        if match and match[1] == path:
            counts.append(int(match[3]))
    return counts


def measure(session, base, path, rounds, logfile):
    session.get(base + path, timeout=60).raise_for_status()  # warm-up: templates, assets, query plans
    already = len(query_counts(logfile, path))
    timings = []
    for _round in range(rounds):
        started = time.perf_counter()
        response = session.get(base + path, timeout=60)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    time.sleep(0.5)  # let the server write its last log lines
    counts = query_counts(logfile, path)[already:]
    return timings, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--http-port", type=int, default=int(os.environ.get("OV_BENCH_PORTAL_PORT", "8179")))
    args = parser.parse_args(argv)
    env = odoo_env(args.config, args.db)
    try:
        picked = pick_order(env)
    finally:
        env.cr.close()
    if not picked:
        say(f"portal: no portal user {PORTAL_LOGIN} with a confirmed order in {args.db} (demo scenario), skipped")
        return 0
    login, order_id, order_name, token, milestones, total = picked
    say(f"portal benchmark on {args.db}: {total:,} orders; {order_name} of {login}, {milestones} milestones")
    say(f"  before: {load_average()}")
    logfile = Path(tempfile.mkstemp(suffix=".log")[1])
    server, conf, base = start_server(args.config, args.db, args.http_port, logfile)
    try:
        buyer = requests.Session()
        login = buyer.post(
            f"{base}/web/session/authenticate",
            json={"jsonrpc": "2.0", "params": {"db": args.db, "login": PORTAL_LOGIN, "password": PORTAL_PASSWORD}},
            timeout=60,
        )
        if not (login.ok and login.json().get("result")):
            say(f"portal: {PORTAL_LOGIN} could not log in (password changed?), skipped")
            return 0
        machine = requests.Session()  # the tracking API: the token only, no session
        cases = [
            ("order page (portal user)", buyer, f"/my/orders/{order_id}", PAGE_MEDIAN_BUDGET_MS),
            ("card refresh (portal user)", buyer, f"/my/orders/{order_id}/where_is_my_order", None),
            ("tracking API (token)", machine, f"/order_visibility/track/{order_id}?access_token={token}", None),
        ]
        say(f"  {args.rounds} requests each after a warm-up, over HTTP to a local server (no worker, no cron)")
        say(f"  {'request':<28} {'median':>9} {'p95':>9} {'max':>9} {'queries':>8}")
        for label, session, path, budget in cases:
            timings, counts = measure(session, base, path, args.rounds, logfile)
            median, p95 = statistics.median(timings), percentile(timings, 0.95)
            queries = "/".join(map(str, sorted(set(counts)))) or "?"
            verdict = "" if budget is None else ("  ok" if median <= budget else "  OVER BUDGET")
            say(f"  {label:<28} {median:>6.1f} ms {p95:>6.1f} ms {max(timings):>6.1f} ms {queries:>8}{verdict}")
        say(f"  budget: order page median <= {PAGE_MEDIAN_BUDGET_MS} ms at 100,000 orders")
        say(f"  after: {load_average()}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        conf.unlink()
        logfile.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
