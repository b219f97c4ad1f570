# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL


class OrderVisibility(models.Model):
    """The webhook health tile of the control tower (the dashboard addon
    asks for it through the core's hook; neither addon depends on the other)."""

    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _control_tower_webhook_health(self, filters, now):
        """Delivery health of the last 24 h: per state, p95 latency, backlog
        and its oldest delivery."""
        Delivery = self.env["order.visibility.webhook.delivery"]
        if not Delivery.has_access("read"):
            return False  # users who may not read deliveries get no tile, not an error
        company = [("company_id", "in", filters["company_ids"])] if filters["company_ids"] else []
        recent = [*company, ("create_date", ">=", fields.Datetime.to_string(now - timedelta(hours=24)))]
        counts = dict(Delivery._read_group(recent, ["state"], ["__count"]))
        # Backlog: not delivered yet and not given up (failed ones wait for a retry).
        pending_domain = [*company, ("state", "in", ("pending", "sending", "failed"))]
        query = Delivery._search([*recent, ("state", "=", "delivered"), ("last_latency_ms", "!=", False)])
        self.env.cr.execute(
            query.select(
                SQL(
                    "percentile_cont(0.95) WITHIN GROUP (ORDER BY %s)",
                    SQL.identifier(query.table, "last_latency_ms"),
                )
            )
        )
        p95 = self.env.cr.fetchone()[0]
        oldest = Delivery.search_fetch(pending_domain, ["create_date"], order="create_date asc, id", limit=1)
        return {
            "delivered": {"count": counts.get("delivered", 0), "domain": [*recent, ("state", "=", "delivered")]},
            "pending": {
                "count": counts.get("pending", 0) + counts.get("sending", 0),
                "domain": [*recent, ("state", "in", ("pending", "sending"))],
            },
            "failed": {"count": counts.get("failed", 0), "domain": [*recent, ("state", "=", "failed")]},
            "dead": {"count": counts.get("dead", 0), "domain": [*recent, ("state", "=", "dead")]},
            "backlog": {"count": Delivery.search_count(pending_domain), "domain": pending_domain},
            "p95_latency_ms": round(p95) if p95 is not None else None,
            "oldest_pending": fields.Datetime.to_string(oldest.create_date) if oldest else False,
            "oldest_pending_id": oldest.id,
        }
