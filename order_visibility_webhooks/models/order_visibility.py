# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class OrderVisibility(models.Model):
    _inherit = "order.visibility"

    def _on_transitions(self, transitions):
        """Each real stage change emits ``order.status_changed``, in the same transaction."""
        super()._on_transitions(transitions)
        Delivery = self.env["order.visibility.webhook.delivery"]
        if not self.env["order.visibility.webhook.endpoint"]._companies_with_active_endpoints():
            return
        Delivery._emit_events(
            [
                {
                    "visibility": transition.visibility_id,
                    "type": "order.status_changed",
                    "data": {
                        "old_stage": transition.from_stage or None,
                        "new_stage": transition.to_stage,
                        "cause": transition.cause or None,
                        "changed_at": transition.changed_at.isoformat() + "Z",
                    },
                }
                for transition in transitions.sorted("id")
            ]
        )
