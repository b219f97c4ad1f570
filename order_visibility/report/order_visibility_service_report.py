# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Service-level report: the measured orders per company, warehouse, sales
team, customer and month of the first promise (an SQL query read as a
table, ``_table_query``, as Odoo's sale.report does).

The view has one row per measured order (its counts are 0 or 1, its sums
the order's own values), so that any group the pivot or graph asks for
covers the orders themselves: the rates and average cycle times are computed
from the group's sums (``_read_group_select``), weighted by its orders and
never the mean of its rows' rates, and the 90th percentiles of the cycle
times are ``percentile_cont(0.9)`` over the group's orders, which no
pre-aggregated row could give."""

from odoo import fields, models
from odoo.tools import SQL

# Rate or average field: (numerator column, denominator column, factor).
WEIGHTED = {
    "on_time_rate": ("on_time_count", "order_count", 100.0),
    "in_full_rate": ("in_full_count", "order_count", 100.0),
    "otif_rate": ("otif_count", "order_count", 100.0),
    "fill_rate": ("fill_rate_sum", "order_count", 1.0),
    "avg_quotation_to_confirmed_hours": ("quotation_to_confirmed_hours_sum", "order_count", 1.0),
    "avg_confirmed_to_shipped_hours": ("confirmed_to_shipped_hours_sum", "order_count", 1.0),
    "avg_confirmed_to_paid_hours": ("confirmed_to_paid_hours_sum", "paid_count", 1.0),
}
# 90th percentile fields: their column holds the order's hours (empty for
# confirmed to paid when the order is not paid, so left out).
PERCENTILE = {
    "p90_quotation_to_confirmed_hours": 0.9,
    "p90_confirmed_to_shipped_hours": 0.9,
    "p90_confirmed_to_paid_hours": 0.9,
}


class OrderVisibilityServiceReport(models.Model):
    _name = "order.visibility.service.report"
    _description = "Service-Level Report"
    _auto = False
    _order = "promise_month desc, id"
    _depends = {
        "order.visibility": [
            "company_id",
            "warehouse_id",
            "team_id",
            "partner_id",
            "promised_date",
            "first_promised_date",
            "is_measured",
            "is_on_time",
            "is_in_full",
            "is_otif",
            "fill_rate",
            "quotation_to_confirmed_hours",
            "confirmed_to_shipped_hours",
            "paid_date",
            "confirmed_to_paid_hours",
        ],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    promise_month = fields.Date(
        string="First Promise Month", readonly=True, help="The month of the orders' first promised date."
    )
    order_count = fields.Integer(string="Measured Orders", readonly=True)
    on_time_count = fields.Integer(string="Orders On Time", readonly=True)
    in_full_count = fields.Integer(string="Orders In Full", readonly=True)
    otif_count = fields.Integer(string="Orders OTIF", readonly=True)
    paid_count = fields.Integer(string="Orders Paid", readonly=True)
    fill_rate_sum = fields.Float(digits=(16, 4), readonly=True)
    quotation_to_confirmed_hours_sum = fields.Float(string="Quotation to Confirmed Sum (hours)", readonly=True)
    confirmed_to_shipped_hours_sum = fields.Float(string="Confirmed to Shipped Sum (hours)", readonly=True)
    confirmed_to_paid_hours_sum = fields.Float(string="Confirmed to Paid Sum (hours)", readonly=True)
    on_time_rate = fields.Float(
        string="On Time (%)", readonly=True, aggregator="avg", help="Orders on time / measured orders, in percent."
    )
    in_full_rate = fields.Float(
        string="In Full (%)", readonly=True, aggregator="avg", help="Orders in full / measured orders, in percent."
    )
    otif_rate = fields.Float(
        string="OTIF (%)",
        readonly=True,
        aggregator="avg",
        help="Orders on time and in full / measured orders, in percent.",
    )
    fill_rate = fields.Float(
        digits=(16, 4),
        readonly=True,
        aggregator="avg",
        help="The orders' fill rates (0 to 1) summed, divided by the measured orders.",
    )
    avg_quotation_to_confirmed_hours = fields.Float(
        string="Avg. Quotation to Confirmed (hours)", readonly=True, aggregator="avg"
    )
    avg_confirmed_to_shipped_hours = fields.Float(
        string="Avg. Confirmed to Shipped (hours)", readonly=True, aggregator="avg"
    )
    avg_confirmed_to_paid_hours = fields.Float(
        string="Avg. Confirmed to Paid (hours)",
        readonly=True,
        aggregator="avg",
        help="Over the paid orders only.",
    )
    p90_quotation_to_confirmed_hours = fields.Float(
        string="Quotation → Confirmed p90 (h)",
        readonly=True,
        aggregator="avg",
        help="90th percentile of the measured orders' hours from quotation to confirmation.",
    )
    p90_confirmed_to_shipped_hours = fields.Float(
        string="Confirmed → Shipped p90 (h)",
        readonly=True,
        aggregator="avg",
        help="90th percentile of the measured orders' hours from confirmation to the last goods shipped.",
    )
    p90_confirmed_to_paid_hours = fields.Float(
        string="Confirmed → Paid p90 (h)",
        readonly=True,
        aggregator="avg",
        help="90th percentile of the hours from confirmation to payment, over the paid orders only.",
    )

    @property
    def _table_query(self):
        # One row per measured order: no GROUP BY, so that a percentile of
        # any group is computed over its orders.
        return SQL(
            """SELECT ov.id AS id,
                   ov.company_id,
                   ov.warehouse_id,
                   ov.team_id,
                   ov.partner_id,
                   DATE_TRUNC('month', COALESCE(ov.first_promised_date, ov.promised_date))::date AS promise_month,
                   1 AS order_count,
                   CASE WHEN ov.is_on_time THEN 1 ELSE 0 END AS on_time_count,
                   CASE WHEN ov.is_in_full THEN 1 ELSE 0 END AS in_full_count,
                   CASE WHEN ov.is_otif THEN 1 ELSE 0 END AS otif_count,
                   CASE WHEN ov.paid_date IS NOT NULL THEN 1 ELSE 0 END AS paid_count,
                   COALESCE(ov.fill_rate, 0) AS fill_rate_sum,
                   COALESCE(ov.quotation_to_confirmed_hours, 0) AS quotation_to_confirmed_hours_sum,
                   COALESCE(ov.confirmed_to_shipped_hours, 0) AS confirmed_to_shipped_hours_sum,
                   CASE WHEN ov.paid_date IS NOT NULL
                        THEN COALESCE(ov.confirmed_to_paid_hours, 0) END AS confirmed_to_paid_hours_sum,
                   CASE WHEN ov.is_on_time THEN 100.0 ELSE 0.0 END AS on_time_rate,
                   CASE WHEN ov.is_in_full THEN 100.0 ELSE 0.0 END AS in_full_rate,
                   CASE WHEN ov.is_otif THEN 100.0 ELSE 0.0 END AS otif_rate,
                   COALESCE(ov.fill_rate, 0) AS fill_rate,
                   COALESCE(ov.quotation_to_confirmed_hours, 0) AS avg_quotation_to_confirmed_hours,
                   COALESCE(ov.confirmed_to_shipped_hours, 0) AS avg_confirmed_to_shipped_hours,
                   CASE WHEN ov.paid_date IS NOT NULL
                        THEN ov.confirmed_to_paid_hours END AS avg_confirmed_to_paid_hours,
                   COALESCE(ov.quotation_to_confirmed_hours, 0) AS p90_quotation_to_confirmed_hours,
                   COALESCE(ov.confirmed_to_shipped_hours, 0) AS p90_confirmed_to_shipped_hours,
                   CASE WHEN ov.paid_date IS NOT NULL
                        THEN ov.confirmed_to_paid_hours END AS p90_confirmed_to_paid_hours
              FROM order_visibility ov
             WHERE ov.is_measured
            """
        )

    def _read_group_select(self, aggregate_spec, query):
        """A group's rate or average: the sum of its rows' numerators over
        the sum of their denominators (weighted), never the mean of the rows'
        rates. A group's p90: the 90th percentile (interpolated) of its
        orders' values, empty values left out."""
        fname, __, func = aggregate_spec.partition(":")
        if fname in PERCENTILE and func == "avg":
            return SQL(
                "percentile_cont(%(fraction)s) WITHIN GROUP (ORDER BY %(column)s)",
                fraction=PERCENTILE[fname],
                column=self._field_to_sql(self._table, fname, query),
            )
        if fname not in WEIGHTED or func != "avg":
            return super()._read_group_select(aggregate_spec, query)
        numerator, denominator, factor = WEIGHTED[fname]
        return SQL(
            "%(factor)s * SUM(%(numerator)s) / NULLIF(SUM(%(denominator)s), 0)",
            factor=factor,
            numerator=self._field_to_sql(self._table, numerator, query),
            denominator=self._field_to_sql(self._table, denominator, query),
        )
