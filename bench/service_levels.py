"""Benchmark of the service levels (issue 17): the report, the control
tower's strip and the cost of measuring one shipped order.

Run through ``./ov bench service_levels`` (bench/core.py opens the bulk
database and calls ``bench_service_levels``). Prints figures, never passes
or fails:

- the service-level report grouped by month of the first promise x
  warehouse, as the pivot asks for it (``_read_group`` on
  ``order.visibility.service.report`` with the pivot's measures, the three
  cycle times' p90s included: percentile_cont over the orders of each
  cell), as an Order Visibility user;
- the control tower's service-level strip (``_service_levels`` of
  ``order.visibility.control.tower``, the part of the aggregated call it
  adds), no filter and the 30-day period;

each ``rounds`` times after a warm-up call, the ORM cache cleared before
every call (PostgreSQL's cache stays warm, as on a server): median, p95 and
the query count. Budget (docs/dev/architecture.md): reports median <= 300 ms
at 100,000 orders; the control tower's call median <= 100 ms.

- the queries of recomputing the measures of one shipped order (its stored
  measures invalidated and recomputed, as the engine's pass does when its
  stage changes) with 1, 10 and 50 lines shipped in 1 and 3 deliveries,
  side by side: the count should not change
  (order_visibility/tests/test_service_level_queries.py guards it). The
  orders are created in a savepoint rolled back afterwards. On the
  benchmark databases the count is the test's 3 plus 2: Odoo's automation
  rules read the core's active on-write rule of order.visibility ("order at
  risk, to-do for the salesperson") and its model.

The machine's load average is printed first and last: wall-clock figures
grow with whatever else runs.
"""

import statistics
import time
from datetime import timedelta

from figures import load_average, percentile, say  # bench/ is the script's folder

from odoo import api, fields
from odoo.fields import Command

REPORT_MEDIAN_BUDGET_MS = 300
STRIP_MEDIAN_BUDGET_MS = 100
# The pivot's measures of the report (its fields with their aggregators).
REPORT_AGGREGATES = (
    "order_count:sum",
    "on_time_rate:avg",
    "in_full_rate:avg",
    "otif_rate:avg",
    "fill_rate:avg",
    "avg_quotation_to_confirmed_hours:avg",
    "avg_confirmed_to_shipped_hours:avg",
    "avg_confirmed_to_paid_hours:avg",
    "p90_quotation_to_confirmed_hours:avg",
    "p90_confirmed_to_shipped_hours:avg",
    "p90_confirmed_to_paid_hours:avg",
)
MEASURE_SHAPES = ((1, 1), (10, 1), (50, 1), (1, 3), (10, 3), (50, 3))  # (lines, deliveries)


def _user(env):
    """The administrator if they are an Order Visibility user, else the first such user."""
    admin = env.ref("base.user_admin")
    if admin.has_group("order_visibility.group_order_visibility_user"):
        return admin
    group = env.ref("order_visibility.group_order_visibility_user")
    return group.all_user_ids.filtered(lambda u: not u.share)[:1]


def _repeat(env, user_env, call, rounds):
    """(median ms, p95 ms, sorted distinct query counts) of ``rounds`` calls after a warm-up."""
    call()
    timings, queries = [], set()
    for _round in range(rounds):
        user_env.invalidate_all()
        before = env.cr.sql_log_count
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
        queries.add(env.cr.sql_log_count - before)
    return statistics.median(timings), percentile(timings, 0.95), sorted(queries)


def _print_row(label, median, p95, queries, budget):
    verdict = "ok" if median <= budget else "OVER BUDGET"
    say(f"  {label:<34} {median:>7.1f} ms {p95:>7.1f} ms {'/'.join(map(str, queries)):>8}  {verdict}")


def bench_reads(env, user, rounds):
    user_env = api.Environment(env.cr, user.id, {"allowed_company_ids": user.company_ids.ids})
    Report = user_env["order.visibility.service.report"]
    Tower = user_env["order.visibility.control.tower"]
    env.cr.execute("SELECT count(*), count(*) FILTER (WHERE is_measured) FROM order_visibility")
    orders, measured = env.cr.fetchone()
    say(f"service levels: as {user.login}, {orders:,} orders, {measured:,} measured (shipped)")
    say(f"  {rounds} calls each after a warm-up, ORM cache cleared before each call")
    say(f"  {'call':<34} {'median':>10} {'p95':>10} {'queries':>8}")

    def report():
        return Report._read_group([], ["promise_month:month", "warehouse_id"], REPORT_AGGREGATES)

    groups = len(report())
    median, p95, queries = _repeat(env, user_env, report, rounds)
    _print_row(f"report month x warehouse ({groups} cells)", median, p95, queries, REPORT_MEDIAN_BUDGET_MS)
    [(orders_total, otif, *p90s)] = Report._read_group(
        [], [], ["order_count:sum", "otif_rate:avg", *(spec for spec in REPORT_AGGREGATES if spec.startswith("p90_"))]
    )
    say(
        f"    report total: {orders_total or 0:,} orders, OTIF {otif or 0:.1f} %, p90 hours quotation->confirmed, "
        "confirmed->shipped, confirmed->paid: " + ", ".join("-" if p90 is None else f"{p90:.1f}" for p90 in p90s)
    )
    for label, period in (("strip, period 14 days", 14), ("strip, period 30 days", 30)):

        def strip(period=period):
            filters = Tower._parse_filters({"period": period})
            return Tower._service_levels(Tower._filters_domain(filters, ""), filters, fields.Datetime.now())

        shipped = strip()["current"]["orders"]
        median, p95, queries = _repeat(env, user_env, strip, rounds)
        _print_row(f"{label} ({shipped:,} orders)", median, p95, queries, STRIP_MEDIAN_BUDGET_MS)


def _shipped_order(env, product, partner, warehouse, *, lines, deliveries):
    """An order of ``lines`` lines of 3 units of ``product``, confirmed and
    shipped in ``deliveries`` deliveries, each the backorder of the previous one."""
    env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 3 * lines)
    order = env["sale.order"].create(
        {
            "partner_id": partner.id,
            "warehouse_id": warehouse.id,
            "company_id": warehouse.company_id.id,
            "commitment_date": fields.Datetime.now() + timedelta(days=2),
            "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 3}) for _n in range(lines)],
        }
    )
    order.action_confirm()
    for part in range(deliveries):
        picking = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")).with_context(skip_sms=True)
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty if part == deliveries - 1 else 3 / deliveries
            move.picked = True
        result = picking.button_validate()
        if isinstance(result, dict) and result.get("res_model") == "stock.backorder.confirmation":
            env["stock.backorder.confirmation"].with_context(**result["context"]).create({}).process()
    env.flush_all()
    env["order.visibility"]._recompute_new_quotations()
    env.flush_all()
    return env["order.visibility"].search([("sale_order_id", "=", order.id)])


def _measure_queries(env, visibility, field_names):
    """Queries of recomputing the stored measures of ``visibility`` (warm)."""
    Visibility = env["order.visibility"]

    def mark():
        visibility.write(dict.fromkeys(field_names, False))
        env.flush_all()
        env.invalidate_all()
        engine = Visibility.search([("id", "=", visibility.id)])
        engine.sale_order_id.fetch(["state", "date_order"])
        for name in field_names:
            env.add_to_compute(Visibility._fields[name], engine)

    mark()
    Visibility.flush_model()  # warm-up: parameters, precisions
    mark()
    before = env.cr.sql_log_count
    Visibility.flush_model()
    return env.cr.sql_log_count - before


def bench_measure_queries(env):
    from odoo.addons.order_visibility.tools.constants import SERVICE_LEVEL_FIELDS

    say("service levels: queries of recomputing the measures of one shipped order (should be constant)")
    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    product = env["product.product"].search([("type", "=", "consu"), ("is_storable", "=", True)], limit=1)
    partner = env["res.partner"].search([("customer_rank", ">", 0)], limit=1) or env.ref("base.res_partner_2")
    if not (warehouse and product):
        say("  no warehouse or storable product in the database, nothing to measure")
        return
    env.cr.execute("SAVEPOINT ov_bench_service_levels")
    try:
        counts = {}
        for lines, deliveries in MEASURE_SHAPES:
            visibility = _shipped_order(env, product, partner, warehouse, lines=lines, deliveries=deliveries)
            if not visibility.is_measured:
                counts[lines, deliveries] = "not measured"
                continue
            counts[lines, deliveries] = _measure_queries(env, visibility, SERVICE_LEVEL_FIELDS)
    finally:
        env.flush_all()
        env.cr.execute("ROLLBACK TO SAVEPOINT ov_bench_service_levels")
        env.invalidate_all()
    say(f"  {'lines':>5} " + " ".join(f"{f'{d} deliver' + ('ies' if d > 1 else 'y'):>13}" for d in (1, 3)))
    for lines in sorted({lines for lines, _d in MEASURE_SHAPES}):
        say(f"  {lines:>5} " + " ".join(f"{counts.get((lines, d), '-')!s:>13}" for d in (1, 3)))


def bench_service_levels(env, rounds=20):
    say(f"service levels: {load_average()}")
    user = _user(env)
    if not user:
        say("service levels: no Order Visibility user in the database, nothing to measure")
    else:
        bench_reads(env, user, rounds)
    bench_measure_queries(env)
    say(f"service levels: done, {load_average()}")
