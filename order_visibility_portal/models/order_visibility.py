# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The portal's side of the engine: the customer updates carry the order's
portal link, and the order's open portal pages hear of its changes."""

from odoo import api, models

# The bus notification an order's portal page listens to; its payload is the
# order's id only (the page refetches its card through the access check).
REFRESH_TYPE = "order_visibility_portal/refresh"
# The server-side channel of an order's portal viewers: (order, CHANNEL_TAG).
# A client can only name string channels, so it cannot join this one but
# through ir.websocket._build_bus_channel_list, which checks its access.
CHANNEL_TAG = "order_visibility_portal.viewers"
# The kind of the after-commit notices of the portal pages (see
# order.visibility._notify_after_commit).
PORTAL_NOTICES = "portal"


class OrderVisibility(models.Model):
    _inherit = "order.visibility"

    def _customer_update_link(self):
        """The order's portal page, absolute, with its access token: the
        customer opens it from the update without an account."""
        self.ensure_one()
        # sudo: the token is created on the order if it has none yet.
        order = self.sale_order_id.sudo()
        if not order:
            return super()._customer_update_link()
        order._portal_ensure_token()
        return order.get_base_url() + order.get_portal_url()

    def _on_transitions(self, transitions):
        """A stage change refreshes the order's open portal pages."""
        result = super()._on_transitions(transitions)
        transitions.visibility_id._ov_notify_portal()
        return result

    def _on_promise_changes(self, changes):
        """A moved promise refreshes the order's open portal pages."""
        result = super()._on_promise_changes(changes)
        changes.sudo().visibility_id._ov_notify_portal()
        return result

    def _ov_notify_portal(self):
        """Tell the open portal pages of these orders to refetch their card,
        once the transaction commits (the core's ``_notify_after_commit``:
        no query in the user's transaction, nothing on a rollback)."""
        self._notify_after_commit(PORTAL_NOTICES, self)

    @api.model
    def _send_notices(self, pending):
        """One refresh per confirmed or cancelled order noted (a quotation
        has no card to refresh)."""
        ids = pending.get(PORTAL_NOTICES, {}).get(self._name)
        if ids:
            # Searched, not browsed: a record deleted since is simply
            # skipped. The orders' state only, not whole orders.
            visibilities = self.sudo().search_fetch([("id", "in", list(ids))], ["sale_order_id"])
            orders = visibilities.sale_order_id
            orders.fetch(["state"])
            orders = orders.filtered(lambda o: o.state in ("sale", "cancel"))
            bus = self.env["bus.bus"].sudo()
            for order in orders:
                bus._sendone((order, CHANNEL_TAG), REFRESH_TYPE, {"order_id": order.id})
        return super()._send_notices(pending)
