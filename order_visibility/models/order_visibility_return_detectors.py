# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Time-based detectors of the returns lifecycle, run by the exception
sweep (``_detect_<code>``): a return not back after N days, goods back
and not refunded after N days. Each is off while its number of days is 0
(Settings), like every rule that asks something new of a team."""

from datetime import timedelta

from odoo import api, models


class OrderVisibilityException(models.Model):
    _inherit = "order.visibility.exception"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _detect_return_not_received(self, now, visibilities=None):
        days = self.env["order.visibility"]._param("order_visibility.return_receipt_days")
        if not days:
            return {}
        return self._returns_waiting("requested", now - timedelta(days=days), days, visibilities)

    @api.model
    def _detect_refund_overdue(self, now, visibilities=None):
        days = self.env["order.visibility"]._param("order_visibility.refund_days")
        if not days:
            return {}
        return self._returns_waiting("received", now - timedelta(days=days), days, visibilities)

    @api.model
    def _returns_waiting(self, return_state, since, days, visibilities=None):
        """{key: detail} of the orders (of ``visibilities``; None: all) in
        ``return_state`` since before ``since``: one search."""
        waiting = self.env["order.visibility"].search_fetch(
            [
                *self._scope_domain(visibilities),
                ("return_state", "=", return_state),
                ("return_state_since", "<", since),
            ],
            ["return_state_since"],
        )
        if return_state == "requested":
            detail = self.env._("Return requested more than %(days)s days ago, goods not back", days=days)
        else:
            detail = self.env._("Goods back more than %(days)s days ago, not refunded", days=days)
        return self._keys(waiting, detail)
