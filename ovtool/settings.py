"""Paths, names and the error type shared by every part of ./ov."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("OV_STATE_DIR") or REPO / ".ov").resolve()
ADDONS = [
    "order_visibility",
    "order_visibility_webhooks",
    "order_visibility_dashboard",
    "order_visibility_portal",
    "order_visibility_demo",
]
PRODUCT_ADDONS = [a for a in ADDONS if a != "order_visibility_demo"]  # what a customer installs
TEST_PATHS = [
    "order_visibility",
    "order_visibility_webhooks",
    "order_visibility_dashboard",
    "order_visibility_portal",
    "addons/order_visibility_demo",
    "order_visibility_rma",
    "tests",
]
CLUSTER_OWNER = "ovpg"  # system user owning the private cluster when run as root
# Where a root user's cluster goes when its owner cannot reach the checkout
# (a clone under /root, whose home folder is 0700): one folder per checkout.
CLUSTER_HOME = Path(os.environ.get("OV_CLUSTER_HOME") or "/var/lib/order-visibility")
DB_ROLE = "odoo"
# The Odoo apps the suite builds on: the base of the benchmark and compatibility databases.
# (stock_dropshipping: the demo shows a dropship order, so both sides of every
# comparison, with and without the suite, have it.)
BASE_APPS = [
    "sale_management", "sale_stock", "purchase_stock", "stock_dropshipping", "account", "base_automation", "mail",
]  # fmt: skip
# What the tests' database installs beyond ADDONS: the flows the engine is
# tested on that the product does not need (kits and make-to-order through mrp),
# and the bridge to OCA's rma (which brings rma, installed by ./ov from
# requirements-oca.txt; not in ADDONS: the benchmark and run databases go without).
TEST_APPS = ["mrp", "order_visibility_rma"]


class SetupError(Exception):
    """A problem the user must fix; printed as one sentence, exit code 2."""


def say(msg):
    print(f"[ov] {msg}", flush=True)
