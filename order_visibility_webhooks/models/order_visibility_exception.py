# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

EXCEPTION_EVENTS = {
    "opened": "order.exception_opened",
    "escalated": "order.exception_escalated",
    "resolved": "order.exception_resolved",
}


class OrderVisibilityException(models.Model):
    _inherit = "order.visibility.exception"

    def _notify_change(self, event):
        """Exception lifecycle events become ``order.exception_<event>`` webhooks."""
        super()._notify_change(event)
        event_type = EXCEPTION_EVENTS.get(event)
        if not event_type or not self:
            return
        if not self.env["order.visibility.webhook.endpoint"]._companies_with_active_endpoints():
            return
        exceptions = self.sudo()
        exceptions.fetch(["visibility_id", "code", "severity", "state", "detail", "opened_at", "resolved_at"])
        self.env["order.visibility.webhook.delivery"]._emit_events(
            [
                {
                    "visibility": exception.visibility_id,
                    "type": event_type,
                    "data": {
                        "exception": {
                            "id": exception.id,
                            "type": exception.code,
                            "severity": exception.severity,
                            "state": exception.state,
                            "detail": exception.detail or "",
                        }
                    },
                }
                for exception in exceptions
            ]
        )
