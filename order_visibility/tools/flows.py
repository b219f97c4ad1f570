# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The business flows an order goes through, done the way a user does them.

Shared by the tests, the demo scenario and the bulk generator, so that each
takes an order through Odoo's own paths (the transfer validation with its
backorder wizard, the invoicing, the payment wizard) in one way only.
"""


def validate_transfer(picking, quantities=None, backorder=True):
    """Validate ``picking`` as a warehouse user does.

    ``quantities``: {product: quantity} to ship (the others: nothing); None
    ships what is reserved. When Odoo asks about the rest, ``backorder``
    keeps it open as a backorder, else it is cancelled. Returns the picking.
    """
    # skip_sms: no SMS to customers and no "send SMS?" wizard.
    picking = picking.with_context(skip_sms=True)
    for move in picking.move_ids:
        if quantities is not None:
            move.quantity = quantities.get(move.product_id, 0)
        if move.quantity:
            move.picked = True
    result = picking.button_validate()
    if isinstance(result, dict) and result.get("res_model") == "stock.backorder.confirmation":
        wizard = picking.env["stock.backorder.confirmation"].with_context(**result["context"]).create({})
        if backorder:
            wizard.process()
        else:
            wizard.process_cancel_backorder()
    return picking


def invoice_orders(orders, invoice_date=None):
    """Create and post the invoices of ``orders``; returns them."""
    invoices = orders._create_invoices()
    if invoice_date:
        invoices.invoice_date = invoice_date
    invoices.action_post()
    return invoices


def register_payment(invoices, payment_date=None):
    """Pay ``invoices`` in full through the Register Payment wizard."""
    values = {"payment_date": payment_date} if payment_date else {}
    wizard = invoices.env["account.payment.register"].with_context(active_model="account.move", active_ids=invoices.ids)
    return wizard.create(values)._create_payments()
