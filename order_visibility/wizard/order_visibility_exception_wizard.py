# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class OrderVisibilityExceptionWizard(models.TransientModel):
    _name = "order.visibility.exception.wizard"
    _description = "Resolve or Snooze Order Exceptions"

    exception_ids = fields.Many2many(
        "order.visibility.exception",
        "order_visibility_exception_wizard_rel",
        "wizard_id",
        "exception_id",
        string="Exceptions",
        required=True,
    )
    mode = fields.Selection([("resolve", "Resolve"), ("snooze", "Snooze")], required=True, default="resolve")
    reason = fields.Text(required=True)
    snooze_until = fields.Datetime(default=lambda self: fields.Datetime.add(fields.Datetime.now(), days=1))

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        self.check_access("create")
        if self.env.context.get("active_model") == "order.visibility.exception" and "exception_ids" in fields_list:
            exceptions = self.env["order.visibility.exception"].browse(
                [record_id for record_id in self.env.context.get("active_ids") or [] if isinstance(record_id, int)]
            )
            exceptions.check_access("read")
            values["exception_ids"] = [fields.Command.set(exceptions.ids)]
        return values

    def action_confirm(self):
        self.ensure_one()
        if self.mode == "resolve":
            self.exception_ids.action_resolve(self.reason)
        else:
            self.exception_ids.action_snooze(self.snooze_until, self.reason)
        return {"type": "ir.actions.act_window_close"}
