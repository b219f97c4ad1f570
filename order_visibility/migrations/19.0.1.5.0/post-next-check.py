# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Upgrade to 19.0.1.5.0: the exception sweep visits the orders due only.

Every order gets when its time-based checks can next change
(``next_check_at``), in batches, as seen at the last exception sweep: what
fell due since then is due now. Orders written since that sweep stay due
(the column's default, now), and so does every order when the sweep never
ran. Nothing else changes; the nightly reconciliation checks everything.
"""

import logging
import time

from odoo import SUPERUSER_ID, api
from odoo.addons.order_visibility.tools.constants import BATCH_SIZE

_logger = logging.getLogger(__name__)


def fill_next_checks(env):
    """Schedule the next check of every order not written since the last sweep; returns how many."""
    cron = env.ref("order_visibility.ir_cron_exception_sweep", raise_if_not_found=False)
    last_sweep = cron and cron.lastcall
    if not last_sweep:
        return 0
    Visibility = env["order.visibility"]
    ids = Visibility.search([("write_date", "<=", last_sweep)], order="id").ids
    started = time.monotonic()
    for start in range(0, len(ids), BATCH_SIZE):
        Visibility.browse(ids[start : start + BATCH_SIZE])._schedule_next_check(last_sweep)
        env.invalidate_all()
        done = min(start + BATCH_SIZE, len(ids))
        if done == len(ids) or not done % (10 * BATCH_SIZE):
            _logger.info(
                "order visibility: next checks of %s / %s orders (%.1f s)", done, len(ids), time.monotonic() - started
            )
    return len(ids)


def migrate(cr, version):
    if not version:
        return
    fill_next_checks(api.Environment(cr, SUPERUSER_ID, {}))
