# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, models
from odoo.addons.order_visibility.tools.constants import OPEN_CONFIRMED_STAGES
from odoo.orm.domains import DomainCondition
from odoo.tools import SQL

from .order_visibility_control_tower import DENORMALISED_FILTERS


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
        Visibility = self.env["order.visibility"]
        self.env["order.visibility.tally"].flush_model()
        hour = floor_hour(now)

        def count(*conditions):
            query = Visibility._search(base)
            for condition in conditions:
                query.add_where(condition(query.table))
            return SQL("(%s)", query.select(SQL("COUNT(*)")))

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
                lambda table: SQL("%s = ov_stage.code", column(table, "stage")),
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
