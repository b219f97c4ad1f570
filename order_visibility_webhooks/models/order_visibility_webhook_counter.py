# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import SQL


class OrderVisibilityWebhookCounter(models.Model):
    """Last ``sequence`` given to an order's events per endpoint.

    A counter per (endpoint, order) makes the sequence gap-free for every
    receiver, including endpoints that filter event types. It is advanced
    with one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` for all the
    events of a call: the row lock serialises concurrent transactions on the
    same order (the second waits, then retries on its serialisation failure
    as Odoo retries any request), and a rollback gives its numbers back.
    """

    _name = "order.visibility.webhook.counter"
    _description = "Webhook Sequence Counter"
    _log_access = False

    endpoint_id = fields.Many2one("order.visibility.webhook.endpoint", required=True, ondelete="cascade")
    sale_order_id = fields.Many2one("sale.order", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="endpoint_id.company_id", store=True)
    last_sequence = fields.Integer(required=True, default=0)

    _endpoint_order_unique = models.Constraint(
        "UNIQUE(endpoint_id, sale_order_id)", "One counter per endpoint and order."
    )

    @api.model
    def _advance(self, counts):
        """``counts``: {(endpoint id, order id): n}; returns {(endpoint id, order id): first new sequence}.

        Raw SQL: an atomic upsert with RETURNING is what makes the numbers
        gap-free under concurrency; it runs as the engine (superuser work on
        a table no user reads directly) with bound parameters only.
        """
        if not counts:
            return {}
        values = SQL(", ").join(
            SQL("(%s, %s, %s, %s)", endpoint_id, order_id, company_id, n)
            for (endpoint_id, order_id, company_id), n in counts.items()
        )
        rows = self.env.execute_query(
            SQL(
                """INSERT INTO order_visibility_webhook_counter AS c
                       (endpoint_id, sale_order_id, company_id, last_sequence)
                   VALUES %s
                   ON CONFLICT (endpoint_id, sale_order_id)
                   DO UPDATE SET last_sequence = c.last_sequence + EXCLUDED.last_sequence
                   RETURNING c.endpoint_id, c.sale_order_id, c.last_sequence""",
                values,
            )
        )
        by_key = {(endpoint_id, order_id): n for (endpoint_id, order_id, _company_id), n in counts.items()}
        return {
            (endpoint_id, order_id): last - by_key[endpoint_id, order_id] + 1 for endpoint_id, order_id, last in rows
        }
