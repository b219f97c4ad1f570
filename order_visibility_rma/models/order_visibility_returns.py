# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""OCA RMAs in the core's returns lifecycle: the RMAs of an order (the
order of the delivery move each returns) are more return documents of the
engine pass, read beside the return transfers and credit notes."""

from odoo import models

from .rma import RMA_ORDERS_KEY

# RMAs that ask for nothing yet (draft) or no more (cancelled).
SKIPPED_RMA_STATES = ("draft", "cancelled")
# RMAs whose goods go back to the customer as they came (no replacement).
RETURNED_TO_CUSTOMER = ("waiting_return", "returned")


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    def _visibility_rmas(self):
        """The confirmed RMAs of the orders of ``self``: one search."""
        return (
            self.env["rma"]
            .sudo()
            .search_fetch(
                [
                    ("move_id.sale_line_id.order_id", "in", self.sale_order_id.ids),
                    ("state", "not in", SKIPPED_RMA_STATES),
                ],
                ["name", "state", "move_id", "product_id", "product_uom", "product_uom_qty", "reception_move_id"],
                order="id",
            )
        )

    def _aftersales_order_ids(self, facts):
        # The orders whose RMAs changed in this transaction (rma.write): an
        # order with an RMA confirmed earlier has a return state already.
        ids = super()._aftersales_order_ids(facts)
        return ids | self.env.cr.precommit.data.get(RMA_ORDERS_KEY, set())

    def _return_documents(self):
        returns_of, exchanges_of, refunds_of = super()._return_documents()
        for rma in self._visibility_rmas():
            line = rma.move_id.sale_line_id
            order_id = line.order_id.id
            reception = rma.reception_move_id.filtered(lambda m: m.state != "cancel")
            value = 0.0
            if line.product_uom_qty:
                line_qty = rma.product_uom._compute_quantity(rma.product_uom_qty, line.product_uom_id)
                value = line_qty * line.price_subtotal / line.product_uom_qty
            # Without a reception (a service, or one created by hand later)
            # the RMA itself is the request; its state says when goods are back.
            received = reception.state == "done" if reception else rma.state not in ("confirmed",)
            reference = f"{rma.name} ({reception.picking_id.name})" if reception.picking_id else rma.name
            key = ("stock.move", reception.id) if reception else ("rma", rma.id)
            returns_of[order_id][key] = (
                reference,
                rma.product_uom._compute_quantity(rma.product_uom_qty, rma.product_id.uom_id),
                value,
                received,
            )
            # A replacement: a done delivery of the RMA to the customer (the
            # last step of a multi-step delivery), not a return of the goods
            # themselves (rma's "Return to customer": waiting_return, returned;
            # its delivery is fed by the reception).
            for move in rma.delivery_move_ids:
                if (
                    rma.state not in RETURNED_TO_CUSTOMER
                    and move.state == "done"
                    and move.location_dest_id.usage == "customer"
                    and not move.move_orig_ids & rma.reception_move_id
                ):
                    exchanges_of[order_id][("stock.move", move.id)] = f"{rma.name} ({move.picking_id.name})"
            refund = rma.refund_id
            if refund.state == "posted":
                refunds_of[order_id] |= refund
        return returns_of, exchanges_of, refunds_of
