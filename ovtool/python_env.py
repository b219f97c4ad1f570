"""The Python environment that runs Odoo: venv, pip, Odoo 19 and the suite's requirements."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ovtool.settings import REPO, STATE, SetupError, say
from ovtool.system import is_externally_managed, run

ODOO_GIT = "https://github.com/odoo/odoo.git"
ODOO_BRANCH = "19.0"


def venv_dir():
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share")
    return base / "order-visibility" / "venv"


def python_for_suite():
    """The interpreter that runs Odoo: OV_PYTHON, else this one, else a venv.

    A distribution's own Python refuses pip (PEP 668); we then use a venv kept
    outside the repository so that every clone shares one installed Odoo.
    """
    if os.environ.get("OV_PYTHON"):
        return os.environ["OV_PYTHON"]
    if sys.prefix != sys.base_prefix or not is_externally_managed():
        return sys.executable
    venv = venv_dir()
    py = venv / "bin" / "python"
    if not py.exists():
        say(f"creating a virtual environment in {venv}")
        run([sys.executable, "-m", "venv", str(venv)])
    return str(py)


def pip_install(py, *args):
    STATE.mkdir(parents=True, exist_ok=True)
    constraint = STATE / "pip-build-constraints.txt"
    # One of Odoo's pinned sdists does not build with setuptools >= 80.
    constraint.write_text("setuptools<80\n")
    env = dict(os.environ, PIP_CONSTRAINT=str(constraint), PIP_DISABLE_PIP_VERSION_CHECK="1")
    log = STATE / "pip.log"
    with log.open("a") as fh:
        fh.write(f"\n$ pip install {' '.join(args)}\n")
        fh.flush()
        res = subprocess.run(
            [py, "-m", "pip", "install", "-q", *args],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    if res.returncode:
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        last = lines[-1] if lines else "no output"
        raise SetupError(f"pip could not install {' '.join(args)} ({last}); full log in {log}")


def odoo_version(py):
    """(major, location) of the odoo importable by `py`, or (None, None)."""
    code = (
        "import odoo.release as r, os;"
        "print(r.version_info[0], os.path.dirname(os.path.dirname(os.path.abspath(r.__file__))))"
    )
    res = subprocess.run([py, "-c", code], capture_output=True, text=True, check=False)
    if res.returncode:
        return None, None
    major, location = res.stdout.split(maxsplit=1)
    return major, location.strip()


def check_odoo_source(src):
    src = Path(src).expanduser().resolve()
    release = src / "odoo" / "release.py"
    if not release.is_file():
        raise SetupError(
            f"ODOO_SRC={src} is not an Odoo source tree (no odoo/release.py): point it at a checkout of Odoo 19.0"
        )
    match = re.search(r"^version_info\s*=\s*\((\d+)", release.read_text(), re.M)
    if not match or match.group(1) != "19":
        found = match.group(1) if match else "unknown"
        raise SetupError(f"ODOO_SRC={src} holds Odoo {found}, not Odoo 19: point it at a checkout of the 19.0 branch")
    if not (src / "addons" / "sale_stock" / "__manifest__.py").is_file():
        raise SetupError(
            f"ODOO_SRC={src} has no addons/sale_stock: use the full Odoo 19 Community source, not a partial copy"
        )
    return src


def install_odoo_from(py, src):
    say(f"installing Odoo 19 from {src} (about a minute)")
    pip_install(py, "-r", str(src / "requirements.txt"))
    # "compat" editable mode is a plain .pth entry: Odoo's addons path
    # machinery does not understand setuptools' import-hook finders.
    pip_install(py, "--no-deps", "--config-settings", "editable_mode=compat", "-e", str(src))


def fetch_upstream_odoo():
    dest = venv_dir().parent / "odoo-19.0"
    if (dest / "odoo" / "release.py").exists():
        return dest
    say(f"fetching Odoo {ODOO_BRANCH} from {ODOO_GIT} into {dest}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    res = run(
        ["git", "clone", "--depth", "1", "--branch", ODOO_BRANCH, ODOO_GIT, str(dest)],
        check=False,
        capture=True,
    )
    if res.returncode:
        shutil.rmtree(dest, ignore_errors=True)
        raise SetupError(
            "Odoo 19 is not installed and could not be fetched from GitHub: "
            "set ODOO_SRC=/path/to/odoo-19.0-source (a checkout of the 19.0 branch) and run again"
        )
    return dest


def ensure_python(py):
    src_env = os.environ.get("ODOO_SRC")
    major, location = odoo_version(py)
    if src_env:
        src = check_odoo_source(src_env)
        if major != "19" or Path(location).resolve() != src:
            install_odoo_from(py, src)
    elif major is None:
        install_odoo_from(py, check_odoo_source(fetch_upstream_odoo()))
    elif major != "19":
        raise SetupError(
            f"the installed odoo package ({location}) is Odoo {major}, not 19: "
            "set ODOO_SRC to an Odoo 19 source tree to install it instead"
        )
    major, location = odoo_version(py)
    if major != "19":
        raise SetupError(f"Odoo 19 still cannot be imported by {py} after installation: see {STATE / 'pip.log'}")
    req = [REPO / "requirements.txt", REPO / "requirements-dev.txt"]
    # OCA addons (wheels whose addons land in odoo/addons of site-packages):
    # --no-deps, so pip leaves the installed Odoo and the versions it pins alone.
    oca = REPO / "requirements-oca.txt"
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in [*req, oca]) + py.encode()).hexdigest()
    stamp = STATE / "requirements.sha256"
    if not stamp.exists() or stamp.read_text() != digest:
        say("installing the suite's Python requirements")
        args = []
        for path in req:
            args += ["-r", str(path)]
        pip_install(py, *args)
        pip_install(py, "--no-deps", "-r", str(oca))
        stamp.write_text(digest)
    return location


def addons_path(odoo_location):
    paths = [REPO, REPO / "addons"]
    community = Path(odoo_location) / "addons"
    if (community / "sale_stock").is_dir():
        paths.append(community)
    return ",".join(str(p) for p in paths)
