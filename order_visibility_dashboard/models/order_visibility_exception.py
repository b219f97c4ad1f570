# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from .order_visibility_control_tower import ORDER_FILTER_COLUMNS, prefill_order_columns


class OrderVisibilityException(models.Model):
    _inherit = "order.visibility.exception"

    # The control tower's queue (worst first, then oldest): the first rows of
    # this index, not a sort of every open exception.
    _queue_idx = models.Index("(severity_rank DESC, opened_at, id) WHERE state != 'resolved'")

    # The control tower's warehouse, sales team and customer priority
    # filters, stored on the exception (kept by the ORM from its order) so
    # that its figures read the exceptions alone, without a join to every
    # order.
    warehouse_id = fields.Many2one(related="visibility_id.warehouse_id", store=True)
    team_id = fields.Many2one(related="visibility_id.team_id", string="Sales Team", store=True)
    customer_priority = fields.Selection(related="visibility_id.customer_priority", store=True)

    # Exceptions opened per day: index-only range counts on the period.
    _opened_at_idx = models.Index(f"(opened_at) INCLUDE ({ORDER_FILTER_COLUMNS})")

    # Open, unacknowledged and overdue exceptions per severity: index-only
    # range counts (see order.visibility.control.tower's _exception_figures).
    _open_severity_idx = models.Index(
        f"(severity, state, type_id, opened_at) INCLUDE ({ORDER_FILTER_COLUMNS}) WHERE state != 'resolved'"
    )

    def _auto_init(self):
        prefill_order_columns(self)
        return super()._auto_init()

    def _notify_change(self, event):
        result = super()._notify_change(event)
        self.env["order.visibility"]._notify_control_tower(self)
        return result

    def action_acknowledge(self):
        result = super().action_acknowledge()
        self.env["order.visibility"]._notify_control_tower(self)
        return result

    def action_snooze(self, until, reason=None):
        result = super().action_snooze(until, reason)
        self.env["order.visibility"]._notify_control_tower(self)
        return result

    def write(self, vals):
        result = super().write(vals)
        if "owner_id" in vals or "severity" in vals:
            self.env["order.visibility"]._notify_control_tower(self)
        return result

    @api.model
    def _cron_escalate(self):
        return self.env["order.visibility.cron.run"]._record_run("escalation", super()._cron_escalate)
