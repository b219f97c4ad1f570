# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class OrderVisibilityWebhookSourceRate(models.Model):
    """Requests of an inbound source in the current minute (its rate limit).

    One row per source, advanced by ``order.visibility.webhook.source.
    _count_request`` with one atomic upsert in a transaction of its own, so
    that the workers of several processes share the count and a refused
    request (whose own transaction is rolled back) counts too. ``source_id``
    is a plain integer, not a foreign key: the count is committed on its own,
    possibly before the source itself (the demo's installation posts to a
    source it has just created); ids of deleted sources are never given again.
    """

    _name = "order.visibility.webhook.source.rate"
    _description = "Inbound Milestone Source Rate"
    _log_access = False

    source_id = fields.Integer(required=True, readonly=True)
    window_start = fields.Datetime(required=True, readonly=True, help="The minute counted (UTC).")
    hits = fields.Integer(required=True, readonly=True, help="Requests counted in that minute.")

    _source_unique = models.Constraint("UNIQUE(source_id)", "One rate counter per source.")
