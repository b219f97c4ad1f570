"""The set-up command stops with one clear sentence on bad input.

These run the real ./ov script in a subprocess against real files, ports and
processes; none of them installs anything.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def own_environ():
    """The caller's environment without OV_DB_*: these tests are about the private cluster."""
    return {key: value for key, value in os.environ.items() if not key.startswith("OV_DB_")}


def ov(*args, env=None, state_dir=None):
    full_env = dict(own_environ(), **(env or {}))
    if state_dir:
        full_env["OV_STATE_DIR"] = str(state_dir)
    return subprocess.run(
        [sys.executable, str(REPO / "ov"), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        check=False,
    )


def cluster_of(state_dir, ov_script=REPO / "ov"):
    """The folder of the private cluster, as ./ov status reports it."""
    result = subprocess.run(
        [sys.executable, str(ov_script), "status"],
        capture_output=True,
        text=True,
        env=dict(own_environ(), OV_STATE_DIR=str(state_dir)),
        timeout=60,
        check=True,
    )
    return Path(re.search(r"private PostgreSQL cluster in (\S+)", result.stdout)[1])


def one_sentence_error(result):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("ov: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_odoo_src_that_is_not_odoo(tmp_path):
    line = one_sentence_error(ov("lint", env={"ODOO_SRC": str(tmp_path)}, state_dir=tmp_path / "state"))
    assert "is not an Odoo source tree" in line
    assert "Odoo 19" in line


def test_odoo_src_of_another_version(tmp_path):
    (tmp_path / "odoo").mkdir()
    (tmp_path / "odoo" / "release.py").write_text("version_info = (17, 0, 0, 'final', 0, '')\n")
    line = one_sentence_error(ov("lint", env={"ODOO_SRC": str(tmp_path)}, state_dir=tmp_path / "state"))
    assert "holds Odoo 17, not Odoo 19" in line


def test_taken_http_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_sentence_error(ov("run", env={"OV_HTTP_PORT": str(port)}, state_dir=tmp_path))
    assert f"port {port} is already in use" in line
    assert "OV_HTTP_PORT" in line


def test_replica_of_an_external_server(tmp_path):
    """The hot standby is a copy of the private cluster: with OV_DB_HOST there is none to copy."""
    line = one_sentence_error(ov("run", "--replica", env={"OV_DB_HOST": "db.invalid"}, state_dir=tmp_path))
    assert "OV_DB_HOST" in line
    assert "--db_replica_host" in line


def test_stale_postgresql_lock_file(tmp_path):
    """A cluster whose server died leaves postmaster.pid behind."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    pgdata = cluster_of(tmp_path) / "pgdata"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("15\n")
    (pgdata / "postmaster.pid").write_text(f"{dead.pid}\n{pgdata}\n")
    result = ov("stop", state_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    line = one_sentence_error(ov("run", env={"OV_HTTP_PORT": "0"}, state_dir=tmp_path))
    assert "stale PostgreSQL lock file" in line
    assert "remove that file" in line
    if pgdata.parent != tmp_path:
        shutil.rmtree(pgdata.parent)


def test_checkout_in_a_private_home_folder(tmp_path):
    """A clone inside a 0700 folder (root's home), on a machine where no run
    made the clusters' home yet: the cluster starts, stops and starts again,
    and its owner can reach it."""
    home = tmp_path / "home"
    clone = home / "order-visibility"
    clone.mkdir(parents=True)
    home.chmod(0o700)
    shutil.copy2(REPO / "ov", clone / "ov")
    shutil.copytree(REPO / "ovtool", clone / "ovtool", ignore=shutil.ignore_patterns("__pycache__"))
    state = clone / ".ov"
    # A clusters' home no earlier run made (as /var/lib/order-visibility on a
    # new machine), in a folder PostgreSQL's user may enter.
    parent = Path(tempfile.mkdtemp(prefix="ov-clusters-", dir="/tmp"))
    parent.chmod(0o755)  # as /var/lib
    clusters_home = parent / "order-visibility"
    env = dict(own_environ(), OV_STATE_DIR=str(state), OV_CLUSTER_HOME=str(clusters_home))
    status = subprocess.run(
        [sys.executable, str(clone / "ov"), "status"], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    cluster = Path(re.search(r"private PostgreSQL cluster in (\S+)", status.stdout)[1])
    if os.geteuid() == 0:
        assert cluster.parent == clusters_home, cluster
        assert not clusters_home.exists(), "the test starts where a new machine starts"
    else:
        assert cluster == state, "a user's own cluster stays in the checkout"
    run = [sys.executable, str(clone / "ov")]
    try:
        started = subprocess.run([*run, "pg"], capture_output=True, text=True, env=env, timeout=300, check=False)
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"private PostgreSQL cluster in {cluster}" in started.stdout
        answer = subprocess.run(
            ["psql", "-h", str(cluster / "run"), "-p", "5439", "-U", "odoo", "-d", "postgres", "-Atc", "select 42"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert answer.stdout.strip() == "42", answer.stdout + answer.stderr
        stopped = subprocess.run([*run, "stop"], capture_output=True, text=True, env=env, timeout=120, check=False)
        assert "private PostgreSQL cluster stopped" in stopped.stdout, stopped.stdout + stopped.stderr
        again = subprocess.run([*run, "pg"], capture_output=True, text=True, env=env, timeout=300, check=False)
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        subprocess.run([*run, "stop"], capture_output=True, env=env, timeout=120, check=False)
        shutil.rmtree(clusters_home.parent, ignore_errors=True)


@pytest.mark.parametrize("command", ["run", "test", "stop", "lint", "pg", "status"])
def test_help_lists_every_command(command):
    result = ov("--help")
    assert result.returncode == 0
    assert command in result.stdout
