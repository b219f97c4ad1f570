# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from ..tools.constants import ADMIN_GROUP


class OrderVisibilityWebhookSecretWizard(models.TransientModel):
    """Shows a new signing secret once, as Odoo shows a new API key.

    ``action_show_secret`` of the secret mixin (endpoints and sources) opens
    this form with the secret as the default value of a record that is never
    saved: the secret is kept nowhere but on its record, which nobody reads
    back. A row saved anyway keeps no secret, and only its creator, in the
    record's company, reads it (record rules).
    """

    _name = "order.visibility.webhook.secret.wizard"
    _description = "Webhook Signing Secret"

    res_model = fields.Char("Model", required=True, readonly=True)
    res_id = fields.Many2oneReference("Record", model_field="res_model", required=True, readonly=True)
    res_name = fields.Char("For", readonly=True)
    company_id = fields.Many2one("res.company", compute="_compute_company_id", store=True)
    secret = fields.Char(readonly=True, groups=ADMIN_GROUP)

    @api.depends("res_model", "res_id")
    def _compute_company_id(self):
        # The company of the record the dialog names (not the caller's word),
        # for the company rule; none (so no row) for anything but a record
        # holding a webhook secret. sudo: the company only, before the rule.
        Mixin = self.env.registry["order.visibility.webhook.secret.mixin"]
        for wizard in self:
            record = None
            if wizard.res_model in self.env and isinstance(self.env[wizard.res_model], Mixin):
                record = self.env[wizard.res_model].sudo().browse(wizard.res_id).exists()
            wizard.company_id = record.company_id if record else False

    @api.model_create_multi
    def create(self, vals_list):
        # Shown, never stored (an explicit False also keeps the default out).
        return super().create([dict(vals, secret=False) for vals in vals_list])
