# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import UserError


class OrderVisibilityWebhookReplay(models.TransientModel):
    """Re-send an endpoint's events of a time range: new deliveries, same webhook-id and bytes."""

    _name = "order.visibility.webhook.replay"
    _description = "Replay Webhook Events"

    endpoint_id = fields.Many2one("order.visibility.webhook.endpoint", required=True)
    date_from = fields.Datetime("From", required=True)
    date_to = fields.Datetime("To", required=True, default=fields.Datetime.now)
    event_types = fields.Many2many(
        "order.visibility.webhook.event.type",
        "order_visibility_webhook_replay_event_type_rel",
        "replay_id",
        "event_type_id",
        help="Leave empty to replay every type.",
    )
    event_count = fields.Integer(compute="_compute_event_count", string="Events to Replay")

    def _events(self):
        """One delivery per event (its first) of the endpoint created in the range."""
        self.ensure_one()
        domain = [
            ("endpoint_id", "=", self.endpoint_id.id),
            ("create_date", ">=", self.date_from),
            ("create_date", "<=", self.date_to),
            ("replay_of_id", "=", False),
        ]
        if self.event_types:
            domain.append(("event_type", "in", self.event_types.mapped("code")))
        return self.env["order.visibility.webhook.delivery"].search(domain, order="id")

    @api.depends("endpoint_id", "date_from", "date_to", "event_types")
    def _compute_event_count(self):
        for wizard in self:
            ok = wizard.endpoint_id and wizard.date_from and wizard.date_to
            wizard.event_count = len(wizard._events()) if ok else 0

    def action_replay(self):
        """Administrators of the endpoint's company: new deliveries of its events in the range."""
        self.ensure_one()
        self.check_access("write")
        self.endpoint_id._check_admin_access()
        if self.date_from > self.date_to:
            raise UserError(self.env._("The start of the range must come before its end."))
        events = self._events()
        if not events:
            raise UserError(self.env._("This endpoint has no event in that range."))
        replayed = events._replay()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "order_visibility_webhooks.order_visibility_webhook_delivery_action"
        )
        action["domain"] = [("id", "in", replayed.ids)]
        return action
