"""Set up, run and test the Order Visibility suite on a local Odoo 19.

    ./ov run [--update] [--replica]
                              install what is missing, start a private PostgreSQL
                              cluster, create the demo database and serve Odoo on
                              localhost:8069 (--update: upgrade the suite first;
                              --replica: read-only requests on a hot standby)
    ./ov test [--keep] [ARGS] same set-up, then run every test in a throwaway
                              database (ARGS: pytest paths and options)
    ./ov test --odoo-compat   Odoo's own sale, sale_stock, purchase_stock and
                              stock_dropshipping tests without and with the
                              suite, compared
    ./ov lint [--fix]         ruff and pylint-odoo over the repository
    ./ov pot                  regenerate the translation templates
    ./ov readme [--check]     write each addon's README.rst from its readme/
                              fragments (--check: only say which are stale)
    ./ov bench                benchmarks (figures, not pass/fail) on a bulk database
    ./ov pg                   start the private PostgreSQL cluster and say how to
                              connect to it
    ./ov status               where the state and the cluster are, and whether
                              the cluster runs
    ./ov stop                 stop the private PostgreSQL cluster (and its standby)
    ./ov shell                open an Odoo shell on the run database

Only the Python standard library is used here: this script is what installs
everything else.  See docs/dev/ov.md for the environment variables it honours.
"""

import argparse
import os
import shutil
import subprocess
import sys

from ovtool.bench import cmd_bench
from ovtool.cluster import Database, Standby
from ovtool.compat import cmd_odoo_compat
from ovtool.odoo_run import install_suite, installed_addons, odoo_cmd, run_dbname, setup, write_odoo_conf
from ovtool.python_env import ensure_python, python_for_suite
from ovtool.readme import cmd_readme
from ovtool.settings import ADDONS, PRODUCT_ADDONS, REPO, STATE, TEST_APPS, TEST_PATHS, SetupError, say
from ovtool.system import check_port_free, ensure_debian_packages


def cmd_run(args):
    if args.replica and Database().external:
        Standby().start()  # says why not, before any set-up
    port = int(os.environ.get("OV_HTTP_PORT") or 8069)
    check_port_free(port)
    py, location, db = setup()
    dbname = run_dbname()
    if not db.exists(dbname) or installed_addons(db, dbname) != set(ADDONS):
        install_suite(py, location, db, dbname)
    elif args.update:
        say(f"updating the suite in database {dbname}")
        cmd = odoo_cmd(py, location, db, dbname, "-u", ",".join(ADDONS), "--stop-after-init")
        if subprocess.run(cmd, check=False).returncode:
            raise SetupError(f"updating the suite in {dbname} failed: see the output above")
    replica_args = []
    if args.replica:
        standby = Standby(db)
        standby.start()
        replica_args = standby.odoo_args()
        say(f"read-only requests go to the {standby.describe()}")
    check_port_free(port)
    url = f"http://localhost:{port}"
    say(f"Odoo is starting on {url}  (database {dbname}, login admin / password admin; Ctrl-C to stop)")
    cmd = odoo_cmd(py, location, db, dbname, f"--http-port={port}", *replica_args)
    os.execv(py, cmd)


def cmd_test(args):
    if args.odoo_compat:
        return cmd_odoo_compat(args)
    py, location, db = setup()
    if not shutil.which("chromium") and not shutil.which("google-chrome"):
        raise SetupError("Chromium is needed for the browser tests and is not installed: `apt-get install chromium`")
    dbname = f"ov_test_{os.getpid()}"
    # One configuration file per run: runs started together must not read
    # each other's (its HTTP port above all).
    cfg = STATE / f"pytest-odoo-{dbname}.conf"
    try:
        install_suite(py, location, db, dbname, TEST_APPS)
        write_odoo_conf(cfg, location, db, dbname)
        cmd = [
            py, "-m", "pytest",
            f"--odoo-config={cfg}",
            f"--odoo-database={dbname}",
            "--odoo-http",
            "--odoo-log-level=warn",
            *(args.pytest_args or TEST_PATHS),
        ]  # fmt: skip
        say(f"running the tests in throwaway database {dbname}")
        res = subprocess.run(cmd, cwd=REPO, check=False)
        return res.returncode
    finally:
        cfg.unlink(missing_ok=True)
        if not args.keep:
            db.drop(dbname)


def cmd_lint(args):
    ensure_debian_packages(need_server=False)
    py = python_for_suite()
    ensure_python(py)
    targets = [a for a in TEST_PATHS if a != "tests"]
    python_targets = [*targets, "tests", "ov", "ovtool", "conftest.py", "docs"] + [
        p for p in ("bench",) if (REPO / p).is_dir()
    ]
    steps = [
        [py, "-m", "ruff", "check", *(["--fix"] if args.fix else []), *python_targets],
        [py, "-m", "ruff", "format", *([] if args.fix else ["--check", "--diff"]), *python_targets],
        [py, "-m", "pylint", "--rcfile=.pylintrc", *targets],
    ]
    failed = 0
    for step in steps:
        say(" ".join(step[1:4]))
        failed |= subprocess.run(step, cwd=REPO, check=False).returncode != 0
    say("lint clean" if not failed else "lint found problems")
    return 1 if failed else 0


def cmd_pot(args):
    """Regenerate each addon's i18n/<addon>.pot from the run database."""
    py, location, db = setup()
    dbname = run_dbname()
    if installed_addons(db, dbname) != set(ADDONS):
        raise SetupError(f"database {dbname} does not have the suite installed: run ./ov run first")
    cfg = write_odoo_conf(STATE / "i18n.conf", location, db, dbname)
    for addon in PRODUCT_ADDONS:
        (REPO / addon / "i18n").mkdir(exist_ok=True)
    res = subprocess.run(
        [py, "-m", "odoo", "i18n", "export", "-c", str(cfg), "-d", dbname, *PRODUCT_ADDONS], check=False
    )
    return res.returncode


def cmd_stop(args):
    standby = Standby()
    if not standby.external and standby.running():
        standby.stop()  # before its primary, which it streams from
    Database().stop()


def cmd_status(args):
    db = Database()
    say(f"state in {STATE}")
    say(f"{db.describe()}: {'running' if db.external or db.running() else 'not running'}")
    standby = Standby(db)
    if not db.external and (standby.pgdata / "PG_VERSION").exists():
        say(f"{standby.describe()}: {'running' if standby.running() else 'not running'}")


def cmd_pg(args):
    """Start the private cluster (if needed) and say how to connect to it."""
    db = Database()
    db.start()
    say(f"{db.describe()}: running; connect with  psql -h {db.host} -p {db.port} -U {db.user} -d postgres")


def cmd_shell(args):
    py, location, db = setup()
    os.execv(py, odoo_cmd(py, location, db, run_dbname(), command=("shell",)))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="ov", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="set up and serve Odoo with the suite on localhost:8069")
    run_parser.add_argument("--update", action="store_true", help="upgrade the suite's addons first (after a pull)")
    run_parser.add_argument(
        "--replica",
        action="store_true",
        help="also start a hot standby of the private cluster (port 5440) and let Odoo serve its read-only"
        " requests from it (db_replica_host)",
    )
    run_parser.set_defaults(func=cmd_run)
    test = sub.add_parser("test", help="set up and run every test in a throwaway database")
    test.add_argument("--keep", action="store_true", help="keep the test database afterwards")
    test.add_argument(
        "--odoo-compat",
        action="store_true",
        help="run Odoo's own sale, sale_stock, purchase_stock and stock_dropshipping tests"
        " without and with the suite, and compare",
    )
    test.add_argument(
        "pytest_args", nargs=argparse.REMAINDER, help="paths or options passed to pytest instead of the full suite"
    )
    test.set_defaults(func=cmd_test)
    lint = sub.add_parser("lint", help="ruff and pylint-odoo over the whole repository")
    lint.add_argument("--fix", action="store_true", help="let ruff fix and format what it can")
    lint.set_defaults(func=cmd_lint)
    bench = sub.add_parser(
        "bench", help="benchmarks against the performance budgets on a bulk database (not part of the tests)"
    )
    bench.add_argument("--orders", type=int, default=100_000, help="bulk orders in the benchmark database")
    bench.add_argument("--fresh", action="store_true", help="drop and rebuild the benchmark databases first")
    bench.add_argument(
        "--small", action="store_true", help="run on ov_bench_small (suite and demo only) instead of the bulk database"
    )
    bench.add_argument("only", nargs="*", help="benchmarks to run (default: all)")
    bench.set_defaults(func=cmd_bench)
    sub.add_parser("pot", help="regenerate the addons' translation templates").set_defaults(func=cmd_pot)
    readme = sub.add_parser("readme", help="write each addon's README.rst from its readme/ fragments")
    readme.add_argument("--check", action="store_true", help="write nothing; exit 1 naming the stale README.rst")
    readme.set_defaults(func=cmd_readme)
    sub.add_parser("stop", help="stop the private PostgreSQL cluster and its hot standby").set_defaults(func=cmd_stop)
    sub.add_parser("pg", help="start the private PostgreSQL cluster and say how to connect").set_defaults(func=cmd_pg)
    sub.add_parser("status", help="where the state and the cluster are, and whether it runs").set_defaults(
        func=cmd_status
    )
    sub.add_parser("shell", help="Odoo shell on the run database").set_defaults(func=cmd_shell)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except SetupError as exc:
        print(f"ov: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
