# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Proactive customer updates: a plain-language text built from the engine's
facts, drafted in the mail composer from an editable template; sent
automatically only where the admin and the customer opted in (see
docs/user/exceptions.md, "Proactive customer updates")."""

from odoo import fields, models


class OrderVisibilityCustomerUpdate(models.Model):
    _name = "order.visibility.customer.update"
    _description = "Customer Update Sent"
    _order = "sent_at desc, id desc"
    _check_company_auto = True

    visibility_id = fields.Many2one("order.visibility", required=True, readonly=True, ondelete="cascade", index=True)
    sale_order_id = fields.Many2one(related="visibility_id.sale_order_id", string="Order", store=True)
    company_id = fields.Many2one(related="visibility_id.company_id", store=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    cause = fields.Char(
        required=True, readonly=True, help="What the update was about: the delay and its expected date."
    )
    promised_date = fields.Datetime(readonly=True)
    expected_date = fields.Datetime(string="Expected Ship Date", readonly=True)
    automatic = fields.Boolean(readonly=True, help="Sent by the scheduled action, not by a person.")
    sent_by = fields.Many2one("res.users", readonly=True, default=lambda self: self.env.user)
    sent_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    message_id = fields.Many2one("mail.message", readonly=True, ondelete="set null")

    _cause_uniq = models.UniqueIndex(
        "(visibility_id, cause)",
        "An update for this cause was already sent to the customer.",
    )
