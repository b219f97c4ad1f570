# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import http
from odoo.addons.sale.controllers.portal import CustomerPortal
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from .track import MAX_ORDER_ID


class OrderVisibilityPortal(CustomerPortal):
    @http.route("/my/orders/<int:order_id>/proof_of_delivery", type="http", auth="public", methods=["GET"])
    def portal_order_proof_of_delivery(self, order_id, access_token=None, **kw):
        """The proof of delivery of an order, to whoever may read the order
        (its customer's portal users, or the holder of its access link): the
        attachment itself stays unreadable to them."""
        if not 0 < order_id <= MAX_ORDER_ID:
            raise request.not_found()
        try:
            order_sudo = self._document_check_access("sale.order", order_id, access_token=access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        attachment = order_sudo._ov_proof_attachment()
        if not attachment:
            raise request.not_found()
        return request.env["ir.binary"]._get_stream_from(attachment).get_response(as_attachment=True)

    # Not readonly: the page asks right after the bus said the order changed,
    # and a hot standby may not have that commit yet.
    @http.route("/my/orders/<int:order_id>/where_is_my_order", type="http", auth="public", methods=["GET"])
    def portal_order_where_is_my_order(self, order_id, access_token=None, **kw):
        """The "where is my order" card alone (the order page refetches it
        when the bus says the order changed), with the page's access check:
        its customer's portal users, or the holder of its access link.
        Anything else answers 404."""
        if not 0 < order_id <= MAX_ORDER_ID:
            raise request.not_found()
        try:
            order_sudo = self._document_check_access("sale.order", order_id, access_token=access_token)
        except (AccessError, MissingError):
            raise request.not_found() from None
        if order_sudo.state not in ("sale", "cancel"):
            raise request.not_found()
        return request.render(
            "order_visibility_portal.where_is_my_order",
            {"sale_order": order_sudo, "access_token": access_token},
            headers={"Cache-Control": "no-store"},
        )
