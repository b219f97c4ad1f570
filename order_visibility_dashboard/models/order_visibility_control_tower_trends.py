# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, time, timedelta
from itertools import pairwise

import pytz

from odoo import api, fields, models
from odoo.addons.order_visibility.tools.constants import TO_SHIP_STAGES
from odoo.tools import SQL

from .order_visibility_control_tower_tally import ceil_hour, floor_hour

PRE_CONFIRMATION_STAGES = ("draft", "pending_approval", "cancelled")
# The transitions the throughput counts: confirmed (left the quotation
# stages for a confirmed one) and shipped (left the stages where goods still
# have to leave, other than by being cancelled), as (from stages, excluded
# to stages).
CONFIRMED_TRANSITIONS = (("draft", "pending_approval"), PRE_CONFIRMATION_STAGES)
SHIPPED_TRANSITIONS = (TO_SHIP_STAGES, (*TO_SHIP_STAGES, "cancelled"))


def _sql_list(values):
    return "({})".format(", ".join(f"'{value}'" for value in values))


def transition_condition(series):
    """The condition of a throughput series, ``CONFIRMED_TRANSITIONS`` or
    ``SHIPPED_TRANSITIONS``, as the predicate of its partial index; the
    throughput query repeats it (``transition_condition_sql``), so the
    planner reads the series from that index alone."""
    from_stages, to_stages = series
    return f"from_stage IN {_sql_list(from_stages)} AND to_stage NOT IN {_sql_list(to_stages)}"


def transition_condition_sql(series, table):
    from_stages, to_stages = series
    return SQL(
        "%s IN %s AND %s NOT IN %s",
        SQL.identifier(table, "from_stage"),
        from_stages,
        SQL.identifier(table, "to_stage"),
        to_stages,
    )


class OrderVisibilityControlTower(models.AbstractModel):
    _inherit = "order.visibility.control.tower"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _period_days(self, since, now):
        """The days of the period, in the user's time zone (as ``:day`` groups are)."""
        today = fields.Datetime.context_timestamp(self, now).date()
        first = fields.Datetime.context_timestamp(self, since).date()
        return [first + timedelta(days=n) for n in range((today - first).days + 1)]

    @api.model
    def _day_starts(self, days):
        """The UTC start of each of ``days`` and of the day after the last,
        in the time zone ``_read_group`` groups ``:day`` by (the context's,
        else UTC): a record is in day ``n`` when its datetime is in
        ``[starts[n], starts[n + 1])``."""
        tz_name = self.env.context.get("tz")
        tz = pytz.timezone(tz_name) if tz_name in pytz.all_timezones_set else pytz.utc
        starts = []
        for day in [*days, days[-1] + timedelta(days=1)]:
            midnight = datetime.combine(day, time.min)
            try:
                local = tz.localize(midnight, is_dst=None)
            except pytz.AmbiguousTimeError:
                local = tz.localize(midnight, is_dst=True)  # the first of the two midnights
            except pytz.NonExistentTimeError:
                local = tz.localize(midnight, is_dst=False)  # the day starts when the clocks jump
            starts.append(local.astimezone(pytz.utc).replace(tzinfo=None))
        return starts

    @api.model
    def _count_per_day(self, counts, days):
        """{day: [count of each of ``counts``]} for ``days``, in one query.

        ``counts``: [(query, datetime column)], ORM queries (``_search``:
        record rules and allowed companies applied). Each day's count is an
        index range count on the column (the day's bounds), not a grouping
        expression computed for every record of the period."""
        starts = self._day_starts(days)
        columns = []
        for query, column in counts:
            if query.is_empty():
                columns.append(SQL("0"))
                continue
            field = SQL.identifier(query.table, column)
            query.add_where(SQL("%s >= ov_day.start AND %s < ov_day.stop", field, field))
            columns.append(SQL("(%s)", query.select(SQL("COUNT(*)"))))
        self.env.cr.execute(
            SQL(
                "SELECT ov_day.start, %s FROM unnest(%s::timestamp[], %s::timestamp[]) AS ov_day(start, stop)",
                SQL(", ").join(columns),
                starts[:-1],
                starts[1:],
            )
        )
        day_of = dict(zip(starts, days, strict=False))
        return {day_of[start]: row for start, *row in self.env.cr.fetchall()}

    @api.model
    def _day_counts(self, model, domain, date_field):
        groups = self.env[model]._read_group(domain, [f"{date_field}:day"], ["__count"])
        return {(day.date() if isinstance(day, datetime) else day): count for day, count in groups if day}

    @api.model
    def _throughput(self, filters, since, now):
        """Orders confirmed and shipped per day, from the stage transitions.

        Confirmed: an order left the quotation stages for a confirmed one.
        Shipped: an order left the stages where goods still have to leave
        (other than by being cancelled).
        """
        base = [
            *self._filters_domain(filters, "visibility_id.", denormalised=True),
            ("changed_at", ">=", fields.Datetime.to_string(since)),
        ]
        (confirmed_from, confirmed_not_to), (shipped_from, shipped_not_to) = CONFIRMED_TRANSITIONS, SHIPPED_TRANSITIONS
        confirmed_domain = [*base, ("from_stage", "in", confirmed_from), ("to_stage", "not in", confirmed_not_to)]
        shipped_domain = [*base, ("from_stage", "in", shipped_from), ("to_stage", "not in", shipped_not_to)]
        # One query for both series, counted per day (the days as
        # _read_group groups them) by an index range count on the partial
        # index of each series: no scan of the other transitions, no
        # grouping expression per transition. The conditions are the ones
        # of the domains, over the ORM's query (record rules and allowed
        # companies applied).
        Transition = self.env["order.visibility.transition"]
        Transition.flush_model(["changed_at", "from_stage", "to_stage", "company_id", *self._denormalised_fields()])
        days = self._period_days(since, now)
        starts = self._day_starts(days)
        tally_where = self._tally_where("order.visibility.transition", filters)
        if tally_where is not None and all(start == floor_hour(start) for start in starts):
            # From the tally's hours when the user's days start on whole
            # hours (not in the time zones half an hour off UTC); the
            # period's first hour, from ``since`` to the next whole hour, is
            # counted from the transitions.
            first = max(starts[0], since)
            ceiling = ceil_hour(first)
            ranges = [(ceiling, starts[1]), *pairwise(starts[1:])]
            counted = None
            if ceiling != first:
                first_hour = [*base, ("changed_at", "<", fields.Datetime.to_string(ceiling))]
                counted = [
                    self._count_sql(
                        "order.visibility.transition",
                        first_hour,
                        lambda table, series=series: transition_condition_sql(series, table),
                    )
                    for series in (CONFIRMED_TRANSITIONS, SHIPPED_TRANSITIONS)
                ]
            rows = self._count_per_day_tallied(tally_where, ["confirmed", "shipped"], ranges, counted)
            counts = dict(zip(days, rows, strict=True))
        else:
            queries = []
            for series in (CONFIRMED_TRANSITIONS, SHIPPED_TRANSITIONS):
                query = Transition._search(base)
                if not query.is_empty():
                    query.add_where(transition_condition_sql(series, query.table))
                queries.append(query)
            counts = self._count_per_day([(query, "changed_at") for query in queries], days)
        confirmed = {day: row[0] for day, row in counts.items()}
        shipped = {day: row[1] for day, row in counts.items()}
        return {
            "days": [fields.Date.to_string(day) for day in days],
            "confirmed": [confirmed.get(day, 0) for day in days],
            "shipped": [shipped.get(day, 0) for day in days],
            "confirmed_domain": confirmed_domain,
            "shipped_domain": shipped_domain,
        }

    @api.model
    def _exception_trend(self, exception_base, since, now):
        since_str = fields.Datetime.to_string(since)
        opened_domain = [*exception_base, ("opened_at", ">=", since_str)]
        resolved_domain = [*exception_base, ("state", "=", "resolved"), ("resolved_at", ">=", since_str)]
        days = self._period_days(since, now)
        Exception_ = self.env["order.visibility.exception"]
        Exception_.flush_model(["opened_at", "company_id", *self._denormalised_fields()])
        # Opened: every exception of the period, counted per day on the
        # index of opened_at. Resolved: few, grouped as usual.
        opened = {
            day: row[0]
            for day, row in self._count_per_day([(Exception_._search(opened_domain), "opened_at")], days).items()
        }
        resolved = self._day_counts("order.visibility.exception", resolved_domain, "resolved_at")
        return {
            "days": [fields.Date.to_string(day) for day in days],
            "opened": [opened.get(day, 0) for day in days],
            "resolved": [resolved.get(day, 0) for day in days],
            "opened_domain": opened_domain,
            "resolved_domain": resolved_domain,
        }
