# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Automation rules of the suite's models looked up once per transaction.

Odoo searches the rules of a model at every ``write`` (and every recompute
of its stored fields) of a model that has rules. One engine pass writes an
order's visibility record a few times (stage, first promise, risk, and the
service-level measures the ORM recomputes at flush): within a transaction
the answer of that search only changes when a rule does."""

from odoo import api, models

# cr.cache key: {(model name, triggers): automation ids} for the transaction;
# None once a rule changed in it (Odoo's search every time from then on, so
# that a rollback to a savepoint never leaves a rule kept that is gone).
AUTOMATIONS_KEY = "order_visibility.automations"


class BaseAutomation(models.Model):
    _inherit = "base.automation"

    def _kept_automations(self):
        cr = self.env.cr
        if AUTOMATIONS_KEY not in cr.cache:
            cr.cache[AUTOMATIONS_KEY] = {}
            cr.postcommit.add(lambda: cr.cache.pop(AUTOMATIONS_KEY, None))
            cr.postrollback.add(lambda: cr.cache.pop(AUTOMATIONS_KEY, None))
        return cr.cache[AUTOMATIONS_KEY]

    def _forget_kept_automations(self):
        self._kept_automations()
        self.env.cr.cache[AUTOMATIONS_KEY] = None

    def _get_actions(self, records, triggers):
        memo = self._kept_automations() if records._name.startswith("order.visibility") else None
        if memo is None:
            return super()._get_actions(records, triggers)
        if "__action_done" not in self.env.context:
            self = self.with_context(__action_done={})
        key = (records._name, tuple(triggers))
        if key not in memo:
            memo[key] = super()._get_actions(records, triggers).ids
        return self.browse(memo[key])

    @api.model_create_multi
    def create(self, vals_list):
        self._forget_kept_automations()
        return super().create(vals_list)

    def write(self, vals):
        self._forget_kept_automations()
        return super().write(vals)

    @api.ondelete(at_uninstall=True)
    def _unlink_forget_kept_automations(self):
        self._forget_kept_automations()
