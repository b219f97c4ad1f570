# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields, models

from ..tools.constants import ADMIN_GROUP


class OrderVisibilityWebhookEndpoint(models.Model):
    """Health of an endpoint, kept by the dispatcher: failures, auto-disable, backlog."""

    # One concern per file (see order_visibility_webhook_endpoint.py), on purpose.
    _inherit = "order.visibility.webhook.endpoint"  # pylint: disable=consider-merging-classes-inherited

    def _send_backlog(self):
        """Re-enabled endpoints: their waiting deliveries are due now (sent in sequence order)."""
        deliveries = (
            self.env["order.visibility.webhook.delivery"]
            .sudo()
            .search([("endpoint_id", "in", self.ids), ("state", "in", ("pending", "failed"))])
        )
        deliveries._write_internal({"next_attempt_at": fields.Datetime.now()})
        self.env.ref("order_visibility_webhooks.ir_cron_dispatch")._trigger()

    def _record_health(self, outcomes, now):
        """``outcomes``: [bool] per attempt in the order they were made."""
        self.ensure_one()
        endpoint = self.sudo()
        failures, failing_since, last_success = endpoint.consecutive_failures, endpoint.failing_since, None
        for ok in outcomes:
            if ok:
                failures, failing_since, last_success = 0, False, now
            else:
                failing_since = failing_since or now
                failures += 1
        vals = {"consecutive_failures": failures, "failing_since": failing_since}
        if last_success:
            vals["last_success_at"] = last_success
        endpoint._write_internal(vals)
        Settings = self.env["res.config.settings"]
        threshold = Settings._get_webhook_param("order_visibility_webhooks.disable_after_failures")
        minutes = Settings._get_webhook_param("order_visibility_webhooks.disable_after_minutes")
        if failures >= threshold and failing_since and now - failing_since >= timedelta(minutes=minutes):
            endpoint._disable_for_failures(failures, failing_since)

    def _disable_for_failures(self, failures, failing_since):
        self.ensure_one()
        reason = self.env._(
            "Disabled after %(count)s consecutive failed attempts since %(since)s UTC.",
            count=failures,
            since=fields.Datetime.to_string(failing_since),
        )
        self.sudo().write({"active": False, "disabled_reason": reason})
        admins = self.env.ref(ADMIN_GROUP).all_user_ids.filtered(
            lambda u: not u.share and self.company_id in u.company_ids
        )
        for admin in admins:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=admin.id,
                summary=self.env._("Webhook endpoint %(name)s disabled", name=self.name),
                note=reason,
            )
        self.message_post(body=reason, subtype_xmlid="mail.mt_note")
