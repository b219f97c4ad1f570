# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Upgrade to 19.0.1.4.0: backorders (docs/user/stages.md, Backorders).

Partially shipped orders get what is left to ship (``backorder_qty``) and
when their first goods left (``backorder_since``), in batches, from the
facts the stage engine reads. Every other order has no backorder (the new
columns' empty values). No transition is logged and nothing is emitted.
"""

from odoo import SUPERUSER_ID, api
from odoo.addons.order_visibility.tools.constants import BATCH_SIZE


def fill_backorders(env):
    """Write the backorder of every partially shipped order; returns how many."""
    visibilities = env["order.visibility"].search([("stage", "=", "partially_shipped")], order="id")
    for start in range(0, len(visibilities), BATCH_SIZE):
        batch = visibilities[start : start + BATCH_SIZE]
        batch._update_backorders(batch._stage_facts())
        env.flush_all()
        env.invalidate_all()
    return len(visibilities)


def migrate(cr, version):
    if not version:
        return
    fill_backorders(api.Environment(cr, SUPERUSER_ID, {}))
