# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Governance rules became opt-in in 19.0.1.1.0.

Before, the approval thresholds and the overdue-receivables credit policy
applied from installation. A database upgraded from an earlier version keeps
what it had: each rule that was live is switched on, explicitly.
"""

from odoo import SUPERUSER_ID, api

RULES = (
    "order_visibility.approve_high_value",
    "order_visibility.approve_low_margin",
    "order_visibility.hold_overdue",
)


def migrate(cr, version):
    if not version:
        return  # a new installation: the rules start off
    params = api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"]
    # A high-value amount of 0 used to switch that rule off.
    high_value = params.get_param("order_visibility.high_value_amount")
    was_live = {
        "order_visibility.approve_high_value": high_value in (None, False) or float(high_value or 0) > 0,
        "order_visibility.approve_low_margin": True,
        "order_visibility.hold_overdue": True,
    }
    for key in RULES:
        params.set_param(key, was_live[key])
