# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The control tower's service-level strip: OTIF, fill rate and the three
average cycle times of the orders fully shipped in the period, beside the
previous period of the same length.

An order is in a period by ``fully_shipped_date`` (when its last goods
left). Rates and averages are sums over the orders divided by their count
(weighted), never means of rates."""

from datetime import timedelta

from odoo import api, fields, models

# (key, sum aggregate or None, denominator, factor, digits, higher is better)
# Each measure is computed from the sums of one _read_group per period:
# ``orders`` (measured orders), ``otif``, ``fill_rate``, the hour sums, and
# ``paid`` (the measured orders that are paid: the denominator of the
# confirmed-to-paid average).
MEASURES = (
    ("otif_rate", "otif", "orders", 100.0, 1, True),
    ("fill_rate", "fill_rate", "orders", 1.0, 4, True),
    ("quotation_to_confirmed_hours", "quotation_to_confirmed_hours", "orders", 1.0, 1, False),
    ("confirmed_to_shipped_hours", "confirmed_to_shipped_hours", "orders", 1.0, 1, False),
    ("confirmed_to_paid_hours", "confirmed_to_paid_hours", "paid", 1.0, 1, False),
)
HOUR_FIELDS = ("quotation_to_confirmed_hours", "confirmed_to_shipped_hours", "confirmed_to_paid_hours")


def change_direction(current, previous):
    """ "up", "down" or "same" from the previous period to the current one;
    None when either has no measured order."""
    if current is None or previous is None:
        return None
    if current == previous:
        return "same"
    return "up" if current > previous else "down"


class OrderVisibilityControlTower(models.AbstractModel):
    _inherit = "order.visibility.control.tower"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _service_level_sums(self, domain):
        """{orders, on_time, in_full, otif, paid, fill_rate, hour sums...} of
        the measured orders of ``domain``, in one query: grouped by on time
        and in full (at most four groups), the sums added up here."""
        groups = self.env["order.visibility"]._read_group(
            domain,
            ["is_on_time", "is_in_full"],
            ["__count", "paid_date:count", "fill_rate:sum", *(f"{name}:sum" for name in HOUR_FIELDS)],
        )
        return self._service_level_add_up(groups)

    @api.model
    def _service_level_add_up(self, groups):
        """The sums of ``groups`` [(on time, in full, count, paid, fill rate
        sum, hour sums...)]."""
        sums = dict.fromkeys(("orders", "on_time", "in_full", "otif", "paid", "fill_rate", *HOUR_FIELDS), 0)
        for on_time, in_full, count, paid, fill_rate, *hours in groups:
            sums["orders"] += count
            sums["on_time"] += count if on_time else 0
            sums["in_full"] += count if in_full else 0
            sums["otif"] += count if on_time and in_full else 0
            sums["paid"] += paid
            sums["fill_rate"] += fill_rate or 0.0
            for name, value in zip(HOUR_FIELDS, hours, strict=True):
                sums[name] += value or 0.0
        return sums

    @api.model
    def _service_level_rates(self, sums):
        rates = {}
        for key, numerator, denominator, factor, digits, _better_up in MEASURES:
            rates[key] = round(factor * sums[numerator] / sums[denominator], digits) if sums[denominator] else None
        for key in ("on_time", "in_full"):
            rates[f"{key}_rate"] = round(100.0 * sums[key] / sums["orders"], 1) if sums["orders"] else None
        return rates

    @api.model
    def _service_levels(self, base, filters, now):
        """The service-level strip: the period's measures (orders fully
        shipped in the last ``period`` days) and the previous period's, with
        the direction of change and the domain of each drill-down."""
        days = filters["period"]
        start, previous_start = now - timedelta(days=days), now - timedelta(days=2 * days)
        bounds = {"current": (start, now), "previous": (previous_start, start)}
        domains, figures = {}, {}
        for key, (since, until) in bounds.items():
            domains[key] = [
                *base,
                ("is_measured", "=", True),
                ("fully_shipped_date", ">=", fields.Datetime.to_string(since)),
                ("fully_shipped_date", "<", fields.Datetime.to_string(until)),
            ]
        # From the running counts when the user's record rules allow it.
        tally_where = self._tally_where("order.visibility", filters)
        if tally_where is not None:
            all_sums = self._service_level_sums_tallied(tally_where, base, bounds)
        else:
            all_sums = {key: self._service_level_sums(domain) for key, domain in domains.items()}
        for key, sums in all_sums.items():
            figures[key] = {"orders": sums["orders"], "paid": sums["paid"], **self._service_level_rates(sums)}
        current, previous = figures["current"], figures["previous"]
        period_domain = domains["current"]
        drill_downs = {
            # OTIF and on time open the period's late orders, fill rate the short ones.
            "otif_rate": [*period_domain, ("is_on_time", "=", False)],
            "fill_rate": [*period_domain, ("is_in_full", "=", False)],
            "quotation_to_confirmed_hours": period_domain,
            "confirmed_to_shipped_hours": period_domain,
            "confirmed_to_paid_hours": [*period_domain, ("paid_date", "!=", False)],
        }
        return {
            "period": days,
            "current": {"start": fields.Datetime.to_string(start), "end": fields.Datetime.to_string(now), **current},
            "previous": {
                "start": fields.Datetime.to_string(previous_start),
                "end": fields.Datetime.to_string(start),
                **previous,
            },
            "measures": [
                {
                    "key": key,
                    "value": current[key],
                    "previous": previous[key],
                    "direction": change_direction(current[key], previous[key]),
                    "higher_is_better": better_up,
                    "domain": drill_downs[key],
                }
                for key, _numerator, _denominator, _factor, _digits, better_up in MEASURES
            ],
        }
