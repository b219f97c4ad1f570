# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields, models


class OrderVisibilityWebhookEndpoint(models.Model):
    """Rotation of an endpoint's secret with overlap, on top of the secret mixin
    (write-only setting, one-time reveal) that sources share."""

    # One concern per file (see order_visibility_webhook_endpoint.py), on purpose.
    _inherit = "order.visibility.webhook.endpoint"  # pylint: disable=consider-merging-classes-inherited

    def _signing_secrets(self, now=None):
        """The secrets that sign a message now: the current one, and the previous
        one during its rotation overlap. Called as superuser by the dispatcher."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        endpoint = self.sudo()
        secrets = [endpoint.secret]
        if (
            endpoint.previous_secret
            and endpoint.previous_secret_expires_at
            and endpoint.previous_secret_expires_at > now
        ):
            secrets.append(endpoint.previous_secret)
        return secrets

    def action_rotate_secret(self):
        """A new secret; the previous one keeps signing for the overlap, then expires.
        Administrators of the endpoint's company; returns the one-time reveal."""
        self.ensure_one()
        self._check_admin_access()
        now = fields.Datetime.now()
        endpoint = self.sudo()
        expires = now + timedelta(hours=endpoint.rotation_overlap_hours)
        self._replace_secret({"previous_secret": endpoint.secret, "previous_secret_expires_at": expires})
        self._post_secret_replaced(
            self.env._(
                "Signing secret rotated by %(user)s; the previous secret keeps signing until %(until)s UTC.",
                user=self.env.user.name,
                until=fields.Datetime.to_string(expires),
            )
        )
        return self.action_show_secret()
