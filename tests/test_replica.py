# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Reads on a replica, for real: a PostgreSQL hot standby of the private
cluster (``ovtool.cluster.Standby``: ``pg_basebackup`` and streaming
replication), a real Odoo server started on the test database with
``--db_replica_host`` and ``--db_replica_port``, and over HTTP as admin:

* the control tower's call (``order.visibility.get_control_tower_data``,
  ``@api.readonly``) is served by the standby: its queries are in the
  standby's statement log and not in the primary's, and Odoo did not fall
  back to a read/write cursor;
* so is the customer tracking API (``/order_visibility/track/<id>``, a
  ``readonly=True`` route; its rate limit counts in the process's memory);
* a write (a partner created over JSON-RPC) reaches the primary, then shows
  on the standby (replication works).

The standby is left running for the next run (``./ov stop`` stops it); only
committed data is read; the partner is deleted at the end, and an access
token written for the tracking call is removed again.
"""

import sys
import tempfile
import uuid
from pathlib import Path

import pytest
import requests

from odoo.tests.common import get_db_name

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ovtool.cluster import Database, Standby  # noqa: E402 (the checkout's tooling, found through REPO)
from tests.odoo_nodes import JsonRpc, OdooNode, free_port, log_since, log_size, wait_for  # noqa: E402

REPLICATION_TIMEOUT = 15  # seconds for a commit on the primary to show on the standby
CONTROL_TOWER_TABLE = '"order_visibility_exception"'  # read by the control tower's call, by nothing else here
TRACKING_TABLE = '"order_visibility_milestone"'  # read by the tracking API, by nothing else here


@pytest.fixture
def standby():
    primary = Database()
    if primary.external:
        pytest.skip("OV_DB_HOST names an external server: the hot standby is built from the private cluster")
    replica = Standby(primary)
    replica.start()
    return replica


@pytest.fixture
def statement_logs(standby):
    """Every statement of the test database logged, on both servers, for new
    connections (a per-database setting, replicated to the standby)."""
    dbname = get_db_name()
    primary = standby.primary
    primary.admin_psql('ALTER DATABASE :"db" SET log_min_duration_statement = 0', variables={"db": dbname})
    try:
        setting = (
            "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
            "WHERE d.datname = :'db' AND 'log_min_duration_statement=0' = ANY(s.setconfig)"
        )
        wait_for(
            lambda: standby.admin_psql(setting, variables={"db": dbname}) == "1",
            REPLICATION_TIMEOUT,
            "the logging setting on the standby",
        )
        yield
    finally:
        primary.admin_psql('ALTER DATABASE :"db" RESET log_min_duration_statement', variables={"db": dbname})


@pytest.fixture
def odoo_server(standby, statement_logs):
    """An Odoo server on the test database, read-only requests on the standby."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="ov-replica-") as tmp:
        node = OdooNode(
            "odoo",
            tmp,
            "--http-interface=127.0.0.1",
            f"--http-port={port}",
            "--workers=0",
            "--max-cron-threads=0",
            *standby.odoo_args(),
        )
        try:
            node.start().wait_http(url)
            yield url, node.log
        finally:
            node.stop()


def test_control_tower_read_on_the_standby_and_writes_on_the_primary(standby, odoo_server):
    url, server_log = odoo_server
    primary = standby.primary
    dbname = get_db_name()
    assert standby.admin_psql("SELECT pg_is_in_recovery()") == "t"

    rpc = JsonRpc(url)
    rpc.login()

    # The control tower's call: on the standby, and on the standby only.
    primary_offset, standby_offset = log_size(primary.log), log_size(standby.log)
    data = rpc.call_kw("order.visibility", "get_control_tower_data", {})
    assert {"tiles", "stages", "service_levels", "queue"} <= set(data)
    standby_statements = log_since(standby.log, standby_offset)
    primary_statements = log_since(primary.log, primary_offset)
    assert CONTROL_TOWER_TABLE in standby_statements, "the control tower's queries are not in the standby's log"
    assert CONTROL_TOWER_TABLE not in primary_statements, "the control tower's queries reached the primary"

    # The tracking API: an order's token (written for the test if it has none).
    order_id, token = primary.psql("SELECT id, access_token FROM sale_order ORDER BY id LIMIT 1", dbname).split("|")
    order_id = int(order_id)
    written_token = not token
    if written_token:
        token = uuid.uuid4().hex
        rpc.call_kw("sale.order", "write", [order_id], {"access_token": token})
    try:
        wait_for(
            lambda: (
                standby.psql("SELECT access_token FROM sale_order WHERE id = :'id'", dbname, variables={"id": order_id})
                == token
            ),
            REPLICATION_TIMEOUT,
            "the order's access token on the standby",
        )
        primary_offset, standby_offset = log_size(primary.log), log_size(standby.log)
        response = requests.get(f"{url}/order_visibility/track/{order_id}", params={"access_token": token}, timeout=60)
        assert response.status_code == 200, response.text
        assert "milestones" in response.json()
        assert TRACKING_TABLE in log_since(standby.log, standby_offset), "the tracking API's queries missed the standby"
        assert TRACKING_TABLE not in log_since(primary.log, primary_offset), (
            "the tracking API's queries hit the primary"
        )
    finally:
        if written_token:
            rpc.call_kw("sale.order", "write", [order_id], {"access_token": False})

    odoo_log = server_log.read_text()
    assert "retrying with a read/write cursor" not in odoo_log, "a read-only call wrote on the standby"
    assert "Failed to open a readonly cursor" not in odoo_log

    # A write: on the primary, then replicated to the standby.
    marker = f"Replica probe {uuid.uuid4().hex}"
    primary_offset = log_size(primary.log)
    partner_id = rpc.call_kw("res.partner", "create", [{"name": marker}])[0]
    try:
        assert 'INSERT INTO "res_partner"' in log_since(primary.log, primary_offset)
        query = "SELECT name FROM res_partner WHERE id = :'id'"
        assert primary.psql(query, dbname, variables={"id": partner_id}) == marker
        wait_for(
            lambda: standby.psql(query, dbname, variables={"id": partner_id}) == marker,
            REPLICATION_TIMEOUT,
            "the new partner on the standby",
        )
    finally:
        rpc.call_kw("res.partner", "unlink", [partner_id])
    assert primary.psql(query, dbname, variables={"id": partner_id}) == ""
