# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What a customer is told of an order's stage: plain values, no model.

The eleven internal stages of the engine collapse into a few customer
stages. Approval, credit hold and the like are the company's business: an
order waiting for them is simply "received".
"""

from odoo.addons.order_visibility.tools.constants import STAGES

# The customer stages, in the order of the progress line; their labels are
# in sale.order._ov_customer_stage_labels (translated in the reader's language).
CUSTOMER_STAGES = ("received", "preparing", "ready", "partially_shipped", "shipped", "delivered", "cancelled")
# Internal stage -> customer stage.
CUSTOMER_STAGE_OF = {
    "cancelled": "cancelled",
    "draft": "received",
    "pending_approval": "received",
    "credit_hold": "received",
    "confirmed": "preparing",
    "awaiting_stock": "preparing",
    "ready_to_ship": "ready",
    "partially_shipped": "partially_shipped",
    "shipped": "shipped",
    "invoiced": "shipped",
    "paid": "shipped",
}
assert set(CUSTOMER_STAGE_OF) == {code for code, _label in STAGES}
# The steps of the progress line (partially shipped sits on the shipped step).
PROGRESS_STEPS = ("received", "preparing", "ready", "shipped", "delivered")


def customer_stage_code(stage, delivered=False):
    """The customer stage of an order in internal ``stage``; ``delivered``:
    the carrier said it delivered (a delivered milestone or a proof of
    delivery). Delivered only once all goods have left: an order partly
    shipped stays partially shipped."""
    code = CUSTOMER_STAGE_OF.get(stage, "received")
    if delivered and code == "shipped":
        return "delivered"
    return code
