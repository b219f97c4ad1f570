# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""An endpoint's health is derived from its attempt log, no longer written on its row.

Before: ``last_success_at``, ``consecutive_failures`` and ``failing_since``
were stored on the endpoint and written by every dispatcher batch (two
workers sending to one receiver updated the same row). After: computed from
``order.visibility.webhook.attempt``; the failure streak counts the failed
attempts after the last success and after ``health_reset_attempt_id``.

So that no endpoint's streak changes with the upgrade (an endpoint
re-enabled earlier must not be disabled again at its next failure), the
marker is set just before the stored number of failures: the streak derived
afterwards is the one that was stored. The old columns then go.
"""

from odoo.tools import SQL, sql

TABLE = "order_visibility_webhook_endpoint"
OLD_COLUMNS = ("last_success_at", "consecutive_failures", "failing_since")


def keep_failure_streaks(cr):
    cr.execute(
        SQL(
            """UPDATE order_visibility_webhook_endpoint e
                  SET health_reset_attempt_id = COALESCE((
                      SELECT a.id FROM order_visibility_webhook_attempt a
                       WHERE a.endpoint_id = e.id AND a.success IS NOT TRUE AND a.company_id = e.company_id
                       ORDER BY a.id DESC
                      OFFSET COALESCE(e.consecutive_failures, 0) LIMIT 1), 0)"""
        )
    )


def migrate(cr, version):
    if not version or not sql.column_exists(cr, TABLE, "consecutive_failures"):
        return
    keep_failure_streaks(cr)
    for column in OLD_COLUMNS:
        if sql.column_exists(cr, TABLE, column):
            cr.execute(SQL("ALTER TABLE %s DROP COLUMN %s", SQL.identifier(TABLE), SQL.identifier(column)))
