# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from .order_visibility_control_tower import ORDER_FILTER_COLUMNS


class OrderVisibility(models.Model):
    _inherit = "order.visibility"

    # Orders per stage and aging bucket (index-only range counts per stage,
    # see order.visibility.control.tower's _order_figures); the aging
    # drill-downs filter on stage and stage_since too.
    _stage_since_idx = models.Index(f"(stage, stage_since) INCLUDE ({ORDER_FILTER_COLUMNS})")
    # Top at-risk orders: the first rows of this index, not a sort of every
    # open order; with the stage and the filters, the late and at-risk
    # counts read it alone.
    _top_at_risk_idx = models.Index(
        f"(risk_score DESC, promised_date, id) INCLUDE (stage, {ORDER_FILTER_COLUMNS}) WHERE stage IN "
        "('confirmed', 'credit_hold', 'awaiting_stock', 'ready_to_ship', 'partially_shipped', 'pending_approval')"
    )
    # The service-level strip: the orders fully shipped in a period, their
    # measures summed from this index alone (index-only range scans). The
    # predicate is the ORM's own condition for ("is_measured", "=", True):
    # PostgreSQL does not match "is_measured IS TRUE" to "WHERE is_measured".
    _fully_shipped_date_idx = models.Index(
        "(fully_shipped_date) INCLUDE (is_on_time, is_in_full, paid_date, fill_rate, quotation_to_confirmed_hours, "
        f"confirmed_to_shipped_hours, confirmed_to_paid_hours, {ORDER_FILTER_COLUMNS}) WHERE is_measured IS TRUE"
    )

    @api.readonly
    @api.model
    def get_control_tower_data(self, filters=None):
        """Every figure of the control tower, for the current user (see
        ``order.visibility.control.tower``, which computes them).

        ``filters`` (all optional): ``company_ids`` (within the allowed
        companies), ``warehouse_id``, ``team_id``, ``priority`` (customer
        priority code), ``period`` (days of the trends: 7, 14 or 30),
        ``queue_order`` and ``queue_severity`` (exception queue).
        """
        return self.env["order.visibility.control.tower"]._get_data(filters)

    # ------------------------------------------------------------------
    # Durations of the scheduled actions the control tower watches
    # ------------------------------------------------------------------

    @api.model
    def _cron_exception_sweep(self):
        result = self.env["order.visibility.cron.run"]._record_run("exception_sweep", super()._cron_exception_sweep)
        # What the pass changed added rows to the control tower's running counts.
        self.env["order.visibility.tally"]._cron_compact()
        return result

    @api.model
    def _cron_reconcile(self):
        result = self.env["order.visibility.cron.run"]._record_run("reconcile", super()._cron_reconcile)
        self.env["order.visibility.tally"]._cron_compact()
        return result
