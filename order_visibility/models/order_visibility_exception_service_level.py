# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Service levels of the exception queue: how long exceptions wait to be
acknowledged and resolved, stored for the exception analysis. Kept by the
server (see LIFECYCLE_FIELDS in order_visibility_exception.py)."""

from odoo import api, fields, models

from ..tools.dates import hours_between


class OrderVisibilityException(models.Model):
    _inherit = "order.visibility.exception"

    hours_to_acknowledge = fields.Float(
        string="Time to Acknowledge (hours)",
        compute="_compute_resolution_times",
        store=True,
        aggregator="avg",
        help="Hours from the opening of the exception to its acknowledgement.",
    )
    hours_to_resolve = fields.Float(
        string="Time to Resolve (hours)",
        compute="_compute_resolution_times",
        store=True,
        aggregator="avg",
        help="Hours from the opening of the exception to its resolution.",
    )

    @api.depends("opened_at", "acknowledged_at", "resolved_at")
    def _compute_resolution_times(self):
        for exception in self:
            exception.hours_to_acknowledge = hours_between(exception.opened_at, exception.acknowledged_at)
            exception.hours_to_resolve = hours_between(exception.opened_at, exception.resolved_at)
