"""Take the screenshots of the README and docs/user/ from a running `./ov run` (http://localhost:8069).

    python3 docs/screenshots/take.py [database] [name ...]      (OV_HTTP_PORT as for ./ov run)

Names limit the run to those pictures (e.g. `control_tower`, `control_tower_wall`,
`fulfilment_wizard`, `customer_update`, `service_report`, `customer_otif`,
`portal_orders`, `portal_order`). The portal pictures are taken as the demo's
portal user (harbor.portal). OV_CHROME_PORT (default 9333) is Chromium's
DevTools port.

Logs in as admin through JSON-RPC, then drives headless Chromium over the
DevTools protocol (websocket-client, installed by ./ov) to each page.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

BASE = f"http://localhost:{os.environ.get('OV_HTTP_PORT') or 8069}"  # as ./ov run serves it
HERE = Path(__file__).resolve().parent
PAGES = {
    "orders_kanban": "/odoo/action-order_visibility.action_order_visibility",
    "exception_queue": "/odoo/action-order_visibility.action_order_visibility_exception",
    "approvals": "/odoo/action-order_visibility.action_order_visibility_approval",
    "stage_aging": "/odoo/action-order_visibility.action_order_visibility_transition",
    "settings": "/odoo/action-order_visibility.action_order_visibility_settings",
    # order_visibility_dashboard: the control tower, and on a wall display.
    "control_tower": "/odoo/control-tower",
    "control_tower_wall": "/odoo/control-tower?wall=1",
    # Service levels: the report (pivot by month of the first promise).
    "service_report": "/odoo/action-order_visibility.action_order_visibility_service_report",
}
# The customer portal, as the demo's portal user (order_visibility_portal).
PORTAL_USER = ("harbor.portal", "harbor-portal-demo")
PORTAL_PAGES = {"portal_orders": "/my/orders"}
# What shows that a page is ready.
READY = ".o_action_manager .o_view_controller, .o_action_manager .o-settings-form-view, .o_ov_ct_tiles"
PORTAL_READY = ".o_portal_my_doc_table, #ov_where_is_my_order"
CHROME_PORT = int(os.environ.get("OV_CHROME_PORT") or 9333)

# Pages whose interesting part is off screen: scroll to it first.
SCROLL = {
    # The orders to ship: at risk, blocked by exceptions, late promises.
    "orders_kanban": "document.querySelectorAll('.o_kanban_group')[5]?.scrollIntoView({inline: 'start'})",
}


def login(db, user="admin", password="admin"):
    body = json.dumps({"jsonrpc": "2.0", "params": {"db": db, "login": user, "password": password}}).encode()
    request = urllib.request.Request(f"{BASE}/web/session/authenticate", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        cookie = response.headers["Set-Cookie"]
    return cookie.split("session_id=")[1].split(";")[0]


class Chrome:
    def __init__(self):
        self.profile = tempfile.mkdtemp()
        self.proc = subprocess.Popen(
            [
                "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={self.profile}", f"--remote-debugging-port={CHROME_PORT}",
                "--window-size=1440,900", "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{CHROME_PORT}/json") as response:
                    targets = json.load(response)
                break
            except OSError:
                time.sleep(0.1)
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"])
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def wait_for(self, selector, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.call("Runtime.evaluate", expression=f"!!document.querySelector({json.dumps(selector)})")
            if found.get("result", {}).get("value"):
                return True
            time.sleep(0.3)
        raise TimeoutError(selector)

    def close(self):
        self.ws.close()
        self.proc.terminate()


def rpc(session, model, method, args, kwargs=None):
    body = json.dumps(
        {"jsonrpc": "2.0", "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}}
    ).encode()
    request = urllib.request.Request(
        f"{BASE}/web/dataset/call_kw",
        body,
        {"Content-Type": "application/json", "Cookie": f"session_id={session}"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)["result"]


def visibility_of(session, customer_ref):
    """Id of the order visibility record of the demo order with this customer reference."""
    return rpc(session, "order.visibility", "search", [[("sale_order_id.client_order_ref", "=", customer_ref)]])[0]


# Acting on exceptions (docs/user/exceptions.md): the page, then the button that opens the dialog to capture.
ACTING = {
    # Harbor's order lacks sunflower oil; Rotterdam DC can cover it.
    "fulfilment_wizard": ("HFF-PO-22871", "action_open_fulfilment_wizard"),
    # Ferretti's order is late: the customer update drafted from the engine's facts.
    "customer_update": ("FFI-OA-88213", "action_draft_customer_update"),
}


def busiest_order(session):
    """Id of the order visibility record with the longest timeline."""
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "params": {
                "model": "order.visibility.transition",
                "method": "read_group",
                "args": [[], ["visibility_id"], ["visibility_id"]],
                "kwargs": {"orderby": "visibility_id_count desc", "limit": 1},
            },
        }
    ).encode()
    request = urllib.request.Request(
        f"{BASE}/web/dataset/call_kw",
        body,
        {"Content-Type": "application/json", "Cookie": f"session_id={session}"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)["result"][0]["visibility_id"][0]


def main(db="order_visibility", *names):
    session = login(db)
    PAGES["order_timeline"] = f"{PAGES['orders_kanban']}/{busiest_order(session)}"
    clicks = {}
    for name, (customer_ref, button) in ACTING.items():
        PAGES[name] = f"{PAGES['orders_kanban']}/{visibility_of(session, customer_ref)}"
        clicks[name] = button
    expedite = rpc(session, "order.visibility.approval", "search", [[("reason", "=", "expedite")]], {"limit": 1})
    if expedite:
        PAGES["expedite_approval"] = f"{PAGES['approvals']}/{expedite[0]}"
    # The customer under its OTIF target (its 90-day OTIF on the smart button).
    breach = rpc(
        session, "res.partner", "search", [[("ov_otif_target", ">", 0), ("is_company", "=", True)]], {"limit": 1}
    )
    if breach:
        PAGES["customer_otif"] = f"/odoo/action-base.action_partner_form/{breach[0]}"
    # Harbor's shipped order with its carrier milestones, as its portal user sees it.
    shipped = rpc(
        session, "sale.order", "search",
        [[("partner_id.commercial_partner_id.name", "ilike", "Harbor"), ("state", "=", "sale"),
          ("visibility_ids.stage", "=", "shipped")]], {"limit": 1},
    )  # fmt: skip
    if shipped:
        PORTAL_PAGES["portal_order"] = f"/my/orders/{shipped[0]}"
    chrome = Chrome()
    try:
        chrome.call("Network.enable")
        chrome.call("Network.setCookie", name="session_id", value=session, domain="localhost", path="/")
        chrome.call("Emulation.setDeviceMetricsOverride", width=1440, height=900, deviceScaleFactor=1, mobile=False)
        portal_session = None
        for name, path in [*PAGES.items(), *PORTAL_PAGES.items()]:
            if names and name not in names:
                continue
            if name in PORTAL_PAGES and not portal_session:
                portal_session = login(db, *PORTAL_USER)
                chrome.call("Network.setCookie", name="session_id", value=portal_session, domain="localhost", path="/")
            chrome.call("Page.navigate", url=BASE + path)
            time.sleep(1)
            chrome.wait_for(PORTAL_READY if name in PORTAL_PAGES else READY)
            if name in SCROLL:
                chrome.call("Runtime.evaluate", expression=SCROLL[name])
            if name in clicks:
                click = f"document.querySelector(\"button[name='{clicks[name]}']\").click()"
                chrome.call("Runtime.evaluate", expression=click)
                chrome.wait_for(".modal-dialog .o_form_view, .modal-dialog .o_mail_composer_form_view, .modal-content")
            time.sleep(2)  # let charts and avatars settle for the picture
            shot = chrome.call("Page.captureScreenshot", format="png")
            (HERE / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
            print(f"wrote {HERE / name}.png")
    finally:
        chrome.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
