"""The set-up command stops with one clear sentence on bad input.

These run the real ./ov script in a subprocess against real files, ports and
processes; none of them installs anything.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def ov(*args, env=None, state_dir=None):
    full_env = dict(os.environ, **(env or {}))
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


def test_stale_postgresql_lock_file(tmp_path):
    """A cluster whose server died leaves postmaster.pid behind."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("15\n")
    (pgdata / "postmaster.pid").write_text(f"{dead.pid}\n{pgdata}\n")
    result = ov("stop", state_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    line = one_sentence_error(ov("run", env={"OV_HTTP_PORT": "0"}, state_dir=tmp_path))
    assert "stale PostgreSQL lock file" in line
    assert "remove that file" in line


@pytest.mark.parametrize("command", ["run", "test", "stop", "lint"])
def test_help_lists_every_command(command):
    result = ov("--help")
    assert result.returncode == 0
    assert command in result.stdout
