# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Automation rules of the suite's models looked up once per transaction.

Odoo searches the rules of a model at every ``write`` (and every recompute
of its stored fields) of a model that has rules. One engine pass writes an
order's visibility record a few times (stage, first promise, risk, and the
service-level measures the ORM recomputes at flush): within a transaction
the answer of that search only changes when a rule does."""

from odoo import api, models

from ..tools.fetch import record_columns
from ..tools.transaction import kept, stop_keeping

# cr.cache key: {(model name, triggers): automation ids} for the transaction;
# None once a rule changed in it (Odoo's search every time from then on, so
# that a rollback to a savepoint never leaves a rule kept that is gone).
AUTOMATIONS_KEY = "order_visibility.automations"


class BaseAutomation(models.Model):
    _inherit = "base.automation"

    def _kept_automations(self):
        return kept(self.env.cr, AUTOMATIONS_KEY)

    def _forget_kept_automations(self):
        stop_keeping(self.env.cr, AUTOMATIONS_KEY)

    def _get_actions(self, records, triggers):
        if not records._name.startswith("order.visibility"):
            return super()._get_actions(records, triggers)
        # Pending changes of the rules reach the database first (turning the
        # rules kept off, see _write_multi); nothing pending, no query.
        self.flush_model(["model_id", "trigger", "active"])
        memo = self._kept_automations()
        if memo is None:
            return super()._get_actions(records, triggers)
        if "__action_done" not in self.env.context:
            self = self.with_context(__action_done={})
        key = (records._name, tuple(triggers))
        if key not in memo:
            # Odoo's search (base_automation's _get_actions), the rules read
            # whole by it: their preconditions are read right after.
            domain = [("model_name", "=", records._name), ("trigger", "in", triggers)]
            rules = self.with_context(active_test=True).sudo().search_fetch(domain, record_columns(self))
            # Their model is the one searched for: its name, which each rule
            # reads to evaluate its conditions (``_get_eval_context``), is
            # known without reading the model's row.
            self.env["ir.model"]._fields["model"]._insert_cache(rules.model_id, [records._name] * len(rules.model_id))
            memo[key] = rules.ids
        return self.browse(memo[key])

    # Any rule created, written to the database or deleted turns the rules
    # kept off for the transaction. Private hooks of the ORM's low level: no
    # public method to call over RPC.
    def _create(self, data_list):
        self._forget_kept_automations()
        return super()._create(data_list)

    def _write_multi(self, vals_list):
        self._forget_kept_automations()
        return super()._write_multi(vals_list)

    @api.ondelete(at_uninstall=True)
    def _unlink_forget_kept_automations(self):
        self._forget_kept_automations()
