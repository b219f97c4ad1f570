# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Scheduled passes: the exception sweep and the nightly reconciliation,
batched, each batch in a savepoint, within the scheduler's time."""

import json
import logging

from odoo import api, fields, models

from ..tools.constants import (
    BATCH_SIZE,
    OPEN_CONFIRMED_STAGES,
    RECONCILE_PROGRESS_KEY,
    SWEEP_FULL_PASS_ABOVE,
    THRESHOLDS_KEY,
)
from .res_config_settings import PARAM_DEFAULTS

_logger = logging.getLogger(__name__)


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _process_safely(self, records, work, what):
        """Run ``work(records)`` in a savepoint; return (failed records, results).

        When the batch fails it is rolled back and split in halves, down to
        the single records that fail: those are logged with their name and
        returned, every other record is processed. ``results`` holds what
        ``work`` returned for each part that committed. One bad order never
        stops a scheduled pass.
        """
        try:
            with self.env.cr.savepoint():
                result = work(records)
            return records.browse(), [result]
        except Exception:
            if len(records) <= 1:
                _logger.exception("order visibility %s failed on %s", what, records.display_name)
                return records, []
        half = len(records) // 2
        failed_a, results_a = self._process_safely(records[:half], work, what)
        failed_b, results_b = self._process_safely(records[half:], work, what)
        return failed_a | failed_b, results_a + results_b

    @api.model
    def _cron_exception_sweep(self):
        """The scheduled exception sweep: the orders due only (``_sweep_exceptions``)."""
        return self._sweep_exceptions()

    @api.model
    def _sweep_global_codes(self):
        """Codes of the checks that are not per order (a customer's rate over
        many orders): they run over every order at each sweep, cheaply."""
        return {"service_level_breach"}

    @api.model
    def _due_for_sweep(self, now):
        """(orders due at ``now``, their snoozed exceptions whose snooze has
        ended): two indexed searches, whatever the number of open orders."""
        due = self.search([("next_check_at", "<=", now)], order="id")
        woken = self.env["order.visibility.exception"].search([("state", "=", "snoozed"), ("snoozed_until", "<=", now)])
        return due | woken.visibility_id, woken

    @api.model
    def _sweep_exceptions(self, full=False):
        """Open and auto-resolve the time-based exceptions of the orders due,
        refresh their risk and schedule their next check.

        An order is due when one of its time-based checks can have changed
        its answer since the last visit (``next_check_at``: a promise passing,
        a stage growing stale, a risk band edge, see ``_next_checks``), when
        it changed (the engine and writes of what the checks read make it
        due at once), or when a snooze of one of its exceptions ended (woken
        here). ``full`` (the nightly reconciliation), a threshold changed
        since the last full pass (``THRESHOLDS_KEY``), or more orders due
        than ``SWEEP_FULL_PASS_ABOVE``: every order, as one pass. Orders not
        visited keep their exceptions untouched.

        Each condition is one indexed search over the stored visibility data,
        restricted to the orders visited; running the sweep twice opens
        nothing the second time. A condition or a batch that fails is rolled
        back, narrowed down to the orders it fails on and the rest goes on;
        orders and checks that failed are logged, counted in
        ``order_visibility.last_sweep_failures`` and stay due. When the
        scheduler's time is up it stops; the orders not rescheduled stay due
        and the next run starts over with them (every step is idempotent).
        """
        self = self.sudo()
        now = fields.Datetime.now()
        stats = {}
        failed = keep_due = self.browse()
        Exception_ = self.env["order.visibility.exception"]
        params = self.env["ir.config_parameter"]
        # A threshold changed since the last full pass (Settings, or by hand):
        # any order's checks may answer otherwise, this pass visits them all.
        thresholds = json.dumps({key: self._param(key) for key in sorted(PARAM_DEFAULTS)})
        full = full or params.get_param(THRESHOLDS_KEY) != thresholds
        scope, woken = (None, None) if full else self._due_for_sweep(now)
        if scope is not None and len(scope) > SWEEP_FULL_PASS_ABOVE:
            scope = None
        if scope is None:
            woken = Exception_.search([("state", "=", "snoozed"), ("snoozed_until", "<=", now)])
        # A snooze ended: the exception is back in the queue (the escalation
        # cron does the same for any the sweep has not woken yet).
        woken.write({"state": "open", "snoozed_until": False, "woken_at": now})
        # One check per active exception type that has a time-based detector
        # (order.visibility.exception._detect_<code>), in the types' order.
        types = self.env["order.visibility.exception.type"].search_fetch([("code", "!=", False)], ["code"])
        codes = dict.fromkeys(types.mapped("code"))
        global_codes = self._sweep_global_codes()
        checks = [
            (code, getattr(Exception_, f"_detect_{code}"), None if code in global_codes else scope)
            for code in codes
            if hasattr(Exception_, f"_detect_{code}") and (code in global_codes or scope is None or scope)
        ]
        cron = self.env["ir.cron"]
        # Visited: the orders due, or every order in a full pass. Their risk
        # is refreshed (slack shrinks with time) and their next check written.
        visited = self.search([("sale_order_id", "!=", False)], order="id") if scope is None else scope
        batches = [visited[start : start + BATCH_SIZE] for start in range(0, len(visited), BATCH_SIZE)]
        time_left = cron._commit_progress(remaining=len(checks) + len(batches))
        failed_checks = 0
        for code, detect, check_scope in checks:
            try:
                with self.env.cr.savepoint():
                    detected = detect(now) if check_scope is None else detect(now, visibilities=check_scope)
            except Exception:
                _logger.exception("order visibility sweep: detecting %s failed, the other checks go on", code)
                failed_checks += 1
                keep_due |= check_scope or self.browse()
                detected = None
            if detected is not None:
                try:
                    with self.env.cr.savepoint():
                        stats[code] = tuple(map(len, Exception_._sync(code, detected, check_scope)))
                except Exception:
                    _logger.exception("order visibility sweep (%s) failed: narrowing it down to orders", code)
                    # Each order's exceptions of this code are synchronised on their own.
                    involved = self.browse({key[0] for key in detected}) | (
                        check_scope
                        if check_scope is not None
                        else Exception_.search([("code", "=", code), ("state", "!=", "resolved")]).visibility_id
                    )

                    def sync_some(visibilities, code=code, detected=detected):
                        ids = set(visibilities.ids)
                        some = {key: value for key, value in detected.items() if key[0] in ids}
                        return Exception_._sync(code, some, visibilities)

                    code_failed, results = self._process_safely(involved, sync_some, f"sweep ({code})")
                    failed |= code_failed
                    stats[code] = (sum(len(r[0]) for r in results), sum(len(r[1]) for r in results))
            time_left = cron._commit_progress(1)
            if not time_left:
                break

        def refresh(visibilities):
            to_ship = visibilities.filtered(lambda v: v.stage in (*OPEN_CONFIRMED_STAGES, "pending_approval"))
            facts = to_ship._stage_facts() if to_ship else {}
            ship_dates = {}
            # What failed stays due: the next sweep tries it again.
            (visibilities - failed - keep_due)._schedule_next_check(now, facts, ship_dates)
            # The ship dates the next checks read, the risk score reads too.
            to_ship._update_risk(facts, ship_dates)

        done = 0
        for batch in batches if time_left else []:
            failed |= self._process_safely(batch, refresh, "risk refresh")[0]
            done += len(batch)
            if not cron._commit_progress(len(batch)):
                break
        if scope is None and done == len(visited):
            params.set_param(THRESHOLDS_KEY, thresholds)  # written only when they changed
        failures = len(failed) + failed_checks
        params.set_param("order_visibility.last_sweep_failures", failures)
        (_logger.warning if failures else _logger.info)(
            "order visibility sweep (%s orders %s): %s; %s orders and %s checks failed",
            len(visited),
            "due" if scope is not None else "in a full pass",
            ", ".join(f"{code} +{o}/-{r}" for code, (o, r) in stats.items()),
            len(failed),
            failed_checks,
        )
        return stats

    @api.model
    def _cron_reconcile(self):
        """Nightly: recompute every order in batches and report the drift.

        Drift is the number of orders whose stored stage was wrong; it should
        be zero. Each batch runs in its own savepoint; an order it fails on is
        logged and skipped (``_process_safely``). When the scheduler's time is
        up the pass stops, saves where it is, and the next run resumes after
        the last order done.
        At the end, drift and failures are logged and kept in
        ``order_visibility.last_drift`` and ``order_visibility.last_reconcile_failures``,
        then the exception sweep makes a full pass (``_sweep_exceptions``):
        every check over every order, every next check rescheduled, so
        nothing the orders due missed stays missed.
        """
        self = self.sudo()
        params = self.env["ir.config_parameter"]
        SaleOrder = self.env["sale.order"].sudo().with_context(active_test=False)
        cron = self.env["ir.cron"]
        progress = json.loads(params.get_param(RECONCILE_PROGRESS_KEY) or "{}")
        last_id = progress.get("last_id", 0)
        totals = {key: progress.get(key, 0) for key in ("checked", "drift", "failed")}
        cron._commit_progress(remaining=SaleOrder.search_count([("id", ">", last_id)]))

        def reconcile(orders):
            return len(self._recompute_orders(orders, cause="reconciliation"))

        while batch := SaleOrder.search([("id", ">", last_id)], order="id", limit=BATCH_SIZE):
            failed, drifts = self._process_safely(batch, reconcile, "reconciliation")
            totals["drift"] += sum(drifts)
            totals["checked"] += len(batch)
            totals["failed"] += len(failed)
            last_id = batch[-1].id
            self.env.invalidate_all()
            if not cron._commit_progress(len(batch)):
                # Saved only when stopping: writing a parameter clears every
                # worker's registry cache. Interrupted otherwise, the next run
                # starts over, which is safe (a pass is idempotent).
                params.set_param(RECONCILE_PROGRESS_KEY, json.dumps({"last_id": last_id, **totals}))
                cron._commit_progress()
                _logger.info("order visibility reconciliation: time is up after order id %s, resuming later", last_id)
                return totals["drift"]
        params.set_param(RECONCILE_PROGRESS_KEY, False)
        params.set_param("order_visibility.last_drift", totals["drift"])
        params.set_param("order_visibility.last_reconcile_failures", totals["failed"])
        log = _logger.warning if totals["drift"] or totals["failed"] else _logger.info
        log(
            "order visibility reconciliation: %s orders checked, drift %s, failed on %s",
            totals["checked"],
            totals["drift"],
            totals["failed"],
        )
        self._sweep_exceptions(full=True)
        return totals["drift"]
