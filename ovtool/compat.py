"""./ov test --odoo-compat: Odoo's own tests without and with the suite, compared."""

import os
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from ovtool.odoo_run import install_addons, setup, write_odoo_conf
from ovtool.settings import BASE_APPS, PRODUCT_ADDONS, STATE, SetupError, say
from ovtool.system import check_port_free

# Odoo's own tests that must pass as well with the suite installed (default settings).
ODOO_COMPAT_ADDONS = ["sale", "sale_stock", "purchase_stock", "stock_dropshipping"]


def odoo_addon_dir(location, name):
    for base in (Path(location) / "addons", Path(location) / "odoo" / "addons"):
        if (base / name / "__manifest__.py").is_file():
            return base / name
    raise SetupError(f"the tests of Odoo's {name} addon are not in {location}: install Odoo with its addons")


class OdooTestRun:
    """Odoo's own tests of ODOO_COMPAT_ADDONS in one database, through pytest-odoo."""

    def __init__(self, py, location, db, dbname, *, label, http_port):
        self.label = label
        self.process = None
        slug = label.replace(" ", "-")
        self.report = STATE / f"compat-{slug}.xml"
        self.logfile = STATE / f"compat-{slug}.log"
        self.report.unlink(missing_ok=True)
        cfg = write_odoo_conf(STATE / f"compat-{slug}.conf", location, db, dbname, http_port=http_port)
        self.cmd = [
            py, "-m", "pytest", "--noconftest", "-p", "no:cacheprovider", "-q",
            f"--odoo-config={cfg}", f"--odoo-database={dbname}", "--odoo-http", "--odoo-log-level=critical",
            f"--junitxml={self.report}",
            *(str(odoo_addon_dir(location, addon) / "tests") for addon in ODOO_COMPAT_ADDONS),
        ]  # fmt: skip

    def start(self):
        say(f"running Odoo's own tests {self.label} (log: {self.logfile})")
        self.started = time.monotonic()
        with self.logfile.open("w") as log:
            self.process = subprocess.Popen(self.cmd, cwd=STATE, stdout=log, stderr=subprocess.STDOUT)

    def result(self):
        """(test ids run, test ids failed or in error, skipped count), once finished."""
        self.process.wait()
        if not self.report.is_file():
            raise SetupError(f"pytest did not report on Odoo's own tests {self.label}: see {self.logfile}")
        ran, failed, skipped = set(), set(), 0
        for case in ET.parse(self.report).iter("testcase"):
            test_id = f"{case.get('classname')}.{case.get('name')}"
            ran.add(test_id)
            if case.find("failure") is not None or case.find("error") is not None:
                failed.add(test_id)
            elif case.find("skipped") is not None:
                skipped += 1
        minutes = (time.monotonic() - self.started) / 60
        say(f"  {self.label}: {len(ran)} tests, {len(failed)} failed, {skipped} skipped in {minutes:.1f} min")
        return ran, failed, skipped


def cmd_odoo_compat(args):
    """Odoo's own sale, sale_stock, purchase_stock and stock_dropshipping tests, without and with
    the suite (default settings) on otherwise identical databases, both runs
    side by side (each in its own process, on its own HTTP port)."""
    py, location, db = setup()
    pid = os.getpid()
    port = int(os.environ.get("OV_HTTP_PORT") or 8069)
    databases = {
        "without the suite": (f"ov_compat_base_{pid}", BASE_APPS),
        "with the suite": (f"ov_compat_suite_{pid}", [*BASE_APPS, *PRODUCT_ADDONS]),
    }
    for offset in range(len(databases)):
        check_port_free(port + offset)
    runs = []
    try:
        for offset, (label, (dbname, addons)) in enumerate(databases.items()):
            install_addons(py, location, db, dbname, addons, what=", ".join(addons))
            runs.append(OdooTestRun(py, location, db, dbname, label=label, http_port=port + offset))
        for test_run in runs:
            test_run.start()
        (ran_base, failed_base, skipped_base), (ran_suite, failed_suite, skipped_suite) = (
            test_run.result() for test_run in runs
        )
    finally:
        for test_run in runs:
            if test_run.process and test_run.process.poll() is None:
                test_run.process.kill()
        if not args.keep:
            for dbname, _addons in databases.values():
                db.drop(dbname)
    print(f"\nOdoo's own tests ({', '.join(ODOO_COMPAT_ADDONS)})   without the suite   with the suite")
    print(f"  tests run                             {len(ran_base):>8}   {len(ran_suite):>14}")
    print(f"  failed or in error                    {len(failed_base):>8}   {len(failed_suite):>14}")
    print(f"  skipped                               {skipped_base:>8}   {skipped_suite:>14}")
    regressions = sorted(failed_suite - failed_base)
    missing = sorted(ran_base - ran_suite)
    for test_id in regressions:
        print(f"  fails only with the suite: {test_id}")
    for test_id in missing:
        print(f"  ran only without the suite: {test_id}")
    if regressions or missing:
        say("the suite changes what Odoo does: see the tests above and .ov/compat-with-the-suite.log")
        return 1
    say("Odoo's own tests fail no more with the suite than without it")
    return 0
