# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.addons.order_visibility.tools.constants import CLOSED_STAGES, OPEN_CONFIRMED_STAGES
from odoo.tools import SQL

from .order_visibility_control_tower_service_level import HOUR_FIELDS
from .order_visibility_control_tower_trends import CONFIRMED_TRANSITIONS, SHIPPED_TRANSITIONS, transition_condition

# The stages whose orders count as at risk when their score reaches the
# threshold (the control tower's at-risk tile).
RISK_STAGES = (*OPEN_CONFIRMED_STAGES, "pending_approval")
# The bucket the compaction gives to times older than any bound the control
# tower asks about (stage aging: 7 days; late orders: the current hour).
PAST = datetime(1970, 1, 1)
# How far back each kind keeps its hours: the aging buckets go back 7 days,
# the lateness of a promise only needs its hour while it is the current one,
# the throughput shows 30 days at most, the service levels 30 days beside
# the 30 before.
STAGE_HOURS_KEPT = timedelta(days=8)
PROMISE_HOURS_KEPT = timedelta(days=1)
THROUGHPUT_KEPT = timedelta(days=32)
MEASURED_KEPT = timedelta(days=62)

# The columns that make a group, and the sums each row carries.
TALLY_KEY = "kind, company_id, warehouse_id, team_id, customer_priority, stage, bucket, score, on_time, in_full"
TALLY_SUMS = ("count", "paid", "fill_rate", *HOUR_FIELDS)
TALLY_COLUMNS = f"{TALLY_KEY}, {', '.join(TALLY_SUMS)}"
INSERT_INTO_TALLY = f"INSERT INTO order_visibility_tally ({TALLY_COLUMNS})"


def _sql_list(values):
    return "({})".format(", ".join(f"'{value}'" for value in values))


# The tally rows of a set of orders, from ``changes``: rows of
# order_visibility's columns with a ``delta`` (+1 for a row that is, -1 for a
# row that was). Each order counts once per kind: ``stage`` (its stage and
# the hour it entered it; closed stages do not age, their hour is not
# kept), ``promise`` (open confirmed orders: the hour of their promise),
# ``risk`` (orders the at-risk tile looks at: their score) and ``measured``
# (orders measured by the service levels: the hour their last goods left,
# on time, in full, with the sums of their measures). A group whose count
# does not change is kept when its sums do (an order paid: the same group,
# another confirmed-to-paid time).
ORDER_TALLY = f"""
    SELECT kind.kind, row.company_id, row.warehouse_id, row.team_id, row.customer_priority, row.stage,
           kind.bucket, kind.score, kind.on_time, kind.in_full,
           SUM(row.delta), SUM(row.delta * kind.paid),
           SUM(row.delta * kind.fill_rate), {", ".join(f"SUM(row.delta * kind.{name})" for name in HOUR_FIELDS)}
      FROM ({{changes}}) AS row
     CROSS JOIN LATERAL (
           SELECT 'stage', CASE WHEN row.stage NOT IN {_sql_list(CLOSED_STAGES)}
                                THEN date_trunc('hour', row.stage_since) END,
                  NULL::integer, NULL::boolean, NULL::boolean, 0, NULL::float8, NULL::float8, NULL::float8, NULL::float8
           UNION ALL
           SELECT 'promise', date_trunc('hour', row.promised_date), NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL
            WHERE row.stage IN {_sql_list(OPEN_CONFIRMED_STAGES)} AND row.promised_date IS NOT NULL
           UNION ALL
           SELECT 'risk', NULL, row.risk_score, NULL, NULL, 0, NULL, NULL, NULL, NULL
            WHERE row.stage IN {_sql_list(RISK_STAGES)} AND row.risk_score IS NOT NULL
           UNION ALL
           SELECT 'measured', date_trunc('hour', row.fully_shipped_date), NULL,
                  COALESCE(row.is_on_time, FALSE), COALESCE(row.is_in_full, FALSE),
                  CASE WHEN row.paid_date IS NULL THEN 0 ELSE 1 END,
                  row.fill_rate, {", ".join(f"row.{name}" for name in HOUR_FIELDS)}
            WHERE row.is_measured AND row.fully_shipped_date IS NOT NULL
     ) AS kind(kind, bucket, score, on_time, in_full, paid, fill_rate, {", ".join(HOUR_FIELDS)})
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
    HAVING SUM(row.delta) <> 0 OR SUM(row.delta * kind.paid) <> 0
        OR {" OR ".join(f"COALESCE(SUM(row.delta * kind.{name}), 0) <> 0" for name in ("fill_rate", *HOUR_FIELDS))}
"""
ORDER_COLUMNS = (
    "company_id, warehouse_id, team_id, customer_priority, stage, stage_since, promised_date, risk_score,"
    f" is_measured, fully_shipped_date, is_on_time, is_in_full, paid_date, fill_rate, {', '.join(HOUR_FIELDS)}"
)

# The tally rows of a set of stage transitions: the throughput's two series
# (a transition is in at most one), per hour of the change.
TRANSITION_TALLY = f"""
    SELECT CASE WHEN {transition_condition(CONFIRMED_TRANSITIONS)} THEN 'confirmed' ELSE 'shipped' END,
           row.company_id, row.warehouse_id, row.team_id, row.customer_priority, NULL::varchar,
           date_trunc('hour', row.changed_at), NULL::integer, NULL::boolean, NULL::boolean,
           SUM(row.delta), 0, NULL::float8, NULL::float8, NULL::float8, NULL::float8
      FROM ({{changes}}) AS row
     WHERE {transition_condition(CONFIRMED_TRANSITIONS)} OR {transition_condition(SHIPPED_TRANSITIONS)}
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
    HAVING SUM(row.delta) <> 0
"""
TRANSITION_COLUMNS = "company_id, warehouse_id, team_id, customer_priority, from_stage, to_stage, changed_at"

# {table: (trigger function, the tally of its rows, the columns it reads)}
TALLIED = {
    "order_visibility": ("order_visibility_tally_orders", ORDER_TALLY, ORDER_COLUMNS),
    "order_visibility_transition": ("order_visibility_tally_transitions", TRANSITION_TALLY, TRANSITION_COLUMNS),
}
EVENTS = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def _changes(columns, new=False, old=False):
    parts = []
    if new:
        parts.append(f"SELECT 1 AS delta, {columns} FROM new_rows")
    if old:
        parts.append(f"SELECT -1 AS delta, {columns} FROM old_rows")
    return " UNION ALL ".join(parts)


def tally_insert(tally, changes):
    """The INSERT into the tally of ``tally`` (ORDER_TALLY, TRANSITION_TALLY)
    over ``changes`` (SQL: rows with a ``delta``)."""
    before, after = tally.split("{changes}")
    return SQL(f"{INSERT_INTO_TALLY} {before}%s{after}", changes)


def _trigger_function(name, tally, columns):
    return f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {INSERT_INTO_TALLY} {tally.format(changes=_changes(columns, new=True))};
            ELSIF TG_OP = 'DELETE' THEN
                {INSERT_INTO_TALLY} {tally.format(changes=_changes(columns, old=True))};
            ELSE
                {INSERT_INTO_TALLY} {tally.format(changes=_changes(columns, new=True, old=True))};
            END IF;
            RETURN NULL;
        END
        $body$
    """


def drop_triggers(cr):
    """Drop the triggers and functions that keep the tally (uninstallation)."""
    for table, (function, _tally, _columns) in TALLIED.items():
        for event in EVENTS:
            cr.execute(
                SQL(
                    "DROP TRIGGER IF EXISTS %s ON %s",
                    SQL.identifier(f"{function}_{event.lower()}"),
                    SQL.identifier(table),
                )
            )
        cr.execute(SQL("DROP FUNCTION IF EXISTS %s()", SQL.identifier(function)))


class OrderVisibilityTally(models.Model):
    """Running counts of the orders and transitions the control tower counts.

    Right after a bulk load, before autovacuum has marked the pages of
    ``order_visibility`` all-visible, PostgreSQL checks every index entry an
    index-only scan returns against the table: counting 100,000 orders per
    stage then costs as much as reading them. The tally keeps the same
    counts in a few rows: per company, warehouse, sales team and customer
    priority, the orders per stage and hour they entered it, per hour of
    their promise (open confirmed orders) and per risk score, and the
    throughput's transitions per hour.

    PostgreSQL keeps it, not the ORM: statement triggers on
    ``order_visibility`` and ``order_visibility_transition`` add one row per
    group of what a statement changed (+1 for the new version of a row, -1
    for the old one; nothing when nothing counted changed), so every way a
    row changes is followed, the ORM's flushes, SQL updates and cascades
    alike, in the same transaction. Rows are only ever inserted, so writers
    never wait on each other; ``_cron_compact`` sums them back to one row
    per group. The control tower reads it in place of counting when the
    user's record rules are the company rules only (``_tally_companies``),
    and counts the records otherwise.
    """

    _name = "order.visibility.tally"
    _description = "Order Visibility Control Tower Counts"
    _log_access = False

    kind = fields.Selection(
        [
            ("stage", "Orders per stage"),
            ("promise", "Open orders per promise"),
            ("risk", "Orders per risk score"),
            ("confirmed", "Orders confirmed"),
            ("shipped", "Orders shipped"),
            ("measured", "Orders measured"),
        ],
        required=True,
        readonly=True,
    )
    # The order's own columns, as plain values: the tally follows what the
    # rows hold (a foreign key would change it behind the triggers' back).
    company_id = fields.Integer(readonly=True)
    warehouse_id = fields.Integer(readonly=True)
    team_id = fields.Integer(readonly=True)
    customer_priority = fields.Char(readonly=True)
    stage = fields.Char(readonly=True)
    bucket = fields.Datetime(readonly=True, help="The hour of the stage entry, promise or transition.")
    score = fields.Integer(readonly=True)
    on_time = fields.Boolean(readonly=True)
    in_full = fields.Boolean(readonly=True)
    count = fields.Integer(readonly=True)
    # The sums of the service levels' measures of the group's orders.
    paid = fields.Integer(readonly=True)
    fill_rate = fields.Float(readonly=True)
    quotation_to_confirmed_hours = fields.Float(readonly=True)
    confirmed_to_shipped_hours = fields.Float(readonly=True)
    confirmed_to_paid_hours = fields.Float(readonly=True)

    def _auto_init(self):
        """(Re)create the triggers and rebuild the tally from the tables, at
        installation and at every upgrade: once every model of the module
        has its columns (the transitions' filter columns are the dashboard's
        own), whatever order the models are set up in."""
        result = super()._auto_init()
        self.pool.post_init(self._set_up_triggers)
        return result

    def _set_up_triggers(self):
        """The triggers created again and the tally counted again, the two
        tables locked against writers meanwhile, so that nothing is counted
        twice or missed."""
        cr = self.env.cr
        cr.execute("LOCK TABLE order_visibility, order_visibility_transition IN SHARE MODE")
        drop_triggers(cr)
        for table, (function, tally, columns) in TALLIED.items():
            cr.execute(_trigger_function(function, tally, columns))
            for event, referencing in EVENTS.items():
                cr.execute(
                    SQL(
                        "CREATE TRIGGER %s AFTER %s ON %s %s FOR EACH STATEMENT EXECUTE FUNCTION %s()",
                        SQL.identifier(f"{function}_{event.lower()}"),
                        SQL(event),
                        SQL.identifier(table),
                        SQL(referencing),
                        SQL.identifier(function),
                    )
                )
        self._rebuild()

    @api.model
    def _rebuild(self):
        """The tally counted again from the tables, one row per group."""
        cr = self.env.cr
        cr.execute("DELETE FROM order_visibility_tally")
        for table, (_function, tally, columns) in TALLIED.items():
            cr.execute(tally_insert(tally, SQL(f"SELECT 1 AS delta, {columns} FROM %s", SQL.identifier(table))))

    @api.model
    def _cron_compact(self):
        """Sum the rows of each group into one, the hours the control tower
        no longer tells apart into ``PAST``, and drop the transitions and
        service-level measures older than any period it shows.

        The rows summed are those this statement deletes: a row a concurrent
        transaction inserts meanwhile stays as it is, and a concurrent
        compaction skips the rows this one deleted, so each row is summed
        exactly once."""
        now = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
        self.env.cr.execute(
            SQL(
                f"""
                WITH gone AS (DELETE FROM order_visibility_tally RETURNING {TALLY_COLUMNS})
                {INSERT_INTO_TALLY}
                SELECT kind, company_id, warehouse_id, team_id, customer_priority, stage,
                       CASE WHEN kind = 'stage' AND bucket < %(stage_horizon)s THEN %(past)s
                            WHEN kind = 'promise' AND bucket < %(promise_horizon)s THEN %(past)s
                            ELSE bucket END,
                       score, on_time, in_full, {", ".join(f"SUM({name})" for name in TALLY_SUMS)}
                  FROM gone
                 WHERE (kind NOT IN ('confirmed', 'shipped') OR bucket >= %(throughput_horizon)s)
                   AND (kind != 'measured' OR bucket >= %(measured_horizon)s)
                 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
                HAVING SUM(count) <> 0
                """,
                stage_horizon=now - STAGE_HOURS_KEPT,
                promise_horizon=now - PROMISE_HOURS_KEPT,
                throughput_horizon=now - THROUGHPUT_KEPT,
                measured_horizon=now - MEASURED_KEPT,
                past=PAST,
            )
        )
