#!/usr/bin/env python3
"""Installing the suite on a database that already holds the bulk orders.

Run through ``./ov bench install``. The first run makes a template without
the suite: a copy of the bulk database (``--db``) from which the suite is
uninstalled (its tables go, the orders stay). Each run then copies that
template and installs the suite into the copy with Odoo's own
``-i ... --stop-after-init``, printing the installation's progress lines as
they come and the whole time (budget: 60 s for 100,000 orders). The copy is
dropped afterwards; the template is kept for the next run.
"""

import argparse
import configparser
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
from figures import say  # bench/ is the script's folder
from psycopg2 import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ovtool.settings import PRODUCT_ADDONS

PROGRESS = "installing on existing orders"


class Server:
    """The PostgreSQL server of the Odoo configuration file."""

    def __init__(self, config_path):
        parser = configparser.ConfigParser()
        parser.read(config_path)
        options = parser["options"]
        self.connect = {
            "dbname": "postgres",
            "host": options.get("db_host"),
            "port": options.get("db_port"),
            "user": options.get("db_user"),
            "password": options.get("db_password") or None,
        }

    def execute(self, query, dbname="postgres"):
        conn = psycopg2.connect(**{**self.connect, "dbname": dbname})
        conn.autocommit = True
        try:
            with conn.cursor() as cr:
                cr.execute(query)
                return cr.fetchall() if cr.description else None
        finally:
            conn.close()

    def exists(self, dbname):
        return bool(self.execute(sql.SQL("SELECT 1 FROM pg_database WHERE datname = {}").format(sql.Literal(dbname))))

    def copy(self, template, dbname):
        self.drop(dbname)
        try:
            self.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(dbname), sql.Identifier(template))
            )
        except psycopg2.errors.ObjectInUse:
            sys.exit(
                f"install: cannot copy {template}: another session is connected to it "
                "(stop ./ov run or the other benchmarks first)"
            )

    def drop(self, dbname):
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def odoo(config_path, dbname, *args):
    return [sys.executable, "-m", "odoo", "-c", config_path, "-d", dbname, f"--db-filter=^{dbname}$", *args]


def make_template(server, config_path, source, template):
    say(f"  making {template}: a copy of {source} without the suite (once)")
    started = time.monotonic()
    server.copy(source, template)
    # Uninstalling the core takes the addons that depend on it along.
    res = subprocess.run(
        [sys.executable, "-m", "odoo", "module", "uninstall", "-c", config_path, "-d", template, "order_visibility"],
        text=True,
        capture_output=True,
        check=False,
    )
    left = server.execute(
        "SELECT count(*) FROM ir_module_module WHERE name LIKE 'order_visibility%' AND state = 'installed'", template
    )[0][0]
    if res.returncode or left:
        server.drop(template)
        sys.exit(f"install: uninstalling the suite from {template} failed:\n{res.stderr[-2000:]}")
    say(f"  template ready in {time.monotonic() - started:.0f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True, help="the bulk database the template is copied from")
    args = parser.parse_args(argv)
    server = Server(args.config)
    template, target = f"{args.db}_preinstall", f"{args.db}_install"
    say(f"install: the suite into a copy of {args.db} without it (budget 60 s for 100,000 orders)")
    if not server.exists(template):
        make_template(server, args.config, args.db, template)
    orders = server.execute("SELECT count(*) FROM sale_order", template)[0][0]
    server.copy(template, target)
    try:
        cmd = odoo(args.config, target, "-i", ",".join(PRODUCT_ADDONS), "--stop-after-init", "--no-http")
        started = time.monotonic()
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
            tail = []
            for line in proc.stdout:
                tail = [*tail[-20:], line]
                if PROGRESS in line:
                    say(f"    {time.monotonic() - started:5.1f} s  {line.split(': ', 1)[-1].strip()}")
        seconds = time.monotonic() - started
        if proc.returncode:
            sys.exit("install: Odoo failed:\n" + "".join(tail))
        done = server.execute("SELECT count(*) FROM order_visibility", target)[0][0]
        say(f"  {orders:,} orders: installed in {seconds:.1f} s, {done:,} visibility records")
    finally:
        server.drop(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
