# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models


class OrderVisibilityWebhookDelivery(models.Model):
    """Retention: delivered and dead deliveries are purged after the configured days."""

    # One concern per file (see order_visibility_webhook_delivery.py), on purpose.
    _inherit = "order.visibility.webhook.delivery"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _cron_purge(self, batch=5000):
        """Delete delivered and dead deliveries older than the retention (with their attempts)."""
        days = self.env["res.config.settings"]._get_webhook_param("order_visibility_webhooks.retention_days")
        limit = fields.Datetime.now() - timedelta(days=max(days, 1))
        domain = [("state", "in", ("delivered", "dead")), ("create_date", "<", limit)]
        while True:
            old = self.search(domain, limit=batch)
            if not old:
                break
            old.unlink()
            if self.env["ir.cron"]._commit_progress(len(old)) <= 0:
                break
