# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Automation rules of the suite's models, looked up without a query, and
only those a change can run.

Odoo searches the rules of a model at every ``write`` (and every recompute
of its stored fields) of a model that has rules, and evaluates the
conditions of each, whatever fields the change touches. One engine pass
writes an order's visibility record a few times (stage, first promise,
risk) and the ORM recomputes its stored fields (service levels, copies of
the order's columns) at flush: each of those looked the rules up and
evaluated them.

Here, for the suite's models:

- the rules, with the fields each one watches, are kept in the registry's
  cache, as Odoo keeps its access rules: any change of a rule clears it,
  and Odoo reloads the registry of every worker after it
  (``_update_registry``). For the rest of a transaction that changed a
  rule, Odoo's own search runs every time, so that a rollback never leaves
  a rule kept that is gone;
- a write, or a recompute of stored fields, looks at the rules that watch
  one of the fields it changes (and those that watch any field) only. Odoo
  runs a rule that watches fields when one of them changed, which it tells
  from the old values of the fields written or recomputed
  (``_check_trigger_fields``): a rule that watches none of them never runs
  for that change. Leaving it out changes nothing but the time spent
  evaluating its conditions.
"""

from contextvars import ContextVar

from odoo import api, models, tools
from odoo.addons.base_automation.models.base_automation import WRITE_TRIGGERS

from ..tools.fetch import record_columns
from ..tools.transaction import kept, stop_keeping

# cr.cache key: None once a rule changed in the transaction (Odoo's search
# every time from then on).
AUTOMATIONS_KEY = "order_visibility.automations"
# The stored fields a write or a recompute of a suite's model changes, for
# the rules lookup of that change only (the first lookup made in it: a
# write nested in it sees the rules of its own fields). A context variable
# of this process, not a context key: no RPC can narrow the rules of a write.
_CHANGED_FIELDS = ContextVar("order_visibility_changed_fields", default=None)


def _narrowed(method, changed_fields):
    """Odoo's automation wrapper ``method`` (of write or of
    _compute_field_value), its rules lookup narrowed to the rules that
    watch one of the stored fields ``changed_fields(self, arg)`` returns."""

    def wrapper(self, arg, *args, **kwargs):
        changed = changed_fields(self, arg)
        if not changed:
            # Nothing stored changes: Odoo's wrapper looks no rule up.
            return method(self, arg, *args, **kwargs)
        token = _CHANGED_FIELDS.set([changed])
        try:
            return method(self, arg, *args, **kwargs)
        finally:
            _CHANGED_FIELDS.reset(token)

    wrapper.origin = method.origin
    wrapper.order_visibility_narrowed = True
    return wrapper


def _written_fields(records, vals):
    return frozenset(name for name in vals if name in records._fields and records._fields[name].store)


def _recomputed_fields(records, field):
    return frozenset(f.name for f in records.pool.field_computed.get(field, [field]) if f.store)


class BaseAutomation(models.Model):
    _inherit = "base.automation"

    def _kept_automations(self):
        return kept(self.env.cr, AUTOMATIONS_KEY)

    def _forget_kept_automations(self):
        stop_keeping(self.env.cr, AUTOMATIONS_KEY)
        self.env.registry.clear_cache()

    @api.model
    def _search_order_visibility_rules(self, model_name, triggers):
        """((rule id, names of the fields it watches or None for any), ...)
        of the active rules of ``model_name`` and ``triggers``, as Odoo's
        ``_get_actions`` searches them."""
        domain = [("model_name", "=", model_name), ("trigger", "in", list(triggers))]
        rules = self.with_context(active_test=True).sudo().search(domain)
        return tuple((rule.id, frozenset(rule.trigger_field_ids.mapped("name")) or None) for rule in rules)

    @api.model
    @tools.ormcache("model_name", "triggers")
    def _order_visibility_rules(self, model_name, triggers):
        """``_search_order_visibility_rules``, kept in the registry's cache."""
        return self._search_order_visibility_rules(model_name, triggers)

    @api.model
    def _order_visibility_watched(self, model_name, triggers, field_name):
        """Whether a rule of ``triggers`` on ``model_name`` watches
        ``field_name`` (or any field)."""
        triggers = tuple(triggers)
        if self._kept_automations() is None:
            rules = self._search_order_visibility_rules(model_name, triggers)
        else:
            rules = self._order_visibility_rules(model_name, triggers)
        return any(names is None or field_name in names for _rule_id, names in rules)

    def _get_actions(self, records, triggers):
        if not records._name.startswith("order.visibility"):
            return super()._get_actions(records, triggers)
        # Pending changes of the rules reach the database first (turning the
        # rules kept off, see _write_multi); nothing pending, no query.
        self.flush_model(["model_id", "trigger", "active", "trigger_field_ids"])
        # The fields of the write or recompute this lookup is made for.
        changed = _CHANGED_FIELDS.get() if list(triggers) == WRITE_TRIGGERS else None
        changed = changed.pop() if changed else None
        if self._kept_automations() is None:
            return super()._get_actions(records, triggers)
        if "__action_done" not in self.env.context:
            self = self.with_context(__action_done={})
        rules = self._order_visibility_rules(records._name, tuple(triggers))
        rules = self.browse(
            [rule_id for rule_id, names in rules if changed is None or names is None or names & changed]
        )
        if rules:
            # Read whole (their conditions are read right after), and their
            # model, the one looked up: its name, which each rule reads to
            # evaluate its conditions (``_get_eval_context``), is known
            # without reading the model's row.
            rules.sudo().fetch(record_columns(self))
            self.env["ir.model"]._fields["model"]._insert_cache(rules.model_id, [records._name] * len(rules.model_id))
        return rules

    def _register_hook(self):
        """Odoo's patches of the models with rules, then, on the suite's
        models, the lookup of each write and recompute narrowed to the
        rules of the fields it changes (removed with Odoo's patches by
        ``_unregister_hook``: they are set on the same attributes)."""
        result = super()._register_hook()
        for model_name, Model in self.env.registry.items():
            if not model_name.startswith("order.visibility"):
                continue
            for name, changed_fields in (("write", _written_fields), ("_compute_field_value", _recomputed_fields)):
                method = Model.__dict__.get(name)
                if hasattr(method, "origin") and not getattr(method, "order_visibility_narrowed", False):
                    setattr(Model, name, _narrowed(method, changed_fields))
        return result

    # Any rule created, written to the database or deleted turns the rules
    # kept off for the transaction and clears the registry's cache. Private
    # hooks of the ORM's low level: no public method to call over RPC.
    def _create(self, data_list):
        self._forget_kept_automations()
        return super()._create(data_list)

    def _write_multi(self, vals_list):
        self._forget_kept_automations()
        return super()._write_multi(vals_list)

    @api.ondelete(at_uninstall=True)
    def _unlink_forget_kept_automations(self):
        self._forget_kept_automations()
