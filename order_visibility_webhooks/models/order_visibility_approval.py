# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class OrderVisibilityApproval(models.Model):
    _inherit = "order.visibility.approval"

    def _notify_decision(self, event):
        """``requested`` emits ``order.approval_requested``; a decision ``order.approval_decided``."""
        super()._notify_decision(event)
        if not self or not self.env["order.visibility.webhook.endpoint"]._companies_with_active_endpoints():
            return
        event_type = "order.approval_requested" if event == "requested" else "order.approval_decided"
        approvals = self.sudo()
        self.env["order.visibility.webhook.delivery"]._emit_events(
            [
                {
                    "visibility": approval.visibility_id,
                    "type": event_type,
                    "data": {
                        "approval": {
                            "id": approval.id,
                            "reason": approval.reason,
                            "state": approval.state,
                            "decided_by": approval.decided_by.name or None,
                            "note": approval.note or "",
                        }
                    },
                }
                for approval in approvals
            ]
        )
