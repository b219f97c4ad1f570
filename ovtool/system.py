"""Running commands, Debian packages and the local machine's ports."""

import errno
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path

from ovtool.settings import STATE, SetupError, say

# Debian packages: what they provide, and how we detect them without dpkg.
DEBIAN_PACKAGES = {
    "libpq-dev": "PostgreSQL client headers (to build psycopg2)",
    "libldap2-dev": "LDAP headers (to build python-ldap)",
    "libsasl2-dev": "SASL headers (to build python-ldap)",
    "chromium": "headless browser for Odoo's browser tests",
    "git": "to fetch Odoo 19 when no source is given",
    "gcc": "C compiler for Python packages without wheels",
}
PG_PACKAGE = "postgresql"


def run(cmd, check=True, capture=False, env=None, user=None, **kw):
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    res = subprocess.run(
        cmd,
        check=False,
        text=True,
        env=env,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        **kw,
    )
    if check and res.returncode:
        out = (res.stdout or "").strip().splitlines()
        tail = out[-1] if out else f"exit code {res.returncode}"
        raise SetupError(f"`{' '.join(map(str, cmd))}` failed: {tail}")
    return res


def dpkg_installed(pkg):
    if not shutil.which("dpkg-query"):
        return True  # not Debian: trust the user, later steps will say what breaks
    res = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", pkg],
        capture_output=True,
        text=True,
        check=False,
    )
    return res.returncode == 0 and "install ok installed" in res.stdout


def pg_bindir():
    """Directory of the newest PostgreSQL server binaries installed."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def ensure_debian_packages(need_server):
    missing = [p for p in DEBIAN_PACKAGES if not dpkg_installed(p)]
    if sys.base_prefix == sys.prefix and is_externally_managed() and not dpkg_installed("python3-venv"):
        missing.append("python3-venv")
    if need_server and pg_bindir() is None:
        missing.append(PG_PACKAGE)
    if not missing:
        return
    if os.geteuid() == 0:
        prefix = []
    elif shutil.which("sudo") and run(["sudo", "-n", "true"], check=False, capture=True).returncode == 0:
        prefix = ["sudo", "-n"]
    else:
        raise SetupError(
            f"missing Debian packages {', '.join(missing)}: install them with "
            f"`sudo apt-get install {' '.join(missing)}` and run this command again"
        )
    say(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log = STATE / "apt.log"
    STATE.mkdir(parents=True, exist_ok=True)
    with log.open("w") as fh:
        res = subprocess.run(
            [*prefix, "apt-get", "update", "-q"], stdout=fh, stderr=subprocess.STDOUT, env=env, check=False
        )
        if res.returncode == 0:
            res = subprocess.run(
                [*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=env,
                check=False,
            )
    if res.returncode:
        raise SetupError(
            f"could not install Debian packages {', '.join(missing)} (see {log}): "
            "check the network or the package names, install them by hand and run again"
        )


def is_externally_managed():
    marker = Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED"
    return marker.exists()


def check_port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SetupError(
                    f"port {port} is already in use by another program: stop it, "
                    f"or choose another port with OV_HTTP_PORT={port + 1} ./ov run"
                ) from None
            raise
