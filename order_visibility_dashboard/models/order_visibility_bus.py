# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import SUPERUSER_ID, api, models

from .ir_websocket import CONTROL_TOWER_SUBCHANNEL

NOTIFIED_KEY = "order_visibility_dashboard.pending_notices"
# A transaction that changed the stage of this many orders or more (an
# import, a mass update) has the control tower's running counts compacted
# right after it commits, rather than at the next hourly pass.
COMPACT_AFTER_TRANSITIONS = 1000


class OrderVisibility(models.Model):
    """Live updates of the control tower: one small bus notice per company
    and transaction."""

    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    def _on_transitions(self, transitions):
        result = super()._on_transitions(transitions)
        self._notify_control_tower(transitions)
        return result

    @api.model
    def _notify_control_tower(self, records):
        """Tell the control towers of the companies of ``records`` (records
        with a ``company_id``) that figures changed, once the transaction
        commits.

        Costs no query in the user's transaction: the records are noted on
        it, and after commit one short transaction of its own reads their
        companies and sends one small notice per company over the bus,
        whatever the number of changes. A rolled back change notifies nobody.
        The notice carries no business data: each dashboard refetches what
        its user may read.
        """
        if not records:
            return
        data = self.env.cr.postcommit.data
        pending = data.get(NOTIFIED_KEY)
        if pending is None:
            pending = data[NOTIFIED_KEY] = defaultdict(set)
            registry = self.env.registry

            @self.env.cr.postcommit.add
            def send_control_tower_notices():
                with registry.cursor() as cr:
                    api.Environment(cr, SUPERUSER_ID, {})["order.visibility"]._send_control_tower_notices(pending)

        pending[records._name].update(records.ids)

    @api.model
    def _send_control_tower_notices(self, pending):
        """``pending``: {model name: record ids} of committed changes."""
        if len(pending.get("order.visibility.transition", ())) >= COMPACT_AFTER_TRANSITIONS:
            self.env.ref("order_visibility_dashboard.ir_cron_compact_tally")._trigger()
        company_ids = set()
        for model, ids in pending.items():
            # Searched, not browsed: a record deleted since is simply skipped.
            records = self.env[model].sudo().search_fetch([("id", "in", list(ids))], ["company_id"])
            company_ids.update(records.company_id.ids)
        for company in self.env["res.company"].sudo().browse(sorted(company_ids)):
            self.env["bus.bus"]._sendone(
                (company, CONTROL_TOWER_SUBCHANNEL),
                "order_visibility_dashboard/changed",
                {"company_id": company.id},
            )
