# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column, table_exists

_logger = logging.getLogger(__name__)

# Points a carrier delay past the promised date adds to the risk score.
CARRIER_DELAY_POINTS = 30
# Days a failed delivery stays a cause the scheduled action may still announce.
FAILED_DELIVERY_CAUSE_DAYS = 2


def _iso(moment):
    return moment.isoformat() + "Z" if moment else None


class OrderVisibility(models.Model):
    _inherit = "order.visibility"

    milestone_ids = fields.One2many("order.visibility.milestone", "visibility_id", string="Delivery Milestones")
    # Kept on the record, which the engine reads whole: an order without
    # milestones (most, and every order at its confirmation) costs the risk
    # and the promise's causes no query for them.
    latest_milestone_id = fields.Many2one(
        "order.visibility.milestone",
        compute="_compute_latest_milestone_id",
        store=True,
        readonly=True,
    )

    def _auto_init(self):
        self._add_latest_milestone_column()
        return super()._auto_init()

    def _add_latest_milestone_column(self):
        """Add the column of ``latest_milestone_id`` filled by one UPDATE,
        where Odoo would compute the new field for every order (the
        milestones of 100,000 orders read by the ORM at the installation);
        its foreign key is added by Odoo as for any Many2one."""
        cr = self.env.cr
        if not table_exists(cr, self._table) or column_exists(cr, self._table, "latest_milestone_id"):
            return
        create_column(cr, self._table, "latest_milestone_id", "int4", self._fields["latest_milestone_id"].string)
        if table_exists(cr, "order_visibility_milestone"):
            cr.execute(
                SQL(
                    """UPDATE order_visibility visibility SET latest_milestone_id = latest.id
                         FROM (SELECT DISTINCT ON (visibility_id) visibility_id, id FROM order_visibility_milestone
                                ORDER BY visibility_id, occurred_at DESC, id DESC) latest
                        WHERE visibility.id = latest.visibility_id"""
                )
            )

    @api.model
    def _inserted_columns(self):
        # The installation's records (order_visibility_installation.py): a
        # new record has no milestone yet.
        return {**super()._inserted_columns(), "latest_milestone_id": SQL("NULL")}

    @api.depends("milestone_ids.occurred_at")
    def _compute_latest_milestone_id(self):
        none = self.env["order.visibility.milestone"]
        for visibility in self:
            # The milestones' order (occurred_at desc, id desc), whatever the
            # order of the ones just received in the cache.
            visibility.latest_milestone_id = max(
                visibility.milestone_ids, key=lambda milestone: (milestone.occurred_at, milestone.id), default=none
            )

    def _on_transitions(self, transitions):
        """Each real stage change emits ``order.status_changed``, in the same transaction."""
        super()._on_transitions(transitions)
        Delivery = self.env["order.visibility.webhook.delivery"]
        if not self.env["order.visibility.webhook.endpoint"]._companies_with_active_endpoints():
            return
        Delivery._emit_events(
            [
                {
                    "visibility": transition.visibility_id,
                    "type": "order.status_changed",
                    "data": {
                        "old_stage": transition.from_stage or None,
                        "new_stage": transition.to_stage,
                        "cause": transition.cause or None,
                        "changed_at": transition.changed_at.isoformat() + "Z",
                    },
                }
                for transition in transitions.sorted("id")
            ]
        )

    def _on_promise_changes(self, changes):
        """Each logged change of the promised date emits ``order.promise_changed``,
        in the same transaction. The cause's label is in the company's
        language (the receivers are its systems and staff), next to its code."""
        super()._on_promise_changes(changes)
        if not self.env["order.visibility.webhook.endpoint"]._companies_with_active_endpoints():
            return
        changes = changes.sudo()
        changes.fetch(["visibility_id", "old_date", "new_date", "changed_at", "changed_by", "cause", "company_id"])
        changes.visibility_id.fetch(["first_promised_date"])
        PromiseChange = self.env["order.visibility.promise.change"]
        labels = {}  # lang: {cause code: label}
        events = []
        for change in changes.sorted("id"):
            lang = change.company_id.partner_id.lang or "en_US"
            if lang not in labels:
                labels[lang] = dict(
                    PromiseChange._fields["cause"]._description_selection(self.env(context={"lang": lang}))
                )
            user = change.changed_by
            events.append(
                {
                    "visibility": change.visibility_id,
                    "type": "order.promise_changed",
                    "data": {
                        "promise_change_id": change.id,
                        "first_promised_date": _iso(change.visibility_id.first_promised_date),
                        "old_promised_date": _iso(change.old_date),
                        "new_promised_date": _iso(change.new_date),
                        "changed_at": _iso(change.changed_at),
                        # The server's own passes (scheduled actions) have no person behind them.
                        "changed_by": user.name if user and user.id != SUPERUSER_ID else None,
                        "cause": change.cause,
                        "cause_label": labels[lang].get(change.cause, change.cause),
                    },
                }
            )
        self.env["order.visibility.webhook.delivery"]._emit_events(events)

    def _promise_change_causes(self, promises_before):
        """The core's causes, plus ``carrier_eta`` for a promise moved later
        while the carrier's latest milestone of the order is a delay with an
        ETA after the old promise (a purchase still feeding the order comes
        first: the goods have not reached the carrier)."""
        found = super()._promise_change_causes(promises_before)
        later = self.filtered(lambda v: v.id not in found and v.promised_date > promises_before[v.id])
        if not later:
            return found
        latest = later._latest_milestones()
        for visibility in later:
            milestone = latest.get(visibility.id)
            if milestone and milestone.milestone == "delayed" and milestone.eta:
                if milestone.eta > promises_before[visibility.id]:
                    found[visibility.id] = "carrier_eta"
        return found

    def _risk_factors(self, facts=None, ship_dates=None, cleared_codes=()):
        """The core's factors, plus the last carrier delay when its new ETA is
        past the promised date (until a later milestone supersedes it)."""
        all_factors = super()._risk_factors(facts, ship_dates, cleared_codes)
        for visibility_id, days in self._carrier_delays().items():
            all_factors[visibility_id].append((CARRIER_DELAY_POINTS, ["carrier_delay", {"days": days}]))
        return all_factors

    def _latest_milestones(self):
        """{visibility id: its latest carrier milestone}, for the orders that
        have one; their milestones read in one query."""
        with_milestones = self.filtered("latest_milestone_id")
        milestones = with_milestones.latest_milestone_id.sudo()
        milestones.fetch(["milestone", "eta", "occurred_at"])
        return {visibility.id: visibility.latest_milestone_id.sudo() for visibility in with_milestones}

    def _carrier_delays(self):
        """{visibility id: days past the promise} of the orders whose latest
        milestone is a delay with an ETA after the promised date."""
        if not self.ids:
            return {}
        latest = self._latest_milestones()
        delays = {}
        for visibility in self:
            milestone = latest.get(visibility.id)
            if visibility.stage == "cancelled" or not milestone or milestone.milestone != "delayed":
                continue
            promised = visibility.promised_date
            if milestone.eta and promised and milestone.eta > promised:
                delays[visibility.id] = round((milestone.eta - promised).total_seconds() / 86400.0, 1)
        return delays

    def _risk_reason_text(self, code, figures, stage_labels):
        if code == "carrier_delay":
            return self.env._("the carrier expects delivery %(days).1f days after the promise", days=figures["days"])
        return super()._risk_reason_text(code, figures, stage_labels)

    # ------------------------------------------------------------------
    # Proactive customer updates (core: order_visibility_customer_updates.py)
    # fed by the carrier: a delay past the promise or a failed delivery
    # ------------------------------------------------------------------

    @api.depends("milestone_ids.milestone", "milestone_ids.eta", "milestone_ids.occurred_at")
    @api.depends_context("lang")
    def _compute_customer_update_text(self):
        return super()._compute_customer_update_text()

    def _customer_update_milestone(self):
        """The accepted milestone a customer update is about: the order's latest
        milestone when it is a delay past the promised date or a failed
        delivery (a later milestone, e.g. ``delivered``, supersedes it)."""
        self.ensure_one()
        if self.stage == "cancelled":
            return self.env["order.visibility.milestone"]
        # sudo: the facts of an update are the engine's, as in the core.
        latest = self.env["order.visibility.milestone"].sudo().search([("visibility_id", "=", self.id)], limit=1)
        if latest.milestone == "failed_delivery" or latest._is_late_delay():
            return latest
        return latest.browse()

    def _customer_update_facts(self):
        """The core's facts, plus the carrier's: ``milestone`` (``delayed`` or
        ``failed_delivery``, else False) and ``milestone_date``; the carrier's
        new ETA becomes the ``expected_date`` the update announces."""
        facts = super()._customer_update_facts()
        milestone = self._customer_update_milestone()
        facts["milestone"] = milestone.milestone or False
        facts["milestone_date"] = milestone.occurred_at or False
        if milestone:
            # No ETA after a failed delivery: the update says it will follow.
            facts["expected_date"] = milestone.eta or False
        return facts

    def _customer_update_cause_key(self, facts=None):
        """A carrier delay is one cause per announced ETA (a second identical
        delay is the same cause); a failed delivery one per day it failed."""
        self.ensure_one()
        facts = facts or self._customer_update_facts()
        if facts.get("milestone") == "delayed":
            return f"carrier_delay:{fields.Date.to_string(facts['expected_date'].date())}"
        if facts.get("milestone") == "failed_delivery":
            return f"failed_delivery:{fields.Date.to_string(facts['milestone_date'].date())}"
        return super()._customer_update_cause_key(facts)

    def _customer_update_situation(self, facts):
        """The carrier's news when a milestone drives the update, in the
        reader's language; the core's otherwise."""
        if not facts.get("milestone"):
            return super()._customer_update_situation(facts)
        day = self._customer_update_day
        expected = facts["expected_date"]
        if facts["milestone"] == "delayed":
            return self.env._(
                "Your order %(order)s is on its way, but the carrier has been delayed: it now expects to deliver "
                "it on %(expected_date)s.",
                order=facts["order"],
                expected_date=day(expected),
            )
        if expected:
            return self.env._(
                "The carrier could not deliver your order %(order)s on %(failed_date)s; it now expects to "
                "deliver it on %(expected_date)s.",
                order=facts["order"],
                failed_date=day(facts["milestone_date"]),
                expected_date=day(expected),
            )
        return self.env._(
            "The carrier could not deliver your order %(order)s on %(failed_date)s; we will let you know the "
            "new delivery date as soon as we have it.",
            order=facts["order"],
            failed_date=day(facts["milestone_date"]),
        )

    def _send_carrier_customer_updates(self):
        """After an accepted delay or failed delivery: send the update at once,
        only where the core's switches allow automatic sending (the company's
        *Send customer updates automatically* and the customer's *Automatic
        Order Updates*, no opt-out, an e-mail address), once per cause."""
        Update = self.env["order.visibility.customer.update"].sudo()
        sent = 0
        for visibility in self.sudo():
            partner = visibility.partner_id
            if not (
                visibility.company_id.ov_auto_customer_updates
                and partner.ov_auto_customer_updates
                and not partner.ov_customer_update_opt_out
                and partner.email
            ):
                continue
            facts = visibility._customer_update_facts()
            if not facts["milestone"]:
                continue
            cause = visibility._customer_update_cause_key(facts)
            if Update.search_count([("visibility_id", "=", visibility.id), ("cause", "=", cause)], limit=1):
                continue
            # A mail that cannot be sent must not refuse the carrier's milestone.
            if visibility._send_automatic_customer_update(cause):
                sent += 1
        return sent

    @api.model
    def _cron_send_customer_updates(self):
        """The core's automatic updates, then the carrier's causes of orders
        the core's run does not look at (shipped ones): a delay past the
        promise whose ETA is still ahead, a failed delivery of the last two
        days. So an update switched on after the milestone still goes out;
        once per cause, under the same switches."""
        sent = super()._cron_send_customer_updates()
        companies = self.env["res.company"].sudo().search([("ov_auto_customer_updates", "=", True)])
        if not companies:
            return sent
        now = fields.Datetime.now()
        milestones = (
            self.env["order.visibility.milestone"]
            .sudo()
            .search(
                Domain("company_id", "in", companies.ids)
                & Domain("visibility_id.partner_id.ov_auto_customer_updates", "=", True)
                & (
                    (Domain("milestone", "=", "delayed") & Domain("eta", ">", now))
                    | (
                        Domain("milestone", "=", "failed_delivery")
                        & Domain("occurred_at", ">=", now - timedelta(days=FAILED_DELIVERY_CAUSE_DAYS))
                    )
                )
            )
        )
        cron = self.env["ir.cron"]
        carrier_sent = 0
        for visibility in milestones.visibility_id:
            if not cron._commit_progress():
                break  # out of time: the next run goes on
            carrier_sent += visibility._send_carrier_customer_updates()
        _logger.info("order visibility: %s customer updates sent automatically for carrier milestones", carrier_sent)
        return sent + carrier_sent
