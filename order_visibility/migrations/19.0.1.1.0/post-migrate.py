# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Upgrade to 19.0.1.1.0.

- Governance rules became opt-in. Before, the approval thresholds and the
  overdue-receivables credit policy applied from installation. A database
  upgraded from an earlier version keeps what it had: each rule that was live
  is switched on, explicitly.
- Risk explanations are stored as language-neutral reasons: the risk of
  every open order is refreshed once so that each has its reasons.
- The "order at risk" automation rule (noupdate data) follows the at-risk
  setting instead of a fixed 60, unless an admin edited its domains.
"""

from odoo import SUPERUSER_ID, api

OLD_AT_RISK_DOMAINS = ("[('risk_score', '<', 60)]", "[('risk_score', '>=', 60), ('user_id', '!=', False)]")
NEW_AT_RISK_DOMAINS = ("[('is_at_risk', '=', False)]", "[('is_at_risk', '=', True), ('user_id', '!=', False)]")
RULES = (
    "order_visibility.approve_high_value",
    "order_visibility.approve_low_margin",
    "order_visibility.hold_overdue",
)


def migrate(cr, version):
    if not version:
        return  # a new installation: the rules start off
    env = api.Environment(cr, SUPERUSER_ID, {})
    at_risk = env.ref("order_visibility.automation_order_at_risk", raise_if_not_found=False)
    if at_risk and (at_risk.filter_pre_domain, at_risk.filter_domain) == OLD_AT_RISK_DOMAINS:
        at_risk.write(dict(zip(("filter_pre_domain", "filter_domain"), NEW_AT_RISK_DOMAINS, strict=True)))
    visibilities = env["order.visibility"].search([("stage", "not in", ("cancelled", "paid"))])
    for start in range(0, len(visibilities), 1000):
        visibilities[start : start + 1000]._update_risk()
    params = env["ir.config_parameter"]
    # A high-value amount of 0 used to switch that rule off.
    high_value = params.get_param("order_visibility.high_value_amount")
    was_live = {
        "order_visibility.approve_high_value": high_value in (None, False) or float(high_value or 0) > 0,
        "order_visibility.approve_low_margin": True,
        "order_visibility.hold_overdue": True,
    }
    for key in RULES:
        params.set_param(key, was_live[key])
