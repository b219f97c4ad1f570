from . import models
from . import report
from . import tools
from . import wizard


def _post_init_backfill_visibility(env):
    """Give every existing order its visibility record, in batches."""
    order_ids = env["sale.order"].search([], order="id").ids
    for start in range(0, len(order_ids), 1000):
        batch = env["sale.order"].browse(order_ids[start : start + 1000])
        env["order.visibility"]._recompute_orders(batch, cause="installation")
        env.flush_all()
        env.invalidate_all()
