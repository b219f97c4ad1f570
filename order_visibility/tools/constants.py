# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the order visibility models share: stages, causes, stage groups,
severities, keys and batch sizes. Plain values, no model: the models and
the other addons import them from here, not from a model file."""

STAGES = [
    ("cancelled", "Cancelled"),
    ("draft", "Quotation"),
    ("pending_approval", "Pending Approval"),
    ("credit_hold", "Credit Hold"),
    ("confirmed", "Confirmed"),
    ("awaiting_stock", "Awaiting Stock"),
    ("ready_to_ship", "Ready to Ship"),
    ("partially_shipped", "Partially Shipped"),
    ("shipped", "Shipped"),
    ("invoiced", "Invoiced"),
    ("paid", "Paid"),
]
SEVERITIES = [("low", "Low"), ("medium", "Medium"), ("high", "High"), ("critical", "Critical")]
SEVERITY_RANK = {code: rank for rank, (code, _label) in enumerate(SEVERITIES)}
PRIORITIES = [("0", "Normal"), ("1", "Important"), ("2", "Critical")]
# Moves waiting for stock (not for another operation of the route).
SHORT_MOVE_STATES = ("confirmed", "partially_available")
PAID_STATES = ("paid", "in_payment")
DIRTY_KEY = "order_visibility.dirty_orders"
NEW_QUOTATIONS_KEY = "order_visibility.new_quotations"
# cr.postcommit.data key of the notices sent once the transaction commits:
# {kind: {model name: record ids}} (order.visibility._notify_after_commit).
NOTICES_KEY = "order_visibility.after_commit_notices"
# Where an interrupted reconciliation resumes (JSON: last order id, totals so far).
RECONCILE_PROGRESS_KEY = "order_visibility.reconcile_progress"
# Confirmed stages in which goods still have to leave the company.
TO_SHIP_STAGES = ("credit_hold", "awaiting_stock", "ready_to_ship", "partially_shipped")
OPEN_CONFIRMED_STAGES = ("confirmed", *TO_SHIP_STAGES)
CLOSED_STAGES = ("cancelled", "paid")
BATCH_SIZE = 1000
# What a recompute pass reads of sales orders and their lines (stage facts
# are read separately, see OrderVisibility._stage_facts).
ORDER_FIELDS = [
    "state", "company_id", "currency_id", "partner_id", "date_order", "commitment_date", "picking_policy",
    "amount_untaxed", "amount_total", "visibility_stage", "warehouse_id",
]  # fmt: skip
MOVE_FIELDS = [
    "state", "procure_method", "location_id", "picking_id", "product_id", "product_uom", "product_uom_qty",
    "quantity", "purchase_line_id",
]  # fmt: skip
LINE_FIELDS = [
    "order_id", "product_id", "product_uom_qty", "product_uom_id", "display_type", "state", "customer_lead",
]  # fmt: skip
# What can cause a change of stage: stored as a code on each transition,
# shown in the reader's language.
CAUSES = [
    ("installation", "Order Visibility installed"),
    ("order_created", "Order created"),
    ("order_confirmed", "Order confirmed"),
    ("order_cancelled", "Order cancelled"),
    ("order_reset_to_quotation", "Order reset to quotation"),
    ("quotation_sent", "Quotation sent"),
    ("order_updated", "Order updated"),
    ("approval_requested", "Approval requested"),
    ("approval_granted", "Approval granted"),
    ("approval_rejected", "Approval rejected"),
    ("credit_hold", "Credit hold"),
    ("credit_hold_released", "Credit hold released"),
    ("stock_reserved", "Stock reserved"),
    ("stock_partially_reserved", "Stock partially reserved"),
    ("waiting_for_stock", "Waiting for stock"),
    ("goods_moved", "Goods moved"),
    ("move_cancelled", "Move cancelled"),
    ("stock_updated", "Stock updated"),
    ("invoice_posted", "Invoice posted"),
    ("invoice_cancelled", "Invoice cancelled"),
    ("invoice_reset_to_draft", "Invoice reset to draft"),
    ("invoice_reversed", "Invoice reversed"),
    ("invoice_updated", "Invoice updated"),
    ("payment_registered", "Payment registered"),
    ("payment_removed", "Payment removed"),
    ("milestone_received", "Milestone received"),
    ("fulfilment_reassigned", "Fulfilment reassigned"),
    ("reconciliation", "Reconciliation"),
    ("manual", "Recomputed by hand"),
    ("recompute", "Recomputed"),
]
CAUSE_CODES = frozenset(code for code, _label in CAUSES)
# The events that best explain reaching a stage, when several happened.
STAGE_CAUSES = {
    "cancelled": ("order_cancelled",),
    "draft": ("order_reset_to_quotation", "order_created"),
    "confirmed": ("order_confirmed",),
    "awaiting_stock": ("order_confirmed", "waiting_for_stock"),
    "ready_to_ship": ("fulfilment_reassigned", "stock_reserved", "order_confirmed"),
    "partially_shipped": ("goods_moved",),
    "shipped": ("goods_moved", "move_cancelled", "invoice_reversed", "invoice_cancelled"),
    "invoiced": ("invoice_posted", "payment_removed"),
    "paid": ("payment_registered",),
}
# What moved a promised date after the first confirmation, as far as the
# engine can tell: the promise follows the order (its commitment date, else
# the expected date of its lines), so an edit of the order moves it.
# A user moving the promise says why (customer_request, supplier_delay); the
# engine tells supplier_delay from the purchases feeding the order and the
# webhooks addon carrier_eta from a carrier's ETA (see _promise_change_causes).
PROMISE_CAUSES = [
    ("customer_request", "Customer request"),
    ("supplier_delay", "Supplier delay"),
    ("carrier_eta", "Carrier ETA"),
    ("order_edited", "Order edited"),
    ("other", "Other"),
]
# The engine's cause of a recompute -> the cause of the promise change it found.
PROMISE_CAUSE_OF = {"order_updated": "order_edited"}
# Where the Move Promise wizard leaves the cause a user gave, for the
# engine's pass of the same transaction ({order id: cause}).
PROMISE_CAUSES_KEY = "order_visibility.declared_promise_causes"
# The rolling window of a customer's OTIF (its form, its target).
OTIF_WINDOW_DAYS = 90
# Stages of an order whose goods have all left (or that has nothing to ship).
SHIPPED_STAGES = ("shipped", "invoiced", "paid")
# The measures of an order's service level, empty until it has shipped.
SERVICE_LEVEL_FIELDS = (
    "is_measured", "fully_shipped_date", "is_on_time", "is_in_full", "is_otif", "fill_rate",
    "quotation_to_confirmed_hours", "confirmed_to_shipped_hours", "paid_date", "confirmed_to_paid_hours",
)  # fmt: skip
# Returns: a lifecycle beside the stage (order.visibility.return_state). A
# return or a credit note never reopens a fulfilment stage.
RETURN_STATES = [
    ("none", "No Return"),
    ("requested", "Return Requested"),
    ("received", "Goods Returned"),
    ("refunded", "Refunded"),
    ("replaced", "Replaced"),
]
# Payment states of a customer invoice that leave nothing to collect once a
# credit note exists (reversed: credited in full).
SETTLED_STATES = (*PAID_STATES, "reversed")
# More orders due than this at once (a threshold changed in Settings): the
# exception sweep makes one pass over every order instead of listing them.
SWEEP_FULL_PASS_ABOVE = 20_000
# The thresholds (Settings) the last full pass of the exception sweep ran
# with: when they differ, the next sweep makes a full pass.
THRESHOLDS_KEY = "order_visibility.sweep_thresholds"
