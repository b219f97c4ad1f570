# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
from collections import defaultdict

from odoo import fields, models

# Points a carrier delay past the promised date adds to the risk score.
CARRIER_DELAY_POINTS = 30


class OrderVisibility(models.Model):
    _inherit = "order.visibility"

    milestone_ids = fields.One2many("order.visibility.milestone", "visibility_id", string="Delivery Milestones")

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

    def _update_risk(self, facts=None):
        """The core's score, plus the last carrier delay when its new ETA is
        past the promised date (until a later milestone supersedes it)."""
        super()._update_risk(facts)
        late = self._carrier_delays()
        if not late:
            return
        changed = defaultdict(list)
        for visibility in self.browse(late):
            days = late[visibility.id]
            reasons = [r for r in visibility.risk_reasons or [] if r[0] != "carrier_delay"]
            reasons.append(["carrier_delay", {"days": days}])
            score = min(100, visibility.risk_score + CARRIER_DELAY_POINTS)
            if visibility.risk_score != score or (visibility.risk_reasons or []) != reasons:
                changed[score, json.dumps(reasons)].append(visibility.id)
        for (score, reasons), ids in changed.items():
            self.browse(ids).write({"risk_score": score, "risk_reasons": json.loads(reasons)})

    def _carrier_delays(self):
        """{visibility id: days past the promise} of the orders whose latest
        milestone is a delay with an ETA after the promised date."""
        if not self.ids:
            return {}
        latest = {}
        for milestone in (
            self.env["order.visibility.milestone"]
            .sudo()
            .search_fetch([("visibility_id", "in", self.ids)], ["visibility_id", "milestone", "eta", "occurred_at"])
        ):  # ordered by occurred_at desc: the first one seen is the latest
            latest.setdefault(milestone.visibility_id.id, milestone)
        delays = {}
        for visibility in self:
            milestone = latest.get(visibility.id)
            if visibility.stage == "cancelled" or not milestone or milestone.milestone != "delayed":
                continue
            promised = visibility.promised_date
            if milestone.eta and promised and milestone.eta > promised:
                delays[visibility.id] = round((milestone.eta - promised).total_seconds() / 86400.0, 1)
        return delays

    def _risk_reason_text(self, code, figures, stage_labels):
        if code == "carrier_delay":
            return self.env._("the carrier expects delivery %(days).1f days after the promise", days=figures["days"])
        return super()._risk_reason_text(code, figures, stage_labels)
