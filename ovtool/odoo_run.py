"""Odoo command lines and configuration files, and installing addons into a database."""

import os
import re
import subprocess

from ovtool.cluster import Database
from ovtool.python_env import addons_path, ensure_python, python_for_suite
from ovtool.settings import ADDONS, REPO, STATE, SetupError, say
from ovtool.system import ensure_debian_packages


def setup(need_server=True):
    say(f"state in {STATE}; {Database().describe()}")
    ensure_debian_packages(need_server=need_server and not os.environ.get("OV_DB_HOST"))
    py = python_for_suite()
    location = ensure_python(py)
    db = Database()
    db.start()
    return py, location, db


def odoo_cmd(py, location, db, dbname, *extra, command=()):
    data_dir = STATE / "data"
    return [
        py, "-m", "odoo", *command,
        "-c", str(REPO / "odoo.conf"),
        f"--addons-path={addons_path(location)}",
        f"--data-dir={data_dir}",
        *db.odoo_args(),
        "-d", dbname,
        f"--db-filter=^{re.escape(dbname)}$",
        "--http-interface=127.0.0.1",
        *extra,
    ]  # fmt: skip


def installed_addons(db, dbname, addons=None):
    """Which of ``addons`` (default: the suite's) are installed in ``dbname``."""
    out = db.psql(
        "SELECT name FROM ir_module_module WHERE state = 'installed' AND name = ANY(string_to_array(:'names', ','))",
        dbname,
        variables={"names": ",".join(addons or ADDONS)},
    )
    return set(out.split()) if out else set()


OUR_NAMES = re.compile(r"order[._]visibility")
LOG_LINE = re.compile(r"^\S+ \S+ \d+ (?P<level>WARNING|ERROR|CRITICAL) \S+ (?P<logger>\S+): (?P<message>.*)")


def install_addons(py, location, db, dbname, addons, *, what=None):
    """Install ``addons`` into a new database ``dbname``; fail on any error,
    and on any warning that names the suite. Its log: .ov/install-<db>.log."""
    logfile = STATE / f"install-{dbname}.log"
    say(f"installing {what or ', '.join(addons)} into database {dbname} (log: {logfile})")
    logfile.unlink(missing_ok=True)  # Odoo appends to its log file
    cmd = odoo_cmd(py, location, db, dbname, "-i", ",".join(addons), "--stop-after-init", f"--logfile={logfile}")
    res = subprocess.run(cmd, check=False)
    if res.returncode or installed_addons(db, dbname, addons) != set(addons):
        raise SetupError(f"installing {what or ', '.join(addons)} into {dbname} failed: see {logfile}")
    problems = []
    for line in logfile.read_text().splitlines():
        entry = LOG_LINE.match(line)
        if entry and (entry["level"] != "WARNING" or OUR_NAMES.search(entry["logger"] + entry["message"])):
            problems.append(line)
    if problems:
        raise SetupError(f"installing into {dbname} logged {len(problems)} warnings or errors, first: {problems[0]}")


def install_suite(py, location, db, dbname, extra=()):
    install_addons(py, location, db, dbname, [*ADDONS, *extra], what=" and ".join(["the suite", *extra]))


def run_dbname():
    """The database served by ./ov run (and read by ./ov pot and ./ov shell)."""
    return os.environ.get("OV_DB_NAME") or "order_visibility"


def write_odoo_conf(path, location, db, dbname, http_port=None):
    """An Odoo configuration file for tools that load Odoo in-process (pytest, benchmarks)."""
    lines = [
        "[options]",
        f"addons_path = {addons_path(location)}",
        f"data_dir = {STATE / 'data'}",
        f"db_host = {db.host}",
        f"db_port = {db.port}",
        f"db_user = {db.user}",
        f"db_name = {dbname}",
        f"dbfilter = ^{dbname}$",
        "http_interface = 127.0.0.1",
        f"http_port = {http_port or int(os.environ.get('OV_HTTP_PORT') or 8069)}",
    ]
    if db.password:
        lines.append(f"db_password = {db.password}")
    path.write_text("\n".join(lines) + "\n")
    return path
