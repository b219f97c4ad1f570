# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Real Odoo server processes on the test database, for the tests that need
more than pytest-odoo's in-process server (tests/test_replica.py,
tests/test_multinode.py): free ports, bounded waits, a JSON-RPC client and
an ``OdooNode`` that starts ``odoo`` with the test's configuration file and
stops it (and every process it started) at the end."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from odoo.tests.common import get_db_name
from odoo.tools import config

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 90  # seconds for an Odoo server to be ready
STOP_TIMEOUT = 30  # seconds for an Odoo server to stop after SIGTERM

# ``python -m odoo`` cannot be re-executed by path (relative imports), and a
# prefork server re-executes its sys.argv[0] for its gevent worker: the
# nodes run this launcher instead. (That worker's gevent finds its plugins
# through the zope.event and zope.interface releases requirements.txt pins.)
LAUNCHER = """\
from odoo.cli.command import main

main()
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_size(path):
    return path.stat().st_size if path.exists() else 0


def log_since(path, offset=0):
    if not path.exists():
        return ""
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read().decode(errors="replace")


def wait_for(predicate, timeout, what):
    """Poll ``predicate`` until it returns a truthy value (returned) or
    ``timeout`` seconds pass (AssertionError naming ``what``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class JsonRpc:
    def __init__(self, url):
        self.url = url
        self.session = requests.Session()

    def call(self, path, **params):
        response = self.session.post(
            f"{self.url}{path}", json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}, timeout=60
        )
        response.raise_for_status()
        payload = response.json()
        assert "error" not in payload, payload["error"]
        return payload["result"]

    def call_kw(self, model, method, *args, **kwargs):
        return self.call(f"/web/dataset/call_kw/{model}/{method}", model=model, method=method, args=args, kwargs=kwargs)

    def login(self, login="admin", password="admin"):
        uid = self.call("/web/session/authenticate", db=get_db_name(), login=login, password=password)["uid"]
        assert uid, f"{login} could not log in"
        return uid


class OdooNode:
    """One Odoo server process on the test database (its own process group:
    a prefork server's workers and gevent process are stopped with it).

    ``args``: the node's own options (HTTP or not, workers, cron threads...).
    Its log is ``<logdir>/<name>.log``.
    """

    def __init__(self, name, logdir, *args):
        self.name = name
        self.logdir = Path(logdir)
        self.log = self.logdir / f"{name}.log"
        self.args = args
        self.process = None

    def start(self):
        launcher = self.logdir / "odoo_launcher.py"
        launcher.write_text(LAUNCHER)
        dbname = get_db_name()
        cmd = [
            sys.executable, str(launcher),
            "-c", config["config"],
            "-d", dbname,
            f"--db-filter=^{dbname}$",
            "--log-level=info", f"--logfile={self.log}",
            *self.args,
        ]  # fmt: skip
        self.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, cwd=REPO, start_new_session=True)
        return self

    def assert_running(self):
        code = self.process.poll()
        assert code is None, f"the Odoo node {self.name} exited with {code}: see {self.log}\n{self.tail()}"

    def tail(self, chars=3000):
        return log_since(self.log)[-chars:]

    def wait_until(self, predicate, timeout=START_TIMEOUT, what="ready"):
        def check():
            self.assert_running()
            return predicate()

        try:
            return wait_for(check, timeout, f"the Odoo node {self.name} ({what})")
        except AssertionError as error:
            raise AssertionError(f"{error}: see its log {self.log}\n{self.tail()}") from None

    def wait_http(self, url, timeout=START_TIMEOUT):
        def healthy():
            try:
                return requests.get(f"{url}/web/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        self.wait_until(healthy, timeout, f"answering on {url}/web/health")

    def stop(self):
        """SIGTERM to the node's process group, SIGKILL after STOP_TIMEOUT."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the master, or what it left behind
        except ProcessLookupError:
            pass
        self.process.wait()
