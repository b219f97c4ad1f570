# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, models
from odoo.addons.order_visibility.tools.constants import CLOSED_STAGES, OPEN_CONFIRMED_STAGES
from odoo.orm.domains import DomainCondition
from odoo.tools import SQL

from .order_visibility_control_tower import DENORMALISED_FILTERS
from .order_visibility_control_tower_service_level import HOUR_FIELDS


def floor_hour(moment):
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment):
    floor = floor_hour(moment)
    return floor if floor == moment else floor + timedelta(hours=1)


class OrderVisibilityControlTower(models.AbstractModel):
    _inherit = "order.visibility.control.tower"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _tally_where(self, model_name, filters):
        """The condition on ``order_visibility_tally`` that gives the user's
        counts of ``model_name`` (order.visibility or its transitions) with
        ``filters``, or None when the tally cannot stand in for counting the
        records.

        The tally is read in SQL: it stands in for the records only when the
        user's read rules on the model come down to the company rule (or to
        none, the superuser), whose condition is then applied to the tally's
        own company column. Any other rule (an administrator's rule on the
        sales team, say) and the records are counted with it, as before. The
        model's access rights are checked first, as ``_search`` does."""
        self.env[model_name].check_access("read")
        rule = self.env["ir.rule"]._compute_domain(model_name, "read")
        conditions = []
        if not rule.is_true():
            if not (isinstance(rule, DomainCondition) and rule.field_expr == "company_id" and rule.operator == "in"):
                return None
            conditions.append(SQL("company_id IN %s", tuple(rule.value) or (None,)))
        if filters["company_ids"]:
            conditions.append(SQL("company_id IN %s", tuple(filters["company_ids"])))
        for key, (name, _type) in DENORMALISED_FILTERS.items():
            if filters[key]:
                conditions.append(SQL("%s = %s", SQL.identifier(name), filters[key]))
        return SQL(" AND ").join([SQL("TRUE"), *conditions])

    @api.model
    def _order_figures_tallied(self, tally_where, base, now, threshold, *, bounds, stages):
        """``_order_figures`` read from the tally (``tally_where``: the
        user's condition on it).

        The tally counts per hour; what falls inside an hour of a bound is
        counted from the records: the orders that entered their stage
        between an aging bound and the next whole hour, and the open orders
        promised between the current hour and now. Those are index range
        counts over an hour of data, however large the database."""
        self.env["order.visibility.tally"].flush_model()
        hour = floor_hour(now)

        def count(*conditions):
            return self._count_sql("order.visibility", base, *conditions)

        def column(table, name):
            return SQL.identifier(table, name)

        # Per stage: the tally's hours at or after the bound's next whole
        # hour, and the records between the bound and that hour.
        since = []
        for bound in bounds:
            ceiling = ceil_hour(bound)
            tallied = SQL("COALESCE(tally.%s, 0)", SQL.identifier(f"since_{len(since)}"))
            if ceiling == bound:
                since.append((ceiling, tallied))
                continue
            live = count(
                lambda table: SQL(
                    "%s = ov_stage.code AND ov_stage.code NOT IN %s", column(table, "stage"), CLOSED_STAGES
                ),
                lambda table, bound=bound, ceiling=ceiling: SQL(
                    "%s >= %s AND %s < %s", column(table, "stage_since"), bound, column(table, "stage_since"), ceiling
                ),
            )
            since.append((ceiling, SQL("%s + %s", tallied, live)))
        late_live = (
            count(
                lambda table: SQL("%s IN %s", column(table, "stage"), OPEN_CONFIRMED_STAGES),
                lambda table: SQL(
                    "%s >= %s AND %s < %s", column(table, "promised_date"), hour, column(table, "promised_date"), now
                ),
            )
            if hour != now
            else SQL("0")
        )
        self.env.cr.execute(
            SQL(
                """
                WITH tally AS (
                    SELECT stage,
                           SUM(count) FILTER (WHERE kind = 'stage') AS total,
                           %(since_sums)s,
                           SUM(count) FILTER (WHERE kind = 'promise' AND bucket < %(hour)s) AS late,
                           SUM(count) FILTER (WHERE kind = 'risk' AND score >= %(threshold)s) AS at_risk
                      FROM order_visibility_tally
                     WHERE kind IN ('stage', 'promise', 'risk') AND %(where)s
                     GROUP BY stage
                )
                SELECT ov_stage.code, COALESCE(tally.total, 0), %(since)s,
                       COALESCE(tally.late, 0), COALESCE(tally.at_risk, 0), %(late_live)s
                  FROM unnest(%(stages)s::varchar[]) AS ov_stage(code)
                  LEFT JOIN tally ON tally.stage = ov_stage.code
                """,
                since_sums=SQL(", ").join(
                    SQL(
                        "SUM(count) FILTER (WHERE kind = 'stage' AND bucket >= %s) AS %s",
                        ceiling,
                        SQL.identifier(f"since_{index}"),
                    )
                    for index, (ceiling, _sum) in enumerate(since)
                ),
                hour=hour,
                threshold=threshold,
                where=tally_where,
                since=SQL(", ").join(expression for _ceiling, expression in since),
                late_live=late_live,
                stages=stages,
            )
        )
        rows = self.env.cr.fetchall()
        late = sum(row[-3] for row in rows) + (rows[0][-1] if rows else 0)
        at_risk = sum(row[-2] for row in rows)
        return [row[:-3] for row in rows], late, at_risk

    @api.model
    def _count_per_day_tallied(self, tally_where, kinds, ranges, first_counted=None):
        """[[count of each of ``kinds``] for each of ``ranges``] from the
        tally's hours, in one query (``ranges``: consecutive [(start, stop)]
        on whole hours). ``first_counted``: SQL counts (one per kind) the
        first range adds, those of its records before its first whole hour.

        One pass over the tally's rows of the period, each put in its range
        by ``width_bucket`` over the ranges' starts."""
        self.env["order.visibility.tally"].flush_model()
        starts = [start for start, _stop in ranges]
        query = SQL(
            "SELECT width_bucket(bucket, %s::timestamp[]), %s FROM order_visibility_tally"
            " WHERE kind IN %s AND bucket >= %s AND bucket < %s AND %s GROUP BY 1",
            starts,
            SQL(", ").join(SQL("SUM(count) FILTER (WHERE kind = %s)", kind) for kind in kinds),
            tuple(kinds),
            starts[0],
            ranges[-1][1],
            tally_where,
        )
        if first_counted:  # in the same query, as a row of the first range
            query = SQL("%s UNION ALL SELECT 1, %s", query, SQL(", ").join(first_counted))
        self.env.cr.execute(query)
        counts = [[0] * len(kinds) for _range in ranges]
        for index, *row in self.env.cr.fetchall():
            counts[index - 1] = [total + (count or 0) for total, count in zip(counts[index - 1], row, strict=True)]
        return counts

    @api.model
    def _service_level_sums_tallied(self, tally_where, base, periods):
        """{period: sums} as ``_service_level_sums`` gives them, for
        ``periods`` {key: (start, stop)} (consecutive), in one query: the
        tally's whole hours inside a period, and from the records the
        hours a period starts or stops in."""
        Visibility = self.env["order.visibility"]
        self.env["order.visibility.tally"].flush_model()
        Visibility.flush_model(["is_measured", "fully_shipped_date", "is_on_time", "is_in_full", "paid_date"])
        edges = sorted({moment for bounds in periods.values() for moment in bounds})
        # The hours an edge falls inside of (not on): counted from the records.
        split = sorted({floor_hour(edge) for edge in edges if floor_hour(edge) != edge})
        first, last = ceil_hour(edges[0]), floor_hour(edges[-1])

        def period_of(column):
            return SQL(
                "CASE %s END",
                SQL(" ").join(
                    SQL("WHEN %s >= %s AND %s < %s THEN %s", column, start, column, stop, key)
                    for key, (start, stop) in periods.items()
                ),
            )

        tallied = SQL(
            "SELECT %s, on_time, in_full, %s FROM order_visibility_tally"
            " WHERE kind = 'measured' AND bucket >= %s AND bucket < %s AND NOT bucket = ANY(%s::timestamp[]) AND %s",
            period_of(SQL("bucket")),
            SQL(", ").join(SQL.identifier(name) for name in ("count", "paid", "fill_rate", *HOUR_FIELDS)),
            first,
            last,
            split,
            tally_where,
        )
        windows = [(edges[0], first), *((hour, hour + timedelta(hours=1)) for hour in split), (last, edges[-1])]
        windows = [(start, stop) for start, stop in windows if start < stop]
        parts = [tallied]
        if windows:
            query = Visibility._search(
                [
                    *base,
                    ("is_measured", "=", True),
                    ("fully_shipped_date", ">=", edges[0]),
                    ("fully_shipped_date", "<", edges[-1]),
                ]
            )
            if not query.is_empty():
                column = SQL.identifier(query.table, "fully_shipped_date")
                # Parenthesised: add_where ANDs it to the access rules' conditions as it is.
                query.add_where(
                    SQL(
                        "(%s)",
                        SQL(" OR ").join(
                            SQL("%s >= %s AND %s < %s", column, start, column, stop) for start, stop in windows
                        ),
                    )
                )

                def value(name):
                    return SQL.identifier(query.table, name)

                parts.append(
                    query.select(
                        period_of(column),
                        SQL("COALESCE(%s, FALSE)", value("is_on_time")),
                        SQL("COALESCE(%s, FALSE)", value("is_in_full")),
                        SQL("1"),
                        SQL("CASE WHEN %s IS NULL THEN 0 ELSE 1 END", value("paid_date")),
                        value("fill_rate"),
                        *(value(name) for name in HOUR_FIELDS),
                    )
                )
        self.env.cr.execute(
            SQL(
                "SELECT period, on_time, in_full, SUM(count), SUM(paid), SUM(fill_rate), %s"
                " FROM (%s) AS measured(period, on_time, in_full, count, paid, fill_rate, %s)"
                " WHERE period IS NOT NULL GROUP BY 1, 2, 3",
                SQL(", ").join(SQL("SUM(%s)", SQL.identifier(name)) for name in HOUR_FIELDS),
                SQL(" UNION ALL ").join(parts),
                SQL(", ").join(SQL.identifier(name) for name in HOUR_FIELDS),
            )
        )
        groups = {key: [] for key in periods}
        for period, *group in self.env.cr.fetchall():
            groups[period].append(group)
        return {key: self._service_level_add_up(groups[key]) for key in periods}
