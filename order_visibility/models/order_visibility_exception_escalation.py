# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Escalation of unacknowledged exceptions, and the scheduled action that
escalates them and wakes snoozed ones."""

import logging
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

from ..tools.constants import SEVERITIES, SEVERITY_RANK

_logger = logging.getLogger(__name__)

# Exceptions escalated per committed batch of the escalation cron.
ESCALATION_BATCH_SIZE = 500


class OrderVisibilityException(models.Model):
    _inherit = "order.visibility.exception"  # pylint: disable=consider-merging-classes-inherited

    def _escalate(self, reason):
        self = self.sudo()  # lifecycle fields: written by the engine only
        by_severity = defaultdict(self.browse)
        for exception in self:
            rank = min(SEVERITY_RANK[exception.severity] + 1, len(SEVERITIES) - 1)
            by_severity[SEVERITIES[rank][0]] |= exception
        now = fields.Datetime.now()
        for severity, exceptions in by_severity.items():
            exceptions.write({"severity": severity, "escalated_at": now})
        for exception in self:
            exception.escalation_count += 1
            managers = exception._escalation_recipients()
            exception.message_post(
                body=reason,
                partner_ids=managers.partner_id.ids,
                subtype_xmlid="mail.mt_comment",
                message_type="comment",
            )
        self._notify_change("escalated")

    def _escalation_recipients(self):
        self.ensure_one()
        group = self.env.ref("order_visibility.group_order_visibility_manager")
        return group.all_user_ids.filtered(lambda u: not u.share and self.company_id in u.company_ids)

    @api.model
    def _cron_escalate(self):
        """Escalate unacknowledged exceptions past their type's hours; wake snoozed ones.

        A woken exception keeps its ``opened_at`` (the aging figures read it):
        its escalation time counts from ``woken_at``. Batched: when the
        scheduler's time is up it stops, and the next run goes on.
        """
        self = self.sudo()
        now = fields.Datetime.now()
        woken = self.search([("state", "=", "snoozed"), ("snoozed_until", "<=", now)])
        woken.write({"state": "open", "snoozed_until": False, "woken_at": now})
        due = self.search([("is_overdue", "=", True)])
        # Escalate again only one full period after the previous escalation.
        due = due.filtered(
            lambda e: not e.escalated_at or e.escalated_at + timedelta(hours=e.type_id.escalation_hours) < now
        )
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(due))
        escalated = 0
        for batch_start in range(0, len(due), ESCALATION_BATCH_SIZE):
            batch = due[batch_start : batch_start + ESCALATION_BATCH_SIZE]
            batch._escalate(self.env._("Not acknowledged in time: escalated automatically."))
            escalated += len(batch)
            if not cron._commit_progress(len(batch)):
                break
        _logger.info("order visibility escalation: %s escalated, %s woken from snooze", escalated, len(woken))
        return escalated
