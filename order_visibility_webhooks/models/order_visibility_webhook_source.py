# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.signing import InvalidSecret, generate_secret, secret_key

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ADMIN_GROUP = "order_visibility.group_order_visibility_admin"


class OrderVisibilityWebhookSource(models.Model):
    """A carrier, WMS or 3PL that posts signed delivery milestones.

    It posts to ``/order_visibility/webhook/<code>``, signing each message
    per the Standard Webhooks specification with the source's secret.
    """

    _name = "order.visibility.webhook.source"
    _description = "Inbound Milestone Source"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    code = fields.Char(
        required=True,
        copy=False,
        help="The last part of the URL the source posts to: lowercase letters, digits, - and _.",
    )
    secret = fields.Char(
        copy=False,
        groups=ADMIN_GROUP,
        help="whsec_ followed by base64 of 24 to 64 bytes. Leave empty to let the server generate one.",
    )
    secret_revealed = fields.Boolean(
        copy=False,
        groups=ADMIN_GROUP,
        help="Once the administrator has copied the secret, it is no longer shown.",
    )
    secret_hint = fields.Char(compute="_compute_secret_hint", groups=ADMIN_GROUP)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    url_path = fields.Char(string="URL Path", compute="_compute_url_path")
    milestone_ids = fields.One2many("order.visibility.milestone", "source_id", string="Messages")
    milestone_count = fields.Integer(string="Accepted Messages", compute="_compute_message_stats")
    last_received_at = fields.Datetime(string="Last Message", compute="_compute_message_stats")

    _code_uniq = models.Constraint(
        "UNIQUE(code)",
        "This code is already used by another source: the URL must name one source only.",
    )

    @api.depends("code")
    def _compute_url_path(self):
        for source in self:
            source.url_path = f"/order_visibility/webhook/{source.code}" if source.code else False

    @api.depends("secret")
    def _compute_secret_hint(self):
        for source in self:
            source.secret_hint = f"whsec_…{source.secret[-4:]}" if source.secret else False

    def _compute_message_stats(self):
        stats = {
            source.id: (count, last)
            for source, count, last in self.env["order.visibility.milestone"]._read_group(
                [("source_id", "in", self.ids)], ["source_id"], ["__count", "received_at:max"]
            )
        }
        for source in self:
            source.milestone_count, source.last_received_at = stats.get(source.id, (0, False))

    @api.constrains("code")
    def _check_code(self):
        for source in self:
            if not CODE_RE.match(source.code or ""):
                raise ValidationError(
                    self.env._(
                        "The code %(code)r may use lowercase letters, digits, - and _ only "
                        "(at most 64 characters, starting with a letter or digit).",
                        code=source.code,
                    )
                )

    @api.model
    def _check_secret_value(self, secret):
        try:
            secret_key(secret)
        except InvalidSecret as exc:
            # The reason names the rule broken, never the value.
            raise ValidationError(
                self.env._("The secret is not a valid Standard Webhooks secret: %(reason)s.", reason=str(exc))
            ) from None

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("secret"):
                self._check_secret_value(vals["secret"])
            else:
                vals["secret"] = generate_secret()
            vals["secret_revealed"] = False
        return super().create(vals_list)

    def write(self, vals):
        if "secret" in vals:
            if vals["secret"]:
                self._check_secret_value(vals["secret"])
            else:
                vals["secret"] = generate_secret()
            vals["secret_revealed"] = False
        return super().write(vals)

    def action_generate_secret(self):
        """Replace the secret by a new one, shown once in the form."""
        for source in self:
            source.write({"secret": generate_secret()})
        return True

    def action_hide_secret(self):
        """The administrator has copied the secret: stop showing it."""
        self.write({"secret_revealed": True})
        return True

    def action_view_milestones(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Milestones from %(sender)s", sender=self.name),
            "res_model": "order.visibility.milestone",
            "view_mode": "list,form",
            "domain": [("source_id", "=", self.id)],
            "context": {"create": False},
        }
