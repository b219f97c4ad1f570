# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class OrderVisibilitySettingsLog(models.Model):
    """Read-only audit trail of threshold changes made in Settings."""

    _name = "order.visibility.settings.log"
    _description = "Order Visibility Settings Change"
    _order = "id desc"

    key = fields.Char("Parameter", required=True, readonly=True)
    old_value = fields.Char(readonly=True)
    new_value = fields.Char(readonly=True)
    user_id = fields.Many2one("res.users", string="Changed By", readonly=True, default=lambda self: self.env.user)
    changed_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
