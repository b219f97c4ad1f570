# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models


class OrderVisibilityException(models.Model):
    _inherit = "order.visibility.exception"

    # The control tower's queue (worst first, then oldest): the first rows of
    # this index, not a sort of every open exception.
    _queue_idx = models.Index("(severity_rank DESC, opened_at, id) WHERE state != 'resolved'")

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
