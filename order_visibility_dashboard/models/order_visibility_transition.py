# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

from .order_visibility_control_tower import ORDER_FILTER_COLUMNS, prefill_order_columns
from .order_visibility_control_tower_trends import CONFIRMED_TRANSITIONS, SHIPPED_TRANSITIONS, transition_condition


class OrderVisibilityTransition(models.Model):
    _inherit = "order.visibility.transition"

    # The control tower's warehouse, sales team and customer priority
    # filters, stored on the transition (kept by the ORM from its order) so
    # that the throughput reads the transitions alone, without a join to
    # every order. Precomputed: written by the INSERT, not a later UPDATE.
    warehouse_id = fields.Many2one(related="visibility_id.warehouse_id", store=True, precompute=True)
    team_id = fields.Many2one(related="visibility_id.team_id", string="Sales Team", store=True, precompute=True)
    customer_priority = fields.Selection(related="visibility_id.customer_priority", store=True, precompute=True)

    # The throughput: per series, the transitions of that series by date with
    # the filters (index-only range counts per day, see
    # order.visibility.control.tower's _count_per_day); a transition is in at most one.
    _throughput_confirmed_idx = models.Index(
        f"(changed_at) INCLUDE ({ORDER_FILTER_COLUMNS}) WHERE {transition_condition(CONFIRMED_TRANSITIONS)}"
    )
    _throughput_shipped_idx = models.Index(
        f"(changed_at) INCLUDE ({ORDER_FILTER_COLUMNS}) WHERE {transition_condition(SHIPPED_TRANSITIONS)}"
    )

    def _auto_init(self):
        prefill_order_columns(self)
        return super()._auto_init()
