# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import http.client
import logging
import random
import time
from collections import defaultdict
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models, sql_db
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools import outbound_http, signing

_logger = logging.getLogger(__name__)

# Seconds before retry n (after the n-th failed attempt); the last repeats.
BACKOFF_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
JITTER = 0.2  # each delay is drawn in [delay * (1 - JITTER), delay * (1 + JITTER)]
RESPONSE_CAP = 4096  # bytes of a response body read and kept
ERROR_CAP = 500
BATCH_SIZE = 200
USER_AGENT = "Odoo-Order-Visibility-Webhooks/1.0"


def backoff_delay(attempt_count, rng=random):
    """Seconds to wait after the ``attempt_count``-th failed attempt, with jitter."""
    base = BACKOFF_SCHEDULE[min(attempt_count, len(BACKOFF_SCHEDULE)) - 1]
    return base * rng.uniform(1 - JITTER, 1 + JITTER)


class OrderVisibilityWebhookDelivery(models.Model):
    """Dispatcher: claims due deliveries (``SKIP LOCKED``), sends them through
    ``tools/outbound_http.py``, records attempts (the endpoints' health is
    derived from them), backoff, dead-letter and auto-disable. Runs as the scheduled action, which owns its cursor."""

    # One concern per file (see order_visibility_webhook_delivery.py), on purpose.
    _inherit = "order.visibility.webhook.delivery"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _cron_dispatch(self):
        """Scheduled action: send what is due, batch after batch, until done or out of time.

        ``sessions`` ({endpoint id: ``outbound_http.Connection``}) lives for the
        whole run: keep-alive connections, and the endpoints that timed out,
        left alone until the next run.
        """
        sessions = {}
        try:
            self._release_stale_claims()
            while True:
                done = self._dispatch_batch(sessions=sessions)
                if not done:
                    break
                if self.env["ir.cron"]._commit_progress(done) <= 0:
                    break
        finally:
            for session in sessions.values():
                session.close()

    @api.model
    def _release_stale_claims(self, now=None):
        """Rows left ``sending`` by a crashed dispatcher go back to pending after the lease."""
        now = now or fields.Datetime.now()
        Settings = self.env["res.config.settings"]
        lease = timedelta(minutes=Settings._get_webhook_param("order_visibility_webhooks.lease_minutes"))
        self.env.execute_query(
            SQL(
                """UPDATE order_visibility_webhook_delivery
                      SET state = 'pending', claimed_at = NULL
                    WHERE state = 'sending' AND claimed_at < %s""",
                now - lease,
            )
        )
        self.env.invalidate_all()

    @api.model
    def _claim(self, limit=BATCH_SIZE, now=None, skip_endpoint_ids=()):
        """Take up to ``limit`` due deliveries for this worker and commit them as ``sending``.

        ``skip_endpoint_ids``: endpoints left alone in this run (they timed out).

        ``FOR UPDATE SKIP LOCKED``: concurrent dispatchers take disjoint rows.
        Per (endpoint, order), a delivery is taken only when every earlier one
        is delivered or dead, or taken in the same batch (sent first). Raw SQL:
        row locks with SKIP LOCKED are not expressible in the ORM; it runs as
        the dispatcher (superuser) with bound parameters only.

        The claim runs in READ COMMITTED (``_read_committed``): a row another
        worker claimed since this statement began is re-checked and skipped,
        where Odoo's REPEATABLE READ would fail the whole claim to serialise
        (an empty claim ends a cron run: with 4 workers, most of them).
        """
        now = now or fields.Datetime.now()
        # The dispatcher owns its cursor (a scheduled action's): each claim runs
        # in a transaction of its own, committed before any HTTP is sent.
        self.env.cr.commit()  # pylint: disable=invalid-commit
        try:
            self._read_committed()
            self.env.flush_all()
            # Kept as a safety net (a test's cursor stays in REPEATABLE READ):
            # a serialisation failure is handled below, not logged as a bad query.
            self.env.cr.execute(
                SQL(
                    """SELECT d.id FROM order_visibility_webhook_delivery d
                         JOIN order_visibility_webhook_endpoint e ON e.id = d.endpoint_id AND e.active
                        WHERE d.state IN ('pending', 'failed') AND d.next_attempt_at <= %(now)s
                          AND NOT d.endpoint_id = ANY(%(skip)s)
                          AND NOT EXISTS (
                              SELECT 1 FROM order_visibility_webhook_delivery p
                               WHERE p.endpoint_id = d.endpoint_id AND p.sale_order_id = d.sale_order_id
                                 AND (p.sequence < d.sequence OR (p.sequence = d.sequence AND p.id < d.id))
                                 AND (p.state IN ('sending', 'failed')
                                      OR (p.state = 'pending' AND p.next_attempt_at > %(now)s)))
                        ORDER BY d.next_attempt_at, d.endpoint_id, d.sale_order_id, d.sequence, d.id
                        LIMIT %(limit)s
                          FOR UPDATE OF d SKIP LOCKED""",
                    now=now,
                    limit=limit,
                    skip=list(skip_endpoint_ids),
                ),
                log_exceptions=False,
            )
            ids = [row[0] for row in self.env.cr.fetchall()]
            if ids:
                # An earlier delivery of the same order that another worker holds
                # (locked, so skipped above) or that is not in this batch: wait.
                blocked = self.env.execute_query(
                    SQL(
                        """SELECT DISTINCT d.id FROM order_visibility_webhook_delivery d
                             JOIN order_visibility_webhook_delivery p
                               ON p.endpoint_id = d.endpoint_id AND p.sale_order_id = d.sale_order_id
                              AND (p.sequence < d.sequence OR (p.sequence = d.sequence AND p.id < d.id))
                            WHERE d.id = ANY(%(ids)s) AND NOT p.id = ANY(%(ids)s)
                              AND p.state IN ('pending', 'sending', 'failed')""",
                        ids=ids,
                    )
                )
                blocked = {row[0] for row in blocked}
                ids = [i for i in ids if i not in blocked]
            if ids:
                self.env.execute_query(
                    SQL(
                        """UPDATE order_visibility_webhook_delivery
                              SET state = 'sending', claimed_at = %s WHERE id = ANY(%s)""",
                        now,
                        ids,
                    )
                )
            self.env.cr.commit()  # pylint: disable=invalid-commit
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
            # Another worker changed a candidate since our snapshot: try again next round.
            self.env.cr.rollback()
            _logger.debug("Webhook claim failed to serialise (another dispatcher took a candidate): empty batch")
            ids = []
        self.env.invalidate_all()
        return self.browse(ids)

    @api.model
    def _read_committed(self):
        """Run the transaction that begins now in READ COMMITTED (the first
        statement after a commit). For the dispatcher's short claim and
        auto-disable transactions only: each statement sees what other workers
        committed, and ``SKIP LOCKED`` re-checks a row they changed instead of
        failing to serialise. A test's cursor shares the test's transaction:
        left as it is."""
        if isinstance(self.env.cr, sql_db.Cursor):
            self.env.cr.execute(SQL("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"))

    @api.model
    def _dispatch_batch(self, limit=BATCH_SIZE, now=None, sessions=None):
        """Claim one batch, send it, record the outcomes; returns how many were claimed.

        ``sessions``: {endpoint id: ``outbound_http.Connection``} kept by the
        caller across the batches of a run (see ``_cron_dispatch``).
        """
        skip = [endpoint_id for endpoint_id, session in (sessions or {}).items() if session.timed_out]
        deliveries = self._claim(limit, now, skip_endpoint_ids=skip)
        if deliveries:
            own_sessions = sessions is None
            sessions = {} if own_sessions else sessions
            try:
                health = deliveries._send(sessions, now)
            finally:
                if own_sessions:
                    for session in sessions.values():
                        session.close()
            self.env.cr.commit()  # pylint: disable=invalid-commit
            self._disable_failing_endpoints(health, now or fields.Datetime.now())
        return len(deliveries)

    @api.model
    def _disable_failing_endpoints(self, health, now):
        """After a batch: the endpoints that failed in it are disabled if their
        failure streak is sustained, in a short transaction of its own.

        The health itself is derived from the committed attempts (nothing is
        written on the endpoint's row when a batch goes well, so workers never
        update the same row on the normal path). Only the rare disable writes
        it, under a ``SKIP LOCKED`` row lock in READ COMMITTED: when another
        worker holds the row or has disabled the endpoint, this one leaves it
        alone; the outcomes are committed already, nothing is lost.
        """
        failed = [endpoint_id for endpoint_id, outcomes in health.items() if not all(outcomes)]
        if not failed:
            return
        try:
            self._read_committed()  # the row lock re-checks ``active`` rather than fail to serialise
            self.env["order.visibility.webhook.endpoint"].browse(failed)._disable_if_failing(now)
            self.env.cr.commit()  # pylint: disable=invalid-commit
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
            self.env.cr.rollback()
            _logger.info(
                "Webhook endpoints %s: auto-disable failed to serialise (another dispatcher); left to it", failed
            )
        self.env.invalidate_all()

    def _send(self, sessions, now=None):
        """Send claimed deliveries (``sending``), per endpoint and in sequence order per order.

        Per endpoint: its URL is checked again and the connection goes to the
        addresses checked; a delivery whose company is not its endpoint's is
        dead-lettered unsent; after an attempt that timed out, the endpoint's
        other deliveries go back to pending untouched (retried next run).

        Returns {endpoint id: [success of each attempt, in order]}: the endpoints
        that failed are checked for auto-disable.
        """
        now = now or fields.Datetime.now()
        health = {}
        self.fetch(["endpoint_id", "company_id", "event_id", "payload", "sale_order_id", "sequence", "attempt_count"])
        attempts, released = [], self.browse()
        by_endpoint = defaultdict(self.browse)
        for delivery in self.sorted(lambda d: (d.endpoint_id.id, d.sale_order_id.id, d.sequence, d.id)):
            by_endpoint[delivery.endpoint_id] |= delivery
        for endpoint_record, claimed in by_endpoint.items():
            endpoint = endpoint_record.sudo()
            foreign = claimed.filtered(lambda d, endpoint=endpoint: d.company_id != endpoint.company_id)
            for delivery in foreign:
                error = self.env._(
                    "Refused: the delivery belongs to %(company)s, its endpoint to %(endpoint_company)s; never sent.",
                    company=delivery.company_id.name,
                    endpoint_company=endpoint.company_id.name,
                )
                result = {"status_code": 0, "latency_ms": 0, "response": "", "error": error, "ok": False}
                attempts.append((delivery, endpoint, dict(result, dead=True)))
            deliveries = claimed - foreign
            session = sessions.get(endpoint.id)
            if not deliveries:
                continue
            if session is not None and session.timed_out:
                released |= deliveries
                continue
            refusal = None
            try:
                target = endpoint._check_target_url(endpoint.url)
            except UserError as error:
                refusal = self.env._("Refused at send time: %(reason)s", reason=error.args[0])
            else:
                if session is None:
                    session = sessions[endpoint.id] = outbound_http.Connection(target)
                else:
                    session.use(target)
            secrets = endpoint._signing_secrets(now)
            failed_orders = set()
            outcomes = []
            for delivery in deliveries:
                order_key = delivery.sale_order_id.id
                if (order_key and order_key in failed_orders) or (not refusal and session.timed_out):
                    # An earlier event of this order failed (keep the order), or
                    # the receiver ran out of time: not this batch.
                    released |= delivery
                    continue
                if refusal:
                    result = {"status_code": 0, "latency_ms": 0, "response": "", "error": refusal, "ok": False}
                else:
                    result = delivery._post(session, secrets, endpoint.timeout)
                outcomes.append(result["ok"])
                if not result["ok"] and order_key:
                    failed_orders.add(order_key)
                attempts.append((delivery, endpoint, result))
            if outcomes:
                health[endpoint.id] = outcomes
        self._record_attempts(attempts, now)
        if released:
            released._write_internal({"state": "pending", "claimed_at": False})
        return health

    def _post(self, connection, secrets, timeout):
        """One HTTP attempt through ``connection`` (an ``outbound_http.Connection``);
        never raises, never follows redirects, reads at most RESPONSE_CAP bytes,
        takes at most ``timeout`` seconds in all."""
        self.ensure_one()
        body = self.payload.encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": self.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signing.signature_header(secrets, self.event_id, timestamp, body),
        }
        start = time.monotonic()
        status, text, error = 0, "", ""
        try:
            status, answer = connection.post(body, headers, timeout, RESPONSE_CAP)
            text = answer[:RESPONSE_CAP].decode("utf-8", "replace")
        except TimeoutError:
            error = self.env._("No answer within %(timeout)s s.", timeout=timeout)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = self.env._("Connection failed: %(error)s", error=type(exc).__name__)
        latency = int((time.monotonic() - start) * 1000)
        ok = not error and 200 <= status < 300
        if not error and not ok:
            if 300 <= status < 400:
                error = self.env._("HTTP %(status)s: redirect not followed.", status=status)
            else:
                error = self.env._("HTTP %(status)s from the receiver.", status=status)
        return {"status_code": status, "latency_ms": latency, "response": text, "error": error, "ok": ok}

    def _record_attempts(self, attempts, now):
        """Write the attempts (one batched insert) and each delivery's new state."""
        if not attempts:
            return
        self.env["order.visibility.webhook.attempt"].sudo().create(
            [
                {
                    "delivery_id": delivery.id,
                    "attempted_at": now,
                    "number": delivery.attempt_count + 1,
                    "status_code": result["status_code"],
                    "latency_ms": result["latency_ms"],
                    "response": result["response"],
                    "error": (result["error"] or "")[:ERROR_CAP],
                    "success": result["ok"],
                }
                for delivery, _endpoint, result in attempts
            ]
        )
        for delivery, endpoint, result in attempts:
            count = delivery.attempt_count + 1
            vals = {
                "attempt_count": count,
                "claimed_at": False,
                "last_status_code": result["status_code"],
                "last_latency_ms": result["latency_ms"],
                "last_error": (result["error"] or "")[:ERROR_CAP] or False,
            }
            if result["ok"]:
                vals.update(state="delivered", delivered_at=now)
            elif result.get("dead") or count >= endpoint.max_attempts:
                vals.update(state="dead")
            else:
                vals.update(state="failed", next_attempt_at=now + timedelta(seconds=backoff_delay(count)))
            delivery._write_internal(vals)
