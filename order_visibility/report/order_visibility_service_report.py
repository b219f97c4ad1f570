# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Service-level report: the measured orders summed per company, warehouse,
sales team, customer and month of the first promise (an SQL query read as a
table, ``_table_query``, as Odoo's sale.report does).

The view stores sums and counts; the rates and average cycle times are
computed from those sums for every group a pivot or graph asks for
(``_read_group_select``), so a group's rate is weighted by its orders and is
never the mean of its rows' rates."""

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

    @property
    def _table_query(self):
        return SQL(
            """SELECT MIN(ov.id) AS id,
                   ov.company_id,
                   ov.warehouse_id,
                   ov.team_id,
                   ov.partner_id,
                   DATE_TRUNC('month', COALESCE(ov.first_promised_date, ov.promised_date))::date AS promise_month,
                   COUNT(*) AS order_count,
                   COUNT(*) FILTER (WHERE ov.is_on_time) AS on_time_count,
                   COUNT(*) FILTER (WHERE ov.is_in_full) AS in_full_count,
                   COUNT(*) FILTER (WHERE ov.is_otif) AS otif_count,
                   COUNT(*) FILTER (WHERE ov.paid_date IS NOT NULL) AS paid_count,
                   SUM(COALESCE(ov.fill_rate, 0)) AS fill_rate_sum,
                   SUM(COALESCE(ov.quotation_to_confirmed_hours, 0)) AS quotation_to_confirmed_hours_sum,
                   SUM(COALESCE(ov.confirmed_to_shipped_hours, 0)) AS confirmed_to_shipped_hours_sum,
                   SUM(COALESCE(ov.confirmed_to_paid_hours, 0))
                       FILTER (WHERE ov.paid_date IS NOT NULL) AS confirmed_to_paid_hours_sum,
                   100.0 * COUNT(*) FILTER (WHERE ov.is_on_time) / COUNT(*) AS on_time_rate,
                   100.0 * COUNT(*) FILTER (WHERE ov.is_in_full) / COUNT(*) AS in_full_rate,
                   100.0 * COUNT(*) FILTER (WHERE ov.is_otif) / COUNT(*) AS otif_rate,
                   AVG(COALESCE(ov.fill_rate, 0)) AS fill_rate,
                   AVG(COALESCE(ov.quotation_to_confirmed_hours, 0)) AS avg_quotation_to_confirmed_hours,
                   AVG(COALESCE(ov.confirmed_to_shipped_hours, 0)) AS avg_confirmed_to_shipped_hours,
                   AVG(ov.confirmed_to_paid_hours)
                       FILTER (WHERE ov.paid_date IS NOT NULL) AS avg_confirmed_to_paid_hours
              FROM order_visibility ov
             WHERE ov.is_measured
          GROUP BY ov.company_id, ov.warehouse_id, ov.team_id, ov.partner_id,
                   DATE_TRUNC('month', COALESCE(ov.first_promised_date, ov.promised_date))::date
            """
        )

    def _read_group_select(self, aggregate_spec, query):
        """A group's rate or average: the sum of its rows' numerators over
        the sum of their denominators (weighted), never the mean of the rows'
        rates."""
        fname, __, func = aggregate_spec.partition(":")
        if fname not in WEIGHTED or func != "avg":
            return super()._read_group_select(aggregate_spec, query)
        numerator, denominator, factor = WEIGHTED[fname]
        return SQL(
            "%(factor)s * SUM(%(numerator)s) / NULLIF(SUM(%(denominator)s), 0)",
            factor=factor,
            numerator=self._field_to_sql(self._table, numerator, query),
            denominator=self._field_to_sql(self._table, denominator, query),
        )
