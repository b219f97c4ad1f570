import logging
import time

from . import models
from . import report
from . import tools
from . import wizard
from .tools.constants import BATCH_SIZE

_logger = logging.getLogger(__name__)


def _post_init_backfill_visibility(env):
    """Give every existing order its visibility record, in batches, logging
    progress (orders done, rate, time left) as it goes.

    Chatter tracking is off for this pass: each order's first stage is its
    transition (cause ``installation``), not a message on 100,000 records.
    """
    engine = env["order.visibility"].with_context(tracking_disable=True)
    order_ids = env["sale.order"].search([], order="id").ids
    total = len(order_ids)
    started = last_log = time.monotonic()
    for start in range(0, total, BATCH_SIZE):
        batch = env["sale.order"].browse(order_ids[start : start + BATCH_SIZE])
        engine._install_on_orders(batch)
        env.flush_all()
        env.invalidate_all()
        done, now = start + len(batch), time.monotonic()
        if now - last_log >= 5 or done == total:
            last_log = now
            rate = done / max(now - started, 1e-6)
            _logger.info(
                "order visibility: installing on existing orders: %s / %s done (%.0f orders/s), about %.0f s left",
                f"{done:,}",
                f"{total:,}",
                rate,
                (total - done) / rate,
            )
