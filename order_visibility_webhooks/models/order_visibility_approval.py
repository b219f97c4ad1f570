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
                    "data": {"approval": approval._webhook_event_data()},
                }
                for approval in approvals
            ]
        )

    def _webhook_event_data(self):
        """The approval as ``order.approval_*`` events carry it; an ``expedite``
        approval adds its cost, the currency code and the margin (%) before and
        after the cost (see docs/webhooks/README.md)."""
        self.ensure_one()
        data = {
            "id": self.id,
            "reason": self.reason,
            "state": self.state,
            "decided_by": self.decided_by.name or None,
            "note": self.note or "",
        }
        if self.reason == "expedite":
            currency = self.currency_id
            data["expedite_cost"] = currency.round(self.expedite_cost) if currency else self.expedite_cost
            data["currency"] = currency.name or None
            # Both are written with the request (order.visibility.action_request_expedite).
            data["margin_before"] = self.margin_before
            data["margin_after"] = self.margin_after
        return data
