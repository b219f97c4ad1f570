# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .order_visibility_cron_run import WATCHED_CRONS


class OrderVisibilityControlTower(models.AbstractModel):
    _inherit = "order.visibility.control.tower"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _automation_health(self, filters, since):
        """Health of the suite's scheduled work (read as the engine: scheduled
        actions are admin records, their health is everybody's concern)."""
        params = self.env["ir.config_parameter"].sudo()
        # The three jobs in one prefetch set: one existence check and one
        # read for all of them (not one env.ref and one read per job).
        cron_ids = {code: self.env["ir.model.data"]._xmlid_to_res_id(xmlid) for code, xmlid in WATCHED_CRONS.items()}
        existing = {
            cron.id: cron
            for cron in self.env["ir.cron"]
            .sudo()
            .browse([cron_id for cron_id in cron_ids.values() if cron_id])
            .exists()
        }
        crons = {code: existing[cron_id] for code, cron_id in cron_ids.items() if cron_id in existing}
        item_failures = {
            "exception_sweep": int(params.get_param("order_visibility.last_sweep_failures") or 0),
            "reconcile": int(params.get_param("order_visibility.last_reconcile_failures") or 0),
        }
        last_runs = self.env["order.visibility.cron.run"].sudo()._last_runs()
        # An error text can name records, values or paths: administrators
        # only (who may read the runs themselves); the others see that it failed.
        show_errors = self.env.user.has_group("order_visibility.group_order_visibility_admin")
        now = fields.Datetime.now()
        jobs = []
        for code, cron in crons.items():
            run = last_runs.get(code)
            failures = cron.failure_count + item_failures.get(code, 0) + (1 if run and run["failed"] else 0)
            # Late: due more than one interval ago and not run since.
            overdue = bool(cron.active and cron.nextcall and cron.nextcall < now - timedelta(hours=1))
            jobs.append(
                {
                    "code": code,
                    "cron_id": cron.id,
                    "name": cron.name,
                    "active": cron.active,
                    "lastcall": fields.Datetime.to_string(cron.lastcall) if cron.lastcall else False,
                    "nextcall": fields.Datetime.to_string(cron.nextcall) if cron.nextcall else False,
                    "duration_ms": run["duration_ms"] if run else None,
                    "job_failures": cron.failure_count,
                    "item_failures": item_failures.get(code, 0),
                    "last_error": run["error"] if show_errors and run and run["failed"] else "",
                    "failing": bool(failures) or not cron.active or overdue,
                    "overdue": overdue,
                }
            )
        drift_raw = params.get_param("order_visibility.last_drift")
        drift = int(drift_raw) if drift_raw not in (None, False, "") else None
        return {
            "jobs": jobs,
            "drift": drift,
            "approval_cycle_hours": self._approval_cycle(filters, since),
            "failing": any(job["failing"] for job in jobs) or bool(drift),
        }

    @api.model
    def _approval_cycle(self, filters, since):
        """Median hours from request to decision of the approvals decided in the period."""
        Approval = self.env["order.visibility.approval"]
        domain = [
            *self._filters_domain(filters, "visibility_id."),
            ("state", "in", ("approved", "rejected")),
            ("decided_at", ">=", fields.Datetime.to_string(since)),
        ]
        # _search applies the record rules and allowed companies; only the
        # aggregate is computed in SQL (the ORM has no median).
        query = Approval._search(domain)
        table = query.table
        self.env.cr.execute(
            query.select(
                SQL(
                    "percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %s - %s) / 3600.0), COUNT(*)",
                    SQL.identifier(table, "decided_at"),
                    SQL.identifier(table, "requested_at"),
                )
            )
        )
        median, count = self.env.cr.fetchone()
        return {"median_hours": round(median, 1) if median is not None else None, "count": count, "domain": domain}
