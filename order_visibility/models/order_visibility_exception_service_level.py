# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Service levels of the exception queue: how long exceptions wait to be
acknowledged and resolved, stored for the exception analysis. Kept by the
server (see LIFECYCLE_FIELDS in order_visibility_exception.py)."""

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.dates import hours_between

# Time field: the moment without which it has no value yet (stored as 0).
RESOLUTION_TIMES = {"hours_to_acknowledge": "acknowledged_at", "hours_to_resolve": "resolved_at"}


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

    def _read_group_select(self, aggregate_spec, query):
        """The average time to acknowledge (resolve) of a group is over its
        exceptions acknowledged (resolved) only: one still waiting has no
        time yet, not 0 hours."""
        fname, __, func = aggregate_spec.partition(":")
        if func != "avg" or fname not in RESOLUTION_TIMES:
            return super()._read_group_select(aggregate_spec, query)
        return SQL(
            "AVG(%s) FILTER (WHERE %s IS NOT NULL)",
            self._field_to_sql(self._table, fname, query),
            self._field_to_sql(self._table, RESOLUTION_TIMES[fname], query),
        )
