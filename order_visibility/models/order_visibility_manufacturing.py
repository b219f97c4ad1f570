# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Make-to-order through manufacturing, read from the stock moves alone:
a delivery waiting for goods an open manufacturing order makes names that
order as the cause of its shortage. ``production_id`` (the manufacturing
order of a finished-goods move) exists on stock.move only with mrp
installed; without mrp nothing here applies, and the core never imports it."""

from odoo import api, models


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _feeding_productions(self, moves):
        """The open manufacturing orders that make the goods ``moves`` wait
        for (anywhere up their chains), ordered by name; an empty list without mrp."""
        Move = self.env["stock.move"]
        if "production_id" not in Move._fields:
            return []
        # The moves' own chains without themselves: no query for moves that
        # wait for no earlier move (most shortages).
        origin_ids = {origin for move in moves for origin in move._rollup_move_origs()} - set(moves.ids)
        if not origin_ids:
            return []
        productions = Move.browse(origin_ids).with_prefetch(moves._prefetch_ids).production_id
        return sorted(p.name for p in productions.filtered(lambda p: p.state not in ("done", "cancel")))

    @api.model
    def _shortage_cause(self, moves):
        """What the short ``moves`` wait for, appended to their stock shortage's
        detail: the manufacturing orders making their goods, or ''."""
        productions = self._feeding_productions(moves)
        if not productions:
            return ""
        return " " + self.env._("(waiting for manufacturing order %(productions)s)", productions=", ".join(productions))
