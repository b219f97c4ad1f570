# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Upgrade to 19.0.1.2.0: service levels.

- Every confirmed order gets its first promise, the best the database knows:
  no earlier promise was kept, so it is the order's commitment date, else
  the promised date the engine last computed (Odoo's expected date).
- Orders whose goods have all left are measured from the done dates of the
  transfers that carried them to the customer, in batches; orders already
  paid get their time to payment from the moment they reached the paid stage.

See docs/user/service-levels.md.
"""

from odoo import SUPERUSER_ID, api
from odoo.addons.order_visibility.tools.constants import BATCH_SIZE, SERVICE_LEVEL_FIELDS, SHIPPED_STAGES


def fill_first_promises(env):
    """Give every confirmed order without one its first promise; returns their ids."""
    env["order.visibility"].flush_model(["promised_date", "first_promised_date"])
    env["sale.order"].flush_model(["state", "commitment_date"])
    env.cr.execute(
        """UPDATE order_visibility visibility
              SET first_promised_date = COALESCE(so.commitment_date, visibility.promised_date)
             FROM sale_order so
            WHERE so.id = visibility.sale_order_id AND so.state = 'sale'
              AND visibility.first_promised_date IS NULL
              AND COALESCE(so.commitment_date, visibility.promised_date) IS NOT NULL
        RETURNING visibility.id"""
    )
    ids = [row[0] for row in env.cr.fetchall()]
    env["order.visibility"].invalidate_model(["first_promised_date"])
    return ids


def measure_shipped_orders(env):
    """Measure every order whose goods have all left, against its first
    promise, in batches; returns how many were measured."""
    Visibility = env["order.visibility"]
    shipped = Visibility.search([("stage", "in", SHIPPED_STAGES)], order="id")
    fields_to_compute = [Visibility._fields[name] for name in SERVICE_LEVEL_FIELDS]
    for start in range(0, len(shipped), BATCH_SIZE):
        batch = shipped[start : start + BATCH_SIZE]
        for field in fields_to_compute:
            env.add_to_compute(field, batch)
        Visibility.flush_model()
        env.invalidate_all()
    return Visibility.search_count([("is_measured", "=", True)])


def migrate(cr, version):
    if not version:
        return  # a new installation: the engine keeps and measures from now on
    env = api.Environment(cr, SUPERUSER_ID, {})
    fill_first_promises(env)
    measure_shipped_orders(env)
