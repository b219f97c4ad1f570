# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class OrderVisibilityApprovalWizard(models.TransientModel):
    _name = "order.visibility.approval.wizard"
    _description = "Decide an Order Approval"

    approval_id = fields.Many2one("order.visibility.approval", required=True)
    decision = fields.Selection([("approve", "Approve"), ("reject", "Reject")], required=True, default="approve")
    note = fields.Text(help="Required to reject; logged on the request and the order.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        self.check_access("create")
        if self.env.context.get("active_model") == "order.visibility.approval" and "approval_id" in fields_list:
            active_id = self.env.context.get("active_id")
            approval = self.env["order.visibility.approval"].browse(active_id if isinstance(active_id, int) else [])
            approval.check_access("read")
            values.setdefault("approval_id", approval.id)
        return values

    def action_confirm(self):
        self.ensure_one()
        if self.decision == "approve":
            self.approval_id.action_approve(self.note)
        else:
            self.approval_id.action_reject(self.note)
        return {"type": "ir.actions.act_window_close"}
