# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import signing
from ..tools.constants import ADMIN_GROUP


class OrderVisibilityWebhookEndpoint(models.Model):
    """Secrets of an endpoint: write-only setting, one-time reveal, rotation with overlap."""

    # One concern per file (see order_visibility_webhook_endpoint.py), on purpose.
    _inherit = "order.visibility.webhook.endpoint"  # pylint: disable=consider-merging-classes-inherited

    def _has_field_access(self, field, operation):
        if field.name == "secret" and operation == "write" and not self.env.su:
            return self.env.user.has_group(ADMIN_GROUP)  # write-only: set, never read back
        return super()._has_field_access(field, operation)

    def _compute_new_secret(self):
        self.new_secret = False  # write-only: a secret is never read back

    def _inverse_new_secret(self):
        typed = self.filtered("new_secret")
        if not typed:
            return
        typed._check_admin_access()
        for endpoint in typed:
            self._check_secret_value(endpoint.new_secret)
            endpoint._write_internal({"secret": endpoint.new_secret, "secret_shown": True})
        typed.invalidate_recordset(["new_secret"])  # not even kept in this transaction's cache

    @api.model
    def _check_secret_value(self, secret):
        try:
            signing.secret_key(secret)
        except signing.InvalidSecret:
            # Never echo the value: it is a secret.
            raise ValidationError(
                self.env._(
                    "The signing secret is not valid: it must be whsec_ followed by the base64 of 24 to 64 bytes."
                )
            ) from None

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
        self._write_internal(
            {
                "previous_secret": endpoint.secret,
                "previous_secret_expires_at": expires,
                "secret": signing.generate_secret(),
                "secret_shown": False,
            }
        )
        self.message_post(
            body=self.env._(
                "Signing secret rotated by %(user)s; the previous secret keeps signing until %(until)s UTC.",
                user=self.env.user.name,
                until=fields.Datetime.to_string(expires),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return self.action_show_secret()

    def action_show_secret(self):
        """Show the current secret once (after creation or rotation), to an
        administrator of the endpoint's company.

        As Odoo shows a new API key: the secret travels in the returned action
        only (the dialog's default value) and is stored nowhere else than on
        the endpoint, which nobody reads back; ``secret_shown`` makes it once.
        """
        self.ensure_one()
        self._check_admin_access()
        endpoint = self.sudo()
        if endpoint.secret_shown:
            raise UserError(self.env._("This secret was already shown once; rotate it to get a new one."))
        secret = endpoint.secret
        self._write_internal({"secret_shown": True})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Signing Secret"),
            "res_model": "order.visibility.webhook.secret.wizard",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_endpoint_id": self.id, "default_secret": secret},
        }
