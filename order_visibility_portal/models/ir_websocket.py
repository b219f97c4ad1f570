# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Who may listen to an order's portal channel: checked here, on the server,
from the session and the token the page holds; never the client's word."""

import re

from odoo import models
from odoo.tools import consteq

from .order_visibility import CHANNEL_TAG

# What an order's portal page asks for: the order's id, then the access
# token when the page was opened with one.
CLIENT_CHANNEL = re.compile(r"order_visibility_portal\.order_([1-9][0-9]{0,9})(?:_([A-Za-z0-9-]{1,64}))?")
MAX_ORDERS = 10  # order channels one subscription may ask for
MAX_ORDER_ID = 2**31 - 1


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        channels = list(channels)  # do not alter the caller's list
        asked = []
        for channel in list(channels):
            if isinstance(channel, str) and channel.startswith("order_visibility_portal."):
                channels.remove(channel)  # never subscribed as such
                match = CLIENT_CHANNEL.fullmatch(channel)
                if match and int(match[1]) <= MAX_ORDER_ID and len(asked) < MAX_ORDERS:
                    asked.append((int(match[1]), match[2] or ""))
        channels.extend((order, CHANNEL_TAG) for order in self._ov_viewable_orders(asked))
        return super()._build_bus_channel_list(channels)

    def _ov_viewable_orders(self, asked):
        """The orders of ``asked`` ([(order id, token)]) whose portal page the
        current user may read: with the order's access token, or through the
        portal's own record rules (a customer's portal users)."""
        if not asked:
            return self.env["sale.order"]
        # sudo: existence and token only; the access itself is checked below.
        orders = self.env["sale.order"].sudo().browse({order_id for order_id, _token in asked}).exists()
        tokens = {}
        for order_id, token in asked:
            tokens.setdefault(order_id, set()).add(token)
        allowed = self.env["sale.order"]
        for order in orders:
            if any(token and order.access_token and consteq(order.access_token, token) for token in tokens[order.id]):
                allowed |= order
            elif not self.env.user._is_public() and order.with_user(self.env.uid).has_access("read"):
                allowed |= order
        return allowed.sudo()
