# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

# The scheduled actions of the core the control tower watches: code -> xmlid.
WATCHED_CRONS = {
    "exception_sweep": "order_visibility.ir_cron_exception_sweep",
    "escalation": "order_visibility.ir_cron_escalation",
    "reconcile": "order_visibility.ir_cron_reconcile",
}
RETENTION_DAYS = 30


class OrderVisibilityCronRun(models.Model):
    """One run of a watched scheduled action: when, how long, how it ended.

    Odoo keeps only the last call of a scheduled action; the control tower
    also shows how long the last run took and whether it failed.
    """

    _name = "order.visibility.cron.run"
    _description = "Order Visibility Scheduled Run"
    _order = "started_at desc, id desc"

    cron_code = fields.Selection(
        [("exception_sweep", "Exception sweep"), ("escalation", "SLA escalation"), ("reconcile", "Reconciliation")],
        required=True,
        readonly=True,
    )
    started_at = fields.Datetime(required=True, readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    failed = fields.Boolean(readonly=True, help="The run stopped on an error and was rolled back.")
    error = fields.Char(readonly=True)

    _code_started_idx = models.Index("(cron_code, started_at DESC)")

    @api.autovacuum
    def _gc_old_runs(self):
        self.search([("started_at", "<", fields.Datetime.now() - timedelta(days=RETENTION_DAYS))]).unlink()

    @api.model
    def _record_run(self, code, run):
        """Call ``run()`` (a scheduled action's entry point) and record how it went."""
        started_at = fields.Datetime.now()
        start = time.monotonic()
        try:
            result = run()
        except Exception as error:
            # The scheduler rolls the job's transaction back: the failure is
            # written in a transaction of its own.
            with self.env.registry.cursor() as cr:
                self.with_env(self.env(cr=cr)).sudo().create(
                    {
                        "cron_code": code,
                        "started_at": started_at,
                        "duration_ms": round((time.monotonic() - start) * 1000),
                        "failed": True,
                        "error": str(error)[:500],
                    }
                )
            raise
        self.sudo().create(
            {"cron_code": code, "started_at": started_at, "duration_ms": round((time.monotonic() - start) * 1000)}
        )
        return result

    @api.model
    def _last_runs(self):
        """{cron code: values of its last run}, one query."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT ON (cron_code) cron_code, started_at, duration_ms, failed, error
                     FROM order_visibility_cron_run
                 ORDER BY cron_code, started_at DESC, id DESC"""
            )
        )
        return {
            row[0]: dict(zip(("started_at", "duration_ms", "failed", "error"), row[1:], strict=False))
            for row in self.env.cr.fetchall()
        }
