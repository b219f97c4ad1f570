# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Events of the returns lifecycle (core: order_visibility_returns.py)."""

from odoo import models

# A step of the returns lifecycle -> the event it emits (the others emit none).
RETURN_EVENTS = {
    "requested": "order.return_requested",
    "received": "order.return_received",
    "refunded": "order.refunded",
}


def _iso(moment):
    return moment.isoformat() + "Z" if moment else None


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    def _on_return_steps(self, steps):
        """Each step to requested, received or refunded emits its event, in the
        same transaction as the documents that caused it."""
        super()._on_return_steps(steps)
        if not self.env["order.visibility.webhook.endpoint"]._companies_with_active_endpoints():
            return
        steps = steps.sudo().filtered(lambda s: s.to_state in RETURN_EVENTS)
        steps.fetch(["visibility_id", "from_state", "to_state", "changed_at", "returned_qty", "returned_value"])
        self.env["order.visibility.webhook.delivery"]._emit_events(
            [
                {
                    "visibility": step.visibility_id,
                    "type": RETURN_EVENTS[step.to_state],
                    "data": {
                        "return_step_id": step.id,
                        "return_state": step.to_state,
                        "previous_return_state": step.from_state or "none",
                        "returned_qty": step.returned_qty,
                        "returned_value": step.company_currency_id.round(step.returned_value),
                        "currency": step.company_currency_id.name,
                        "changed_at": _iso(step.changed_at),
                    },
                }
                for step in steps.sorted("id")
            ]
        )
