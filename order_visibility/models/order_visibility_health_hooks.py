# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models


class OrderVisibility(models.Model):
    """Hooks through which the suite's addons contribute to the control tower
    without depending on each other (both depend on this core)."""

    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _control_tower_webhook_health(self, filters, now):
        """Outbound webhook health for the control tower, or False (no tile).

        ``filters``: the control tower's parsed filters (``company_ids``:
        the companies chosen, empty for all the allowed ones); ``now``: the
        datetime the figures are computed at. Overridden by the webhooks
        addon; each figure comes with the domain of its drill-down."""
        return False
