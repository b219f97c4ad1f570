# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Upgrade to 19.0.1.3.0: returns and refunds, a lifecycle beside the stage.

Orders with a return transfer (moves from the customer that return an
earlier move) or a posted credit note get their ``return_state``, returned
quantity and value, in batches. No step is logged and nothing is emitted
for returns that happened before the upgrade. Stages that a return or a
credit note had pushed back are put right by the nightly reconciliation
(its drift counts them once). See docs/user/stages.md.
"""

from odoo import SUPERUSER_ID, api
from odoo.addons.order_visibility.tools.constants import BATCH_SIZE


def orders_with_returns(env):
    """Ids of the orders with a return transfer or a posted credit note."""
    env.cr.execute(
        """SELECT DISTINCT line.order_id
             FROM stock_move ret
             JOIN sale_order_line line ON line.id = ret.sale_line_id
            WHERE ret.origin_returned_move_id IS NOT NULL AND ret.state != 'cancel'
            UNION
           SELECT DISTINCT line.order_id
             FROM account_move refund
             JOIN account_move_line item ON item.move_id = refund.id
             JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = item.id
             JOIN sale_order_line line ON line.id = rel.order_line_id
            WHERE refund.move_type = 'out_refund' AND refund.state = 'posted'"""
    )
    return sorted(row[0] for row in env.cr.fetchall())


def fill_return_states(env):
    """Write the returns lifecycle of every order that has one; returns how many."""
    Visibility = env["order.visibility"]
    visibilities = Visibility.search([("sale_order_id", "in", orders_with_returns(env))], order="id")
    for start in range(0, len(visibilities), BATCH_SIZE):
        batch = visibilities[start : start + BATCH_SIZE]
        for visibility_id, (state, qty, value, _note) in batch._return_values().items():
            Visibility.browse(visibility_id).write(
                {
                    "return_state": state,
                    "return_state_since": Visibility.browse(visibility_id).stage_since,
                    "returned_qty": qty,
                    "returned_value": value,
                }
            )
        env.flush_all()
        env.invalidate_all()
    return len(visibilities)


def migrate(cr, version):
    if not version:
        return
    fill_return_states(api.Environment(cr, SUPERUSER_ID, {}))
