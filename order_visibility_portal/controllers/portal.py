# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import http
from odoo.addons.sale.controllers.portal import CustomerPortal
from odoo.exceptions import AccessError, MissingError
from odoo.http import request


class OrderVisibilityPortal(CustomerPortal):
    @http.route("/my/orders/<int:order_id>/proof_of_delivery", type="http", auth="public", methods=["GET"])
    def portal_order_proof_of_delivery(self, order_id, access_token=None, **kw):
        """The proof of delivery of an order, to whoever may read the order
        (its customer's portal users, or the holder of its access link): the
        attachment itself stays unreadable to them."""
        try:
            order_sudo = self._document_check_access("sale.order", order_id, access_token=access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        attachment = order_sudo._ov_proof_attachment()
        if not attachment:
            raise request.not_found()
        return request.env["ir.binary"]._get_stream_from(attachment).get_response(as_attachment=True)
