"""./ov bench: the benchmark databases, kept between runs, and bench/core.py."""

import hashlib
import subprocess

from ovtool.odoo_run import install_addons, install_suite, installed_addons, odoo_cmd, setup, write_odoo_conf
from ovtool.settings import ADDONS, BASE_APPS, REPO, STATE, SetupError, say

BENCH_DB = "ov_bench"  # the suite, the demo scenario and the bulk orders
BENCH_SMALL_DB = "ov_bench_small"  # the suite and the demo scenario only
BENCH_BASE_DB = "ov_bench_base"  # the same Odoo apps without the suite
BENCH_WEBHOOKS_DB = "ov_bench_webhooks"  # the suite and the demo scenario, for bench/webhooks.py
# Which databases each benchmark reads (bench/core.py describes the benchmarks).
BENCH_NEEDS = {
    "generate": (BENCH_DB,),
    "reconcile": (BENCH_DB,),
    "sweep": (BENCH_DB,),
    "confirm": (BENCH_DB, BENCH_SMALL_DB, BENCH_BASE_DB),
    "webhooks": (BENCH_WEBHOOKS_DB,),
    "dashboard": (BENCH_DB,),
    "service_levels": (BENCH_DB,),
    "portal": (BENCH_DB,),
    "install": (BENCH_DB,),
    "load": (BENCH_SMALL_DB, BENCH_BASE_DB),  # copied, the copies dropped at the end
}


def suite_fingerprint():
    """A digest of the suite's addon files: a benchmark database built from
    other files is brought up to date (``-u``) before it is measured."""
    digest = hashlib.sha256()
    for addon in ADDONS:
        folder = REPO / addon if (REPO / addon).is_dir() else REPO / "addons" / addon
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_bench_db(py, location, db, dbname, fresh):
    """The benchmark database ``dbname`` with the suite installed from the current files."""
    if dbname == BENCH_BASE_DB:
        if fresh or installed_addons(db, dbname, BASE_APPS) != set(BASE_APPS):
            db.drop(dbname)
            install_addons(py, location, db, dbname, BASE_APPS, what="the same apps without the suite")
        return
    stamp = STATE / f"bench-{dbname}.fingerprint"
    fingerprint = suite_fingerprint()
    if fresh or installed_addons(db, dbname) != set(ADDONS):
        db.drop(dbname)
        install_suite(py, location, db, dbname)
    elif not stamp.is_file() or stamp.read_text() != fingerprint:
        logfile = STATE / f"update-{dbname}.log"
        say(f"bringing the suite in {dbname} up to date with the checkout (log: {logfile})")
        cmd = odoo_cmd(py, location, db, dbname, "-u", ",".join(ADDONS), "--stop-after-init", f"--logfile={logfile}")
        if subprocess.run(cmd, check=False).returncode:
            raise SetupError(f"updating the suite in {dbname} failed: see {logfile}")
    stamp.write_text(fingerprint)


def cmd_bench(args):
    """Benchmarks (budgets: docs/dev/architecture.md) on dedicated databases, kept between runs."""
    unknown = sorted(set(args.only) - set(BENCH_NEEDS))
    if unknown:
        raise SetupError(f"unknown benchmark {', '.join(unknown)}: choose among {', '.join(BENCH_NEEDS)}")
    py, location, db = setup()
    # --small: the benchmarks of the bulk database read the small one instead
    # (trying a benchmark in seconds; its figures say nothing of the budgets).
    bulk_db = BENCH_SMALL_DB if getattr(args, "small", False) else BENCH_DB
    if bulk_db == BENCH_SMALL_DB and "generate" in (args.only or BENCH_NEEDS):
        raise SetupError("--small never generates bulk orders: name the benchmarks to run (e.g. service_levels)")
    needed = dict.fromkeys(
        bulk_db if dbname == BENCH_DB else dbname for name in (args.only or BENCH_NEEDS) for dbname in BENCH_NEEDS[name]
    )
    for dbname in needed:
        ensure_bench_db(py, location, db, dbname, args.fresh)
    cfg = write_odoo_conf(STATE / "bench.conf", location, db, bulk_db)
    cmd = [
        py, str(REPO / "bench" / "core.py"), f"--config={cfg}",
        f"--db={bulk_db}", f"--small-db={BENCH_SMALL_DB}", f"--base-db={BENCH_BASE_DB}",
        f"--webhooks-db={BENCH_WEBHOOKS_DB}", f"--orders={args.orders}", *args.only,
    ]  # fmt: skip
    return subprocess.run(cmd, cwd=REPO, check=False).returncode
