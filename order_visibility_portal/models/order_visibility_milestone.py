# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class OrderVisibilityMilestone(models.Model):
    _inherit = "order.visibility.milestone"

    def _notify_received(self):
        """A carrier's milestone refreshes the order's open portal pages."""
        result = super()._notify_received()
        self.visibility_id._ov_notify_portal()
        return result
