# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

CONTROL_TOWER_CHANNEL = "order_visibility_dashboard.control_tower"
# Sub-channel of each company: (res.company record, CONTROL_TOWER_SUBCHANNEL).
CONTROL_TOWER_SUBCHANNEL = "order_visibility_control_tower"


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        """The control tower asks for its channel by name; an Order Visibility
        user gets the change notices of each company they may work in."""
        channels = list(channels)  # do not alter the client's list
        if CONTROL_TOWER_CHANNEL in channels:
            channels.remove(CONTROL_TOWER_CHANNEL)
            channels.extend(self._control_tower_channels())
        return super()._build_bus_channel_list(channels)

    def _control_tower_channels(self):
        if not self.env.user.has_group("order_visibility.group_order_visibility_user"):
            return []
        return [(company, CONTROL_TOWER_SUBCHANNEL) for company in self.env.user.company_ids]
