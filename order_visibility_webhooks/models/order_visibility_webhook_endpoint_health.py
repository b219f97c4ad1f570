# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import operator as py_operator
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.constants import ADMIN_GROUP

COMPARISONS = {
    "<": py_operator.lt,
    "<=": py_operator.le,
    ">": py_operator.gt,
    ">=": py_operator.ge,
    "in": lambda count, values: count in values,
    "not in": lambda count, values: count not in values,
}


class OrderVisibilityWebhookEndpoint(models.Model):
    """Health of an endpoint, derived from its attempt log; auto-disable, backlog.

    The dispatcher never writes the endpoint's row on its normal path: the
    last success and the failure streak are read from
    ``order.visibility.webhook.attempt`` (one query for any number of
    endpoints, on two partial indexes), so workers sending to the same
    receiver at once never update the same row. Only the rare changes of
    state write it: auto-disable (after a row lock taken with ``SKIP LOCKED``;
    a worker that does not get it leaves the change to the one that has it)
    and re-enable.
    """

    # One concern per file (see order_visibility_webhook_endpoint.py), on purpose.
    _inherit = "order.visibility.webhook.endpoint"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Derived health
    # ------------------------------------------------------------------

    def _health_rows(self):
        """{endpoint id: (last success at, failed attempts in the streak, first of them at)}.

        The streak is the failed attempts after the last successful one and
        after ``health_reset_attempt_id`` (the endpoint was re-enabled), in
        the log's order of insertion (ids: the clock of a batch may be ahead).
        A delivery refused because it is not of the endpoint's company
        (never sent) is not the receiver's failure: not counted.
        """
        ids = [endpoint_id for endpoint_id in self.ids if endpoint_id]
        if not ids:
            return {}
        self.env["order.visibility.webhook.attempt"].flush_model(
            ["endpoint_id", "company_id", "success", "attempted_at"]
        )
        self.flush_model(["company_id", "health_reset_attempt_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT e.id, ok.attempted_at, streak.failures, streak.since
                     FROM order_visibility_webhook_endpoint e
                     LEFT JOIN LATERAL (
                          SELECT a.id, a.attempted_at FROM order_visibility_webhook_attempt a
                           WHERE a.endpoint_id = e.id AND a.success
                           ORDER BY a.id DESC LIMIT 1) ok ON TRUE
                    CROSS JOIN LATERAL (
                          SELECT count(*) AS failures, min(a.attempted_at) AS since
                            FROM order_visibility_webhook_attempt a
                           WHERE a.endpoint_id = e.id AND a.success IS NOT TRUE
                             AND a.id > GREATEST(ok.id, e.health_reset_attempt_id, 0)
                             AND a.company_id = e.company_id) streak
                    WHERE e.id = ANY(%s)""",
                ids,
            )
        )
        return {endpoint_id: (last, failures, since) for endpoint_id, last, failures, since in rows}

    @api.depends("health_reset_attempt_id")
    def _compute_health(self):
        rows = self._health_rows()
        for endpoint in self:
            last, failures, since = rows.get(endpoint.id, (False, 0, False))
            endpoint.last_success_at = last or False
            endpoint.consecutive_failures = failures
            endpoint.failing_since = (failures and since) or False

    def _search_consecutive_failures(self, operator, value):
        compare = COMPARISONS.get(operator)
        if compare is None:
            return NotImplemented
        # Endpoints are few (an administrator's list): read every streak at once.
        endpoints = self.sudo().with_context(active_test=False).search_fetch([], ["id"])
        rows = endpoints._health_rows()
        return [("id", "in", [i for i, (_last, failures, _since) in rows.items() if compare(failures, value)])]

    def _reset_health(self):
        """Re-enabled: its past failures no longer count (one write, by the admin's
        transaction; the dispatcher sends nothing to a disabled endpoint)."""
        self.env["order.visibility.webhook.attempt"].flush_model(["endpoint_id"])
        [(last_attempt,)] = self.env.execute_query(
            SQL("SELECT max(id) FROM order_visibility_webhook_attempt WHERE endpoint_id = ANY(%s)", self.ids)
        )
        self._write_internal({"disabled_reason": False, "health_reset_attempt_id": last_attempt or 0})

    # ------------------------------------------------------------------
    # Changes of state (rare: the only writes of the endpoint's row)
    # ------------------------------------------------------------------

    def _disable_if_failing(self, now):
        """Disable those of ``self`` whose failure streak is sustained (at least
        the threshold of failed attempts, the first of them at least the
        configured minutes before ``now``); returns the endpoints disabled.

        Called by the dispatcher, on a fresh READ COMMITTED transaction, after
        a batch with failures. The rows are locked with ``FOR NO KEY UPDATE
        SKIP LOCKED`` first: an endpoint another worker is disabling at this
        moment is skipped (it is done there), one it has disabled no longer
        matches ``active``. (Under REPEATABLE READ, a row changed since the
        snapshot raises ``SerializationFailure``: the dispatcher catches it.)
        """
        Settings = self.env["res.config.settings"]
        threshold = Settings._get_webhook_param("order_visibility_webhooks.disable_after_failures")
        minutes = Settings._get_webhook_param("order_visibility_webhooks.disable_after_minutes")
        rows = self._health_rows()
        sustained = [
            endpoint_id
            for endpoint_id, (_last, failures, since) in rows.items()
            if failures >= threshold and since and now - since >= timedelta(minutes=minutes)
        ]
        if not sustained:
            return self.browse()
        # Raw SQL: the lock must not log the expected serialisation failure as a
        # bad query. NO KEY UPDATE (what an UPDATE of non-key columns takes):
        # the other workers' attempt rows keep referencing the endpoint (their
        # foreign key checks take KEY SHARE, which FOR UPDATE would break).
        self.env.cr.execute(
            SQL(
                """SELECT id FROM order_visibility_webhook_endpoint
                    WHERE id = ANY(%s) AND active ORDER BY id FOR NO KEY UPDATE SKIP LOCKED""",
                sustained,
            ),
            log_exceptions=False,
        )
        locked = self.browse([row[0] for row in self.env.cr.fetchall()])
        for endpoint in locked:
            _last, failures, since = rows[endpoint.id]
            endpoint._disable_for_failures(failures, since)
        return locked

    def _send_backlog(self):
        """Re-enabled endpoints: their waiting deliveries are due now (sent in sequence order)."""
        deliveries = (
            self.env["order.visibility.webhook.delivery"]
            .sudo()
            .search([("endpoint_id", "in", self.ids), ("state", "in", ("pending", "failed"))])
        )
        deliveries._write_internal({"next_attempt_at": fields.Datetime.now()})
        self.env.ref("order_visibility_webhooks.ir_cron_dispatch")._trigger()

    def _disable_for_failures(self, failures, failing_since):
        self.ensure_one()
        reason = self.env._(
            "Disabled after %(count)s consecutive failed attempts since %(since)s UTC.",
            count=failures,
            since=fields.Datetime.to_string(failing_since),
        )
        self.sudo().write({"active": False, "disabled_reason": reason})
        admins = self.env.ref(ADMIN_GROUP).all_user_ids.filtered(
            lambda u: not u.share and self.company_id in u.company_ids
        )
        for admin in admins:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=admin.id,
                summary=self.env._("Webhook endpoint %(name)s disabled", name=self.name),
                note=reason,
            )
        self.message_post(body=reason, subtype_xmlid="mail.mt_note")
