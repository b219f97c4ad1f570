#!/usr/bin/env python3
"""Benchmarks of the core addon against the performance budgets of docs/dev/architecture.md.

Run through ``./ov bench`` (which creates the databases); prints figures,
never passes or fails. Benchmarks, in this order:

    generate    bulk orders (addons/order_visibility_demo/bulk.py) until the
                benchmark database holds --orders of them, then one
                reconciliation and one sweep to settle them (done once)
    reconcile   the nightly reconciliation over every order
    sweep       the exception sweep: the full pass of the nightly
                reconciliation, then steady-state sweeps 15 min, 1 h, 6 h,
                12 h and 1 day later (--sweep-horizons, in minutes), each
                visiting the orders due only, with their number. At other
                sizes, on a copy of a benchmark database (PostgreSQL's
                CREATE DATABASE ov_bench_300k TEMPLATE ov_bench, or
                TEMPLATE ov_bench_small then -u of the suite for 10,000):
                python bench/core.py --config=.ov/bench.conf
                --db=ov_bench_300k --small-db=ov_bench_small
                --base-db=ov_bench_base --orders=300000 generate sweep
    confirm     action_confirm of a 10-line order, each database with the
                suite beside the same database without it: the small
                database beside the same apps without the suite, the bulk
                database beside its copy without the suite (ov_bench_nosuite,
                made once from the template of install below), interleaved
                in one run, with query counts
    webhooks    bench/webhooks.py on its own database ov_bench_webhooks
                (dispatcher throughput, commit-to-receipt latency, emitting
                cost next to Odoo's native webhook action)
    dashboard   the control tower's aggregated call (bench/dashboard.py),
                no filter and one filter of each kind
    install     installing the suite into a copy of the bulk database
                without it, with the installation's progress lines
                (bench/install.py; the copy without the suite is made once)
    portal      the customer portal over real HTTP (bench/portal.py): the
                order page and its card as the demo's portal user, and the
                tracking API, with the server's query counts
    service_levels  the service-level report by month x warehouse, the
                control tower's service-level strip, and the queries of
                measuring one shipped order of 1 to 50 lines
                (bench/service_levels.py)
    load        many users at once (bench/load.py): N clients (default 8,
                OV_LOAD_CLIENTS) through the whole flow (quotation,
                confirmation, delivery, invoice, payment; OV_LOAD_ORDERS
                each, default 10) on a prefork server (OV_LOAD_WORKERS,
                default 4), without the suite (copy of the base database)
                and with it and an active webhook endpoint (copy of the
                small one), in alternating rounds (OV_LOAD_ROUNDS, 2):
                orders/s, p50/p95 per step, client errors by class, Odoo's
                retries; then the outbox drained, every order's events and
                stage checked
"""

import argparse
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path

from figures import say  # bench/ is the script's folder

from odoo import api
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.service import server
from odoo.tools import config

_logger = logging.getLogger("order_visibility.bench")
BENCHMARKS = (
    "generate", "reconcile", "sweep", "confirm", "webhooks", "dashboard", "service_levels", "portal", "install",
    "load",
)  # fmt: skip


def open_env(dbname):
    registry = Registry(dbname)
    cr = registry.cursor()
    return api.Environment(cr, api.SUPERUSER_ID, {})


def dataset(env):
    cr = env.cr
    cr.execute("SELECT count(*) FROM sale_order")
    orders = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM sale_order_line")
    lines = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM order_visibility_exception WHERE state != 'resolved'")
    exceptions = cr.fetchone()[0]
    cr.execute("SELECT stage, count(*) FROM order_visibility GROUP BY stage ORDER BY count(*) DESC")
    stages = ", ".join(f"{stage} {count}" for stage, count in cr.fetchall())
    return orders, lines, exceptions, stages


def print_dataset(env):
    orders, lines, exceptions, stages = dataset(env)
    say(f"  database: {orders:,} orders, {lines:,} lines, {exceptions:,} open exceptions")
    say(f"  stages:   {stages}")


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


# ----------------------------------------------------------------------


def bench_generate(env, orders):
    from odoo.addons.order_visibility_demo.bulk import BulkGenerator

    generator = BulkGenerator(env)
    existing = generator.existing()
    say(f"generate: {existing:,} bulk orders present, {orders:,} wanted")
    if existing >= orders:
        print_dataset(env)
        return
    figures, seconds = timed(lambda: generator.run(orders))
    templates, template_seconds = figures["templates"]
    copies, copy_seconds = figures["copies"]
    say(f"  {templates} template orders through real flows: {template_seconds:.1f} s")
    say(f"  {copies:,} copies in SQL: {copy_seconds:.1f} s ({copies / copy_seconds:,.0f} orders/s)")
    drift, seconds = timed(env["order.visibility"]._cron_reconcile)
    say(f"  settling reconciliation: {seconds:.1f} s, drift {drift} (copies whose stored stage was wrong)")
    stats, seconds = timed(env["order.visibility"]._cron_exception_sweep)
    env.cr.commit()
    opened = sum(o for o, _r in stats.values())
    say(f"  settling sweep: {seconds:.1f} s, {opened:,} exceptions opened")
    print_dataset(env)


def bench_reconcile(env):
    say("reconcile: nightly reconciliation over every order (budget 15 s for 100,000), then its full exception pass")
    env.invalidate_all()
    # The two parts of the nightly job, timed apart: the recompute of every
    # order, and the full exception pass it ends with (_sweep_exceptions).
    model = type(env["order.visibility"])
    sweep, spent = model._sweep_exceptions, []

    def timed_sweep(self, *args, **kwargs):
        result, seconds = timed(lambda: sweep(self, *args, **kwargs))
        spent.append(seconds)
        return result

    model._sweep_exceptions = timed_sweep
    try:
        drift, seconds = timed(env["order.visibility"]._cron_reconcile)
    finally:
        model._sweep_exceptions = sweep
    orders = dataset(env)[0]
    recompute = seconds - sum(spent)
    say(
        f"  recompute {recompute:.1f} s for {orders:,} orders ({orders / recompute:,.0f} orders/s), drift {drift}; "
        f"full exception pass {sum(spent):.1f} s; whole job {seconds:.1f} s"
    )


# Steady-state sweeps measured this long after the full pass: one sweep
# interval (the budget), then longer gaps, to show the cost follows the
# orders due, not the orders in the database.
SWEEP_HORIZONS = (15, 60, 360, 720, 1440)  # minutes


def due_orders(env, at):
    """How many orders a sweep at ``at`` visits: due, or with a snooze ended."""
    cr = env.cr
    cr.execute(
        """SELECT count(*) FROM (
               SELECT id FROM order_visibility WHERE next_check_at <= %s
                UNION
               SELECT visibility_id FROM order_visibility_exception
                WHERE state = 'snoozed' AND snoozed_until <= %s) due""",
        (at, at),
    )
    return cr.fetchone()[0]


def bench_sweep(env, horizons=SWEEP_HORIZONS):
    """The full pass (as the nightly reconciliation makes it, committed),
    then steady-state sweeps as the scheduler would run them 15 minutes to a
    day later: each from the same committed state, under a frozen clock,
    rolled back (the scheduler's commits are left out)."""
    from datetime import timedelta
    from unittest.mock import patch

    from freezegun import freeze_time

    from odoo import fields

    Visibility = env["order.visibility"]
    orders = dataset(env)[0]
    say(f"sweep: exception sweep at {orders:,} orders (budgets: full pass 10 s, steady state 2 s at 100,000)")
    env.invalidate_all()
    stats, seconds = timed(lambda: Visibility._sweep_exceptions(full=True))
    env.cr.commit()
    changes = ", ".join(f"{code} +{o}/-{r}" for code, (o, r) in stats.items() if o or r) or "no change"
    visibilities = Visibility.search_count([])
    say(f"  full pass (nightly): {seconds:.2f} s, {visibilities:,} orders visited ({changes})")
    started = fields.Datetime.now()
    cron_class = type(env["ir.cron"])
    for minutes in horizons:
        label = f"{minutes} min" if minutes < 60 else f"{minutes / 60:g} h"
        at = started + timedelta(minutes=minutes)
        due = due_orders(env, at)
        env.invalidate_all()
        # Timed outside the frozen clock (freezegun freezes perf_counter too).
        begin = time.perf_counter()
        with (
            freeze_time(at),
            patch.object(cron_class, "_commit_progress", lambda self, processed=0, **kw: float("inf")),
        ):
            stats = Visibility._sweep_exceptions()
            env.flush_all()
        seconds = time.perf_counter() - begin
        env.cr.rollback()
        changes = ", ".join(f"{code} +{o}/-{r}" for code, (o, r) in stats.items() if o or r) or "no change"
        say(f"  steady state {label} later: {seconds:.2f} s, {due:,} due orders visited ({changes})")
    print_dataset(env)


# ----------------------------------------------------------------------


def confirm_fixture(env):
    """10 stocked products and a customer, created once per database."""
    Product = env["product.product"]
    products = Product.search([("default_code", "=like", "OVBENCH-%")], order="default_code")
    if len(products) < 10:
        products |= Product.create(
            [
                {
                    "name": f"Benchmark item {i}",
                    "default_code": f"OVBENCH-{i:02d}",
                    "type": "consu",
                    "is_storable": True,
                    "list_price": 100.0,
                    "standard_price": 50.0,
                }
                for i in range(len(products), 10)
            ]
        )
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        env["stock.quant"].with_context(inventory_mode=True).create(
            [
                {"product_id": p.id, "location_id": warehouse.lot_stock_id.id, "inventory_quantity": 10**6}
                for p in products
            ]
        ).action_apply_inventory()
    customer = env["res.partner"].search([("ref", "=", "OVBENCH")], limit=1) or env["res.partner"].create(
        {"name": "Benchmark Customer", "ref": "OVBENCH", "is_company": True}
    )
    env.cr.commit()
    return customer, products


def confirm_once(env, customer, products):
    """Seconds and queries of one confirmation, up to what its commit runs
    first (the ORM flush and the pre-commit hooks: the engine); rolled back.

    As on a server: the quotation is created and committed (with the suite,
    its visibility record comes from the after-commit pass, as after any
    commit), and someone confirms it in a later request, in a new cursor and
    transaction: nothing of the quotation's in its caches, the registry's
    caches warm. The quotation is deleted afterwards.
    """
    order = env["sale.order"].create(
        {
            "partner_id": customer.id,
            "order_line": [Command.create({"product_id": p.id, "product_uom_qty": 2}) for p in products],
        }
    )
    env.cr.commit()
    try:
        with env.registry.cursor() as cr:
            request_env = api.Environment(cr, env.uid, {})
            queries = cr.sql_log_count
            started = time.perf_counter()
            order.with_env(request_env).action_confirm()
            cr.flush()
            seconds = time.perf_counter() - started
            queries = cr.sql_log_count - queries
            assert order.with_env(request_env).state == "sale", f"order not confirmed in {cr.dbname}"
            cr.rollback()
    finally:
        order.unlink()
        env.cr.commit()
    return seconds, queries


def bench_confirm(envs, rounds, warmup=3):
    """``envs``: {label: (env, label of the database without the suite it is
    compared with, None for such a database)}, confirmed in turn."""
    say(f"confirm: action_confirm of a 10-line order, {rounds} rounds interleaved (budget 1.05x, 8 extra queries)")
    fixtures = {label: confirm_fixture(env) for label, (env, _baseline) in envs.items()}
    samples = {label: ([], []) for label in envs}
    for index in range(warmup + rounds):
        for label, (env, _baseline) in envs.items():
            seconds, queries = confirm_once(env, *fixtures[label])
            if index >= warmup:
                samples[label][0].append(seconds)
                samples[label][1].append(queries)
    medians = {
        label: (statistics.median(times) * 1000, statistics.median(queries))
        for label, (times, queries) in samples.items()
    }
    say(f"  {'database':<44} {'median ms':>10} {'p90 ms':>8} {'ratio':>6} {'queries':>8} {'extra':>6}")
    for label, (times, _queries) in samples.items():
        median_ms, median_queries = medians[label]
        base_ms, base_queries = medians[envs[label][1] or label]
        p90_ms = statistics.quantiles(times, n=10)[-1] * 1000
        say(
            f"  {label:<44} {median_ms:>10.1f} {p90_ms:>8.1f} {median_ms / base_ms:>5.2f}x "
            f"{median_queries:>8.0f} {median_queries - base_queries:>+6.0f}"
        )


def bulk_without_suite(config_path, bulk_db):
    """The bulk database without the suite: a copy (kept between runs) of
    the template bench/install.py makes, the bulk database with the suite
    uninstalled (its orders stay)."""
    from install import Server, make_template  # bench/ is the script's folder

    server = Server(config_path)
    template, dbname = f"{bulk_db}_preinstall", f"{bulk_db}_nosuite"
    if not server.exists(dbname):
        if not server.exists(template):
            make_template(server, config_path, bulk_db, template)
        server.copy(template, dbname)
    return dbname


# ----------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True, help="the suite and the bulk orders")
    parser.add_argument("--small-db", required=True, help="the suite, no bulk orders")
    parser.add_argument("--base-db", required=True, help="the same apps without the suite")
    parser.add_argument("--webhooks-db", default="ov_bench_webhooks", help="the suite and the demo, for webhooks")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--confirm-rounds", type=int, default=60, help="confirmations per database (a ratio of medians, to 1 %%)"
    )
    parser.add_argument(
        "--sweep-horizons",
        default=",".join(map(str, SWEEP_HORIZONS)),
        help="minutes after the full pass at which the sweep benchmark measures a steady-state sweep",
    )
    parser.add_argument("only", nargs="*", help=f"benchmarks to run, among {', '.join(BENCHMARKS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}: choose among {', '.join(BENCHMARKS)}")
    only = args.only or BENCHMARKS
    # The benchmarks that run as scripts of their own, with their own
    # processes and databases: (name, script, database arguments).
    scripts = [
        # Receiver, dispatchers and a cron server on their own database.
        ("webhooks", "webhooks.py", [f"--db={args.webhooks_db}"]),
        # Odoo's own installation, in a copy of the bulk database.
        ("install", "install.py", [f"--db={args.db}"]),
        # Two prefork servers on copies of the small and base databases, N HTTP clients.
        ("load", "load.py", [f"--suite-db={args.small_db}", f"--base-db={args.base_db}"]),
        # An Odoo HTTP server on the bulk database, measured over HTTP.
        ("portal", "portal.py", [f"--db={args.db}"]),
    ]
    for name, script, databases in scripts:
        if name in only:
            script_path = Path(__file__).with_name(script)
            subprocess.run([sys.executable, str(script_path), f"--config={args.config}", *databases], check=False)
    run_apart = {name for name, _script, _databases in scripts}
    only = [name for name in only if name not in run_apart]
    if not only:
        return 0
    config.parse_config(["-c", args.config, "--log-level=warn"], setup_logging=True)
    server.start(preload=[], stop=True)
    # Made before any connection to the bulk database (it is copied from it once).
    bulk_base_db = bulk_without_suite(args.config, args.db) if "confirm" in only and args.db != args.small_db else None
    env = open_env(args.db)
    try:
        if "generate" in only:
            bench_generate(env, args.orders)
        if "reconcile" in only:
            bench_reconcile(env)
        if "sweep" in only:
            bench_sweep(env, [int(minutes) for minutes in args.sweep_horizons.split(",") if minutes])
        if "confirm" in only:
            base, small = f"without the suite ({args.base_db})", f"with the suite ({args.small_db})"
            envs = {base: (open_env(args.base_db), None), small: (open_env(args.small_db), base)}
            if bulk_base_db:
                # The bulk database is compared with itself without the suite.
                bulk_base = f"bulk, without the suite ({bulk_base_db})"
                envs[bulk_base] = (open_env(bulk_base_db), None)
                envs[f"bulk, with the suite ({args.db})"] = (env, bulk_base)
            try:
                bench_confirm(envs, args.confirm_rounds)
            finally:
                for other, _baseline in envs.values():
                    if other is not env:
                        other.cr.close()
        if "dashboard" in only:
            from dashboard import bench_dashboard  # bench/ is the script's folder

            bench_dashboard(env, args.rounds)
        if "service_levels" in only:
            from service_levels import bench_service_levels  # bench/ is the script's folder

            bench_service_levels(env, args.rounds)
    finally:
        env.cr.rollback()
        env.cr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
