# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from .ir_websocket import CONTROL_TOWER_SUBCHANNEL

# The kind of the after-commit notices of the control tower (see
# order.visibility._notify_after_commit).
CONTROL_TOWER_NOTICES = "control_tower"
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
        commits (the core's ``_notify_after_commit``: no query in the user's
        transaction, nothing on a rollback). One small notice per company
        and transaction, whatever the number of changes. The notice carries
        no business data: each dashboard refetches what its user may read.
        """
        self._notify_after_commit(CONTROL_TOWER_NOTICES, records)

    @api.model
    def _send_notices(self, pending):
        if CONTROL_TOWER_NOTICES in pending:
            self._send_control_tower_notices(pending[CONTROL_TOWER_NOTICES])
        return super()._send_notices(pending)

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
