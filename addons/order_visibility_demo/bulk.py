# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Bulk sales data for the benchmarks: 100,000 orders in minutes.

Taking 100,000 orders through Odoo's flows one by one would take hours, so
the generator works in two steps:

1. **Templates, through the ORM.** A few dozen real orders are created and
   taken through real flows (quotation, confirmation with reservation,
   partial delivery with backorder, delivery, invoicing, payment,
   cancellation), exactly as the demo scenario does, in their own
   customers and products. Their documents are what Odoo itself writes.
2. **Copies, in SQL.** Each copy duplicates one template's rows in every
   table an order spans (order, lines, stock references, transfers, moves,
   move lines, invoices, journal items, visibility record and timeline),
   with ``INSERT ... SELECT`` over a temporary id map, in batches. Copies
   get new names, another customer and dates moved back in time; every
   reference between copied rows points to the same copy, and many2many
   links (taxes, invoice lines of order lines, move chains) are copied
   along. Nothing else is written: reconciliations and payments are not
   copied (paid invoices keep their payment state), nor chatter, and the
   stock quants do not count the copies' reservations: copies are
   benchmark data, not orders to process further.

The stages of the copies are then checked by the engine's own nightly
reconciliation, and the exception sweep opens their exceptions, so the
database ends in the steady state the benchmarks measure.

This module is for benchmark databases only; the demo scenario does not
use it.
"""

import logging
import random
import time
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import SQL

from .hooks import MODULE, DemoScenario

_logger = logging.getLogger(__name__)

# Every table an order spans, parents first.
COPIED_MODELS = [
    "sale.order",
    "sale.order.line",
    "stock.reference",
    "stock.picking",
    "stock.move",
    "stock.move.line",
    "account.move",
    "account.move.line",
    "order.visibility",
    "order.visibility.transition",
]
# Links to records that are not copied and must not be shared by copies.
NOT_SHARED_MODELS = {
    "account.full.reconcile",
    "account.partial.reconcile",
    "account.payment",
    "account.bank.statement.line",
    "mail.message",
    "mail.activity",
    "mail.followers",
    "ir.attachment",
    "order.visibility.exception",
    "order.visibility.approval",
}
# How far each template is taken, and its share of the copies (percent).
# ``days``: copies are moved back in time by up to that many days (open
# orders are recent; closed ones span months). Templates promise delivery
# in PROMISE_DAYS. With the default settings, 100,000 orders end with about
# 30,000 open exceptions (measured: 25,952 opened by the first sweep and
# about 6,000 stock shortages): stale quotations, late and stale orders,
# shortages, invoices blocked or overdue; the performance budgets assume 20,000.
PROFILES = [
    {"flow": "draft", "share": 12, "days": 18},
    {"flow": "sent", "share": 5, "days": 18},
    {"flow": "confirm", "share": 16, "days": 8},
    {"flow": "short", "share": 6, "days": 8},
    {"flow": "partial", "share": 6, "days": 8},
    {"flow": "ship", "share": 10, "days": 5},
    {"flow": "invoice", "share": 15, "days": 40},
    {"flow": "pay", "share": 25, "days": 120},
    {"flow": "cancel", "share": 3, "days": 60},
    {"flow": "services", "share": 2, "days": 10},
]
PROMISE_DAYS = 6
TEMPLATES_PER_PROFILE = 5
CUSTOMERS = 2000
STOCKED_PRODUCTS = 60
SHORT_PRODUCTS = 15
SERVICE_PRODUCTS = 3
BULK_PREFIX = "SB"


class BulkGenerator:
    """Create ``orders`` bulk orders in ``env``'s database (superuser env)."""

    def __init__(
        self,
        env,
        *,
        seed=42,
        batch=10_000,
        commit=True,
        templates_per_profile=TEMPLATES_PER_PROFILE,
        customers=CUSTOMERS,
    ):
        self.env = env
        self.templates_per_profile = templates_per_profile
        self.customer_count = customers
        self.commit = commit  # commit after each batch (off in tests)
        self.random = random.Random(seed)
        self.batch = batch
        self.now = fields.Datetime.now()
        rdc = env.ref(f"{MODULE}.warehouse_rotterdam_dc")
        self.company = rdc.company_id
        self.scenario = DemoScenario(env, self.company, rdc)
        self.warehouse = self.scenario.warehouses["main"]

    # ------------------------------------------------------------------

    def existing(self):
        return self.env["sale.order"].search_count([("name", "=like", f"{BULK_PREFIX}%")])

    def run(self, orders):
        """Add bulk orders until the database holds ``orders`` of them."""
        todo = orders - self.existing()
        if todo <= 0:
            return {}
        figures = {}
        started = time.perf_counter()
        self.scenario.ensure_chart_of_accounts()
        customers, stocked, short, services = self.master_data()
        templates = self.templates(customers[0], stocked, short, services)
        self.commit_batch()
        figures["templates"] = (len(templates), time.perf_counter() - started)
        started = time.perf_counter()
        self.copy_orders(templates, customers, todo)
        figures["copies"] = (todo, time.perf_counter() - started)
        return figures

    # ------------------------------------------------------------------
    # Master data and templates, through the ORM
    # ------------------------------------------------------------------

    def master_data(self):
        Partner = self.env["res.partner"]
        tag = self.random.randrange(10**6)
        customers = Partner.create(
            [
                {
                    "name": f"Bulk Customer {tag}-{i:04d}",
                    "is_company": True,
                    "customer_rank": 1,
                    "ov_priority": self.random.choices(("0", "1", "2"), weights=(80, 15, 5))[0],
                }
                for i in range(self.customer_count)
            ]
        )
        Product = self.env["product.product"]
        sale_tax = self.company.account_sale_tax_id

        def products(prefix, count, **vals):
            return Product.create(
                [
                    {
                        "name": f"{prefix} {tag}-{i:03d}",
                        "list_price": (price := round(self.random.uniform(5, 120), 2)),
                        # a margin of 25 to 60 %: no approval is needed to confirm
                        "standard_price": round(price * self.random.uniform(0.4, 0.75), 2),
                        "taxes_id": [Command.set(sale_tax.ids)],
                        **vals,
                    }
                    for i in range(count)
                ]
            )

        stocked = products("Bulk Stocked Item", STOCKED_PRODUCTS, type="consu", is_storable=True)
        short = products("Bulk Scarce Item", SHORT_PRODUCTS, type="consu", is_storable=True)
        services = products("Bulk Service", SERVICE_PRODUCTS, type="service")
        Quant = self.env["stock.quant"].with_context(inventory_mode=True)
        Quant.create(
            [
                {"product_id": p.id, "location_id": self.warehouse.lot_stock_id.id, "inventory_quantity": 10**7}
                for p in stocked
            ]
        ).action_apply_inventory()
        return customers, stocked, short, services

    def templates(self, customer, stocked, short, services):
        """{template order: profile}, real orders taken through real flows."""
        templates = {}
        for profile in PROFILES:
            for _i in range(self.templates_per_profile):
                templates[self.template(profile["flow"], customer, stocked, short, services)] = profile
        return templates

    def template(self, flow, customer, stocked, short, services):
        count = self.random.choice((2, 3, 3, 4))
        if flow == "services":
            products = services[: min(count, len(services))]
        else:
            products = self.random.sample(stocked, count)
            if flow in ("short", "partial"):
                products = [*products[:-1], self.random.choice(short)]
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "warehouse_id": self.warehouse.id,
                "commitment_date": self.now + timedelta(days=PROMISE_DAYS),
                "order_line": [
                    Command.create({"product_id": p.id, "product_uom_qty": self.random.randint(1, 40)})
                    for p in products
                ],
            }
        )
        self.scenario.commit_point()
        if flow == "sent":
            order.action_quotation_sent()
        elif flow != "draft":
            order.action_confirm()
            if order.state != "sale":
                raise UserError(self.env._("Bulk template %(name)s was not confirmed.", name=order.name))
        self.scenario.commit_point()
        if flow == "partial":
            self.scenario.deliver(order, self.now, backorder=True)
        elif flow in ("ship", "invoice", "pay"):
            self.scenario.deliver(order, self.now)
        if flow in ("invoice", "pay"):
            invoices = order._create_invoices()
            invoices.invoice_date_due = (self.now + timedelta(days=30)).date()
            invoices.action_post()
            self.scenario.commit_point()
            if flow == "pay":
                self.scenario.pay(order, invoices)
        elif flow == "cancel":
            order.action_cancel()
            self.scenario.commit_point()
        return order

    # ------------------------------------------------------------------
    # Copies, in SQL
    # ------------------------------------------------------------------

    def template_rows(self, templates):
        """[(table, row id, template order id)] of every row the templates span."""
        rows = []
        for order in templates:
            visibility = order.visibility_ids
            invoices = order.invoice_ids
            records = {
                "sale.order": order,
                "sale.order.line": order.order_line,
                "stock.reference": order.picking_ids.move_ids.reference_ids,
                "stock.picking": order.picking_ids,
                "stock.move": order.picking_ids.move_ids,
                "stock.move.line": order.picking_ids.move_line_ids,
                "account.move": invoices,
                "account.move.line": invoices.line_ids,
                "order.visibility": visibility,
                "order.visibility.transition": visibility.transition_ids,
            }
            for model, recs in records.items():
                rows += [(self.env[model]._table, rec_id, order.id) for rec_id in recs.ids]
        return rows

    def copy_orders(self, templates, customers, count):
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            "CREATE TEMP TABLE IF NOT EXISTS ov_bulk_template (tbl text, row_id int, order_id int);"
            "CREATE TEMP TABLE IF NOT EXISTS ov_bulk_map (tbl text, g int, tmpl int, id int, shift int, partner int);"
            "TRUNCATE ov_bulk_template; TRUNCATE ov_bulk_map"
        )
        rows = self.template_rows(templates)
        cr.execute(
            "INSERT INTO ov_bulk_template SELECT * FROM unnest(%s::text[], %s::int[], %s::int[])",
            [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
        )
        # Which template each copy follows: the profiles' shares, shuffled.
        pool = []
        for order, profile in templates.items():
            pool += [(order, profile)] * profile["share"]
        first = self.existing()
        done = 0
        while done < count:
            size = min(self.batch, count - done)
            picks = [self.random.choice(pool) for _i in range(size)]
            self.copy_batch(
                templates,
                g_values=list(range(first + done + 1, first + done + size + 1)),
                template_ids=[order.id for order, _profile in picks],
                shifts=[self.random.randint(0, profile["days"]) for _order, profile in picks],
                partners=[self.random.choice(customers).id for _i in range(size)],
            )
            done += size
            self.commit_batch()
            _logger.info("bulk orders: %s / %s copied", done, count)
        cr.execute("DROP TABLE ov_bulk_template; DROP TABLE ov_bulk_map")
        for model in COPIED_MODELS:
            cr.execute(SQL("ANALYZE %s", SQL.identifier(self.env[model]._table)))
        self.commit_batch()
        self.env.invalidate_all()

    def commit_batch(self):
        # A bulk load of minutes commits batch by batch, like a cron's
        # progress commits; tests turn it off.
        if self.commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def copy_batch(self, templates, g_values, template_ids, shifts, partners):
        cr = self.env.cr
        cr.execute("TRUNCATE ov_bulk_map")
        cr.execute(
            """INSERT INTO ov_bulk_map (tbl, g, tmpl, id, shift, partner)
               SELECT 'sale_order', g, tmpl, nextval('sale_order_id_seq'), shift, partner
                 FROM unnest(%s::int[], %s::int[], %s::int[], %s::int[]) AS u(g, tmpl, shift, partner)""",
            [g_values, template_ids, shifts, partners],
        )
        for model in COPIED_MODELS[1:]:
            table = self.env[model]._table
            cr.execute(
                SQL(
                    """INSERT INTO ov_bulk_map (tbl, g, tmpl, id, shift, partner)
                       SELECT %(table)s, m.g, t.row_id, nextval(%(sequence)s), m.shift, m.partner
                         FROM ov_bulk_template t
                         JOIN ov_bulk_map m ON m.tbl = 'sale_order' AND m.tmpl = t.order_id
                        WHERE t.tbl = %(table)s""",
                    table=table,
                    sequence=f"{table}_id_seq",
                )
            )
        cr.execute("CREATE INDEX IF NOT EXISTS ov_bulk_map_key ON ov_bulk_map (tbl, g, tmpl); ANALYZE ov_bulk_map")
        template_partners = list({order.partner_id.id for order in templates})
        later = []
        for model in COPIED_MODELS:
            later += self.copy_table(model, template_partners)
        for model, column in later:
            self.link_later(model, column)
        # Stored values that follow the customer, who changed.
        self.env.cr.execute(
            """UPDATE order_visibility v SET customer_priority = p.ov_priority
                 FROM ov_bulk_map m JOIN res_partner p ON p.id = m.partner
                WHERE m.tbl = 'order_visibility' AND v.id = m.id;
               UPDATE account_move a SET invoice_partner_display_name = p.name
                 FROM ov_bulk_map m JOIN res_partner p ON p.id = m.partner
                WHERE m.tbl = 'account_move' AND a.id = m.id"""
        )
        for relation in self.relations():
            self.copy_relation(*relation)

    def remap(self, comodel, col):
        """SQL: the copy (of the same order copy ``m.g``) of the row ``col`` points to."""
        return SQL(
            "COALESCE((SELECT r.id FROM ov_bulk_map r WHERE r.tbl = %s AND r.g = m.g AND r.tmpl = %s), %s)",
            self.env[comodel]._table,
            col,
            col,
        )

    def points_later(self, model, column):
        """Whether ``column`` links to a table copied after ``model``'s (set once both exist)."""
        field = self.env[model]._fields.get(column)
        return (
            field is not None
            and field.type == "many2one"
            and field.comodel_name in COPIED_MODELS
            and COPIED_MODELS.index(field.comodel_name) > COPIED_MODELS.index(model)
        )

    def column_expression(self, model, column, template_partners):
        """SQL giving the copy's value of ``column`` (template row ``t``, map row ``m``)."""
        field = self.env[model]._fields.get(column)
        col = SQL("t.%s", SQL.identifier(column))
        name = SQL("%s || lpad(m.g::text, 7, '0')", BULK_PREFIX)
        if column == "id":
            return SQL("m.id")
        if column in ("access_token", "matching_number"):
            return SQL("NULL")
        if model in ("sale.order", "stock.reference") and column == "name":
            return name
        if column in ("origin", "invoice_origin"):
            return SQL("CASE WHEN %s IS NULL THEN NULL ELSE %s END", col, name)
        if (model, column) in {
            ("stock.picking", "name"),
            ("stock.move", "reference"),
            ("account.move", "name"),
            ("account.move", "payment_reference"),
            ("account.move.line", "move_name"),
        }:
            return SQL("%s || '/' || %s", col, name)
        if field is None:
            return col
        if field.type == "many2one":
            if self.points_later(model, column):
                return SQL("NULL")
            if field.comodel_name in COPIED_MODELS:
                return self.remap(field.comodel_name, col)
            if field.comodel_name in NOT_SHARED_MODELS:
                return SQL("NULL")
            if field.comodel_name == "res.partner":
                return SQL("CASE WHEN %s = ANY(%s) THEN m.partner ELSE %s END", col, template_partners, col)
        if field.type == "datetime":
            return SQL("%s - make_interval(days => m.shift)", col)
        if field.type == "date":
            return SQL("%s - m.shift", col)
        return col

    def copy_table(self, model, template_partners):
        table = self.env[model]._table
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        columns = [row[0] for row in self.env.cr.fetchall()]
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) SELECT %s FROM ov_bulk_map m JOIN %s t ON t.id = m.tmpl WHERE m.tbl = %s",
                SQL.identifier(table),
                SQL(", ").join(SQL.identifier(c) for c in columns),
                SQL(", ").join(self.column_expression(model, c, template_partners) for c in columns),
                SQL.identifier(table),
                table,
            )
        )
        return [(model, column) for column in columns if self.points_later(model, column)]

    def link_later(self, model, column):
        table = SQL.identifier(self.env[model]._table)
        col = SQL("t.%s", SQL.identifier(column))
        self.env.cr.execute(
            SQL(
                """UPDATE %(table)s AS x SET %(column)s = %(value)s
                     FROM ov_bulk_map m JOIN %(table)s t ON t.id = m.tmpl
                    WHERE x.id = m.id AND m.tbl = %(name)s AND %(col)s IS NOT NULL""",
                table=table,
                column=SQL.identifier(column),
                value=self.remap(self.env[model]._fields[column].comodel_name, col),
                name=self.env[model]._table,
                col=col,
            )
        )

    def relations(self):
        """(relation table, copied side's column, copied model, other column, other model) of stored many2many."""
        seen = set()
        for model in COPIED_MODELS:
            for field in self.env[model]._fields.values():
                if field.type == "many2many" and field.store:
                    if field.relation in seen or field.comodel_name in NOT_SHARED_MODELS:
                        continue
                    seen.add(field.relation)
                    yield field.relation, field.column1, model, field.column2, field.comodel_name

    def copy_relation(self, relation, column, model, other_column, other_model):
        other = SQL("t.%s", SQL.identifier(other_column))
        if other_model in COPIED_MODELS:
            other = SQL(
                "(SELECT r.id FROM ov_bulk_map r WHERE r.tbl = %s AND r.g = m.g AND r.tmpl = %s)",
                self.env[other_model]._table,
                other,
            )
        self.env.cr.execute(
            SQL(
                """INSERT INTO %(relation)s (%(column)s, %(other_column)s)
                   SELECT m.id, %(other)s FROM ov_bulk_map m JOIN %(relation)s t ON t.%(column)s = m.tmpl
                    WHERE m.tbl = %(table)s AND %(other)s IS NOT NULL
                   ON CONFLICT DO NOTHING""",
                relation=SQL.identifier(relation),
                column=SQL.identifier(column),
                other_column=SQL.identifier(other_column),
                other=other,
                table=self.env[model]._table,
            )
        )
