# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import SUPERUSER_ID, api, fields
from odoo.addons import order_visibility
from odoo.tests import tagged
from odoo.tools import SQL

from .common import OrderVisibilityCommon

# What the suite's records are, read from the tables: {table: the column
# naming the record's order}. Ids of the records made by a pass differ from
# one pass to the other: they are replaced by what they point to.
TABLES = {
    "order_visibility": "sale_order_id",
    "order_visibility_transition": "sale_order_id",
    "order_visibility_exception": "sale_order_id",
}
THREAD_MODELS = ("order.visibility", "order.visibility.exception")
# Columns that differ between two records made alike: ids, and the random
# Message-Id of a chatter message.
UNSTABLE = {"id", "message_id"}


@tagged("post_install", "-at_install")
class TestInstallation(OrderVisibilityCommon):
    """Installing on existing orders (the post-init hook): the visibility
    records created in one INSERT per batch (``_install_on_orders``) are
    those the engine makes for orders without a record, to the last column:
    stages, transitions, promises, service levels, risk, exceptions with
    their to-dos and notes, the mirror on the orders; in two companies, the
    pass running in a second language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_second_company(name="OV Company B Install")
        cls.setup_dutch()
        # Stored text written in the pass's language: the shortage's detail
        # (the product's name) and its to-do (the type's name).
        cls.goods_b.with_context(lang="nl_NL").name = "Basmatirijst 10 kg"
        shortage = cls.env.ref("order_visibility.exception_type_stock_shortage")
        shortage.with_context(lang="nl_NL").name = "Voorraadtekort"
        cls.other_customer = cls.env["res.partner"].create({"name": "Quay Bakery", "ov_priority": "2"})

    def _orders(self):
        """Orders at every stage the installation meets, in two companies."""
        self.set_stock(self.goods, 12)
        now = fields.Datetime.now()
        quotation = self.create_order([(self.goods, 1)])
        ready = self.create_order([(self.goods, 2)], commitment_date=now + timedelta(days=5))
        short = self.create_order([(self.goods_b, 3)], partner=self.other_customer)
        shipped = self.create_order([(self.goods, 4)], commitment_date=now + timedelta(days=2))
        paid = self.create_order([(self.goods, 2), (self.service, 1)], partner=self.other_customer)
        cancelled = self.create_order([(self.goods, 1)])
        services = self.create_order([(self.service, 1)])
        (ready | short | shipped | paid | cancelled | services).action_confirm()
        with freeze_time(now + timedelta(days=1)):
            self.deliver(shipped.picking_ids)
            self.deliver(paid.picking_ids)
        self.pay(self.invoice(paid))
        cancelled._action_cancel()
        warehouse_b = self.company_b["warehouse"]
        company_b = self.company_b["company"]
        self.set_stock(self.goods, 5, warehouse_b.lot_stock_id)
        orders_b = self.env["sale.order"]
        for lines in ([(self.goods, 2)], [(self.goods_b, 1)], [(self.goods, 1)]):
            orders_b |= self.create_order(lines, warehouse=warehouse_b, company_id=company_b.id)
        orders_b[:2].action_confirm()
        orders = quotation | ready | short | shipped | paid | cancelled | services | orders_b
        self.flush()
        self.assertEqual(
            set(orders.visibility_ids.mapped("stage")),
            {"draft", "ready_to_ship", "awaiting_stock", "shipped", "paid", "cancelled", "confirmed"},
        )
        self.assertEqual(len(orders.visibility_ids.mapped("company_id")), 2)
        return orders

    def _as_before_installation(self, orders):
        """The state of a database where the suite was never installed: no
        visibility record, exception or their chatter; the mirror's column as
        Odoo adds it (every order a quotation)."""
        self.env.flush_all()
        visibility_ids = tuple(orders.visibility_ids.ids)
        exception_ids = tuple(orders.visibility_ids.exception_ids.ids) or (0,)
        for table, column in (("mail_activity", "res_id"), ("mail_followers", "res_id"), ("mail_message", "res_id")):
            model_column = "model" if table == "mail_message" else "res_model"
            self.env.cr.execute(
                SQL(
                    "DELETE FROM %s WHERE (%s = 'order.visibility' AND %s IN %s) "
                    "OR (%s = 'order.visibility.exception' AND %s IN %s)",
                    SQL.identifier(table),
                    SQL.identifier(model_column),
                    SQL.identifier(column),
                    visibility_ids,
                    SQL.identifier(model_column),
                    SQL.identifier(column),
                    exception_ids,
                )
            )
        self.env.cr.execute(SQL("DELETE FROM order_visibility WHERE id IN %s", visibility_ids))
        self.env.cr.execute(SQL("UPDATE sale_order SET visibility_stage = 'draft' WHERE id IN %s", tuple(orders.ids)))
        self.env.invalidate_all()

    def _snapshot(self, orders):
        """Every row the pass made for ``orders`` and the mirror on them,
        with the ids of the records it made replaced by what they are."""
        self.env.flush_all()
        cr = self.env.cr
        order_ids = tuple(orders.ids)
        cr.execute(SQL("SELECT id, sale_order_id FROM order_visibility WHERE sale_order_id IN %s", order_ids))
        order_of = dict(cr.fetchall())
        cr.execute(
            SQL(
                "SELECT id, sale_order_id, res_model, res_id, type_id FROM order_visibility_exception "
                "WHERE sale_order_id IN %s",
                order_ids,
            )
        )
        exception_key = {row[0]: row[1:] for row in cr.fetchall()}
        cr.execute(SQL("SELECT id, sale_order_id, to_stage FROM order_visibility_transition"))
        transition_key = {row[0]: row[1:] for row in cr.fetchall()}
        stable = {
            "visibility_id": order_of.get,
            "last_transition_id": transition_key.get,
        }

        def rows(query):
            cr.execute(query)
            names = [column.name for column in cr.description]
            found = []
            for values in cr.fetchall():
                row = dict(zip(names, values, strict=True))
                for name in UNSTABLE & row.keys():
                    del row[name]
                for name, key in stable.items():
                    if row.get(name):
                        row[name] = key(row[name])
                if row.get("res_model", row.get("model")) == "order.visibility.exception":
                    row["res_id"] = exception_key.get(row["res_id"])
                elif row.get("res_model", row.get("model")) == "order.visibility":
                    row["res_id"] = order_of.get(row["res_id"])
                found.append(row)
            return sorted(found, key=repr)

        snapshot = {
            table: rows(SQL("SELECT * FROM %s WHERE %s IN %s", SQL.identifier(table), SQL.identifier(key), order_ids))
            for table, key in TABLES.items()
        }
        record_ids = tuple(order_of) + tuple(exception_key) or (0,)
        for table, model_column in (("mail_activity", "res_model"), ("mail_followers", "res_model")):
            snapshot[table] = rows(
                SQL(
                    "SELECT * FROM %s WHERE %s IN %s AND res_id IN %s",
                    SQL.identifier(table),
                    SQL.identifier(model_column),
                    THREAD_MODELS,
                    record_ids,
                )
            )
        snapshot["mail_message"] = rows(
            SQL(
                "SELECT model, res_id, body, message_type, subtype_id, author_id, date, create_uid, create_date "
                "FROM mail_message WHERE model IN %s AND res_id IN %s",
                THREAD_MODELS,
                record_ids,
            )
        )
        snapshot["sale_order"] = rows(
            SQL("SELECT id, visibility_stage, write_uid, write_date FROM sale_order WHERE id IN %s", order_ids)
        )
        return snapshot

    def _pass(self, orders, run, at):
        """What ``run`` makes of ``orders`` (before installation) at time
        ``at``, undone afterwards."""
        with self.env.cr.savepoint() as savepoint:
            self._as_before_installation(orders)
            with freeze_time(at):
                run()
                snapshot = self._snapshot(orders)
            savepoint.rollback()
            self.env.invalidate_all()
        return snapshot

    def test_records_are_those_the_engine_makes(self):
        orders = self._orders()
        Visibility = self.env["order.visibility"].with_context(tracking_disable=True, lang="nl_NL")
        self.assertTrue(Visibility._can_insert_for_orders(), "the installation creates the records in SQL")
        at = fields.Datetime.now() + timedelta(days=3)
        engine = self._pass(orders, lambda: Visibility._recompute_orders(orders, cause="installation"), at)
        installed = self._pass(orders, lambda: Visibility._install_on_orders(orders), at)
        self.assertEqual(len(engine["order_visibility"]), len(orders))
        self.assertTrue(engine["order_visibility_exception"], "the shortages are opened")
        self.assertTrue(engine["mail_activity"], "with their to-dos")
        self.assertIn("Basmatirijst 10 kg", repr(engine["order_visibility_exception"]), "written in Dutch")
        self.assertIn("Voorraadtekort", repr(engine["mail_activity"]))
        self.assertEqual(
            {row["cause"] for row in engine["order_visibility_transition"]}, {"installation"}, "the first transitions"
        )
        for table, rows in engine.items():
            self.assertEqual(installed[table], rows, f"{table}: the same rows")

    def test_an_order_with_a_record_keeps_it(self):
        """The INSERT skips the orders that have a record (a batch run again)."""
        orders = self._orders()
        Visibility = self.env["order.visibility"].with_context(tracking_disable=True)
        before = orders.visibility_ids
        self.assertFalse(Visibility._insert_for_orders(orders))
        self.assertEqual(orders.visibility_ids, before)

    def test_the_hook_installs_on_every_order_with_progress(self):
        orders = self._orders()
        everything = self.env["sale.order"].sudo().search([])
        with self.env.cr.savepoint() as savepoint:
            self._as_before_installation(everything)
            with patch.object(order_visibility, "_logger") as logger:
                # As Odoo calls it: the superuser, no context.
                order_visibility._post_init_backfill_visibility(api.Environment(self.env.cr, SUPERUSER_ID, {}))
            self.assertEqual(self.env["order.visibility"].sudo().search_count([]), len(everything))
            self.assertEqual(
                {(o.visibility_stage, o.visibility_ids.stage) for o in orders},
                {(stage, stage) for stage in orders.visibility_ids.mapped("stage")},
            )
            message, done, total, rate, left = logger.info.call_args.args
            self.assertEqual(
                message,
                "order visibility: installing on existing orders: %s / %s done (%.0f orders/s), about %.0f s left",
            )
            self.assertEqual((done, total, left), (f"{len(everything):,}", f"{len(everything):,}", 0))
            self.assertGreater(rate, 0)
            savepoint.rollback()
            self.env.invalidate_all()

    def test_the_mirror_column_is_added_without_writing_the_orders(self):
        """At installation, the column of the stage mirror reads every
        existing order a quotation, without a default of its own left in the
        database (as Odoo's columns)."""
        cr = self.env.cr
        with cr.savepoint() as savepoint:
            cr.execute("ALTER TABLE sale_order DROP COLUMN visibility_stage")
            self.env["sale.order"]._add_visibility_stage_column()
            cr.execute("SELECT DISTINCT visibility_stage FROM sale_order")
            self.assertEqual(cr.fetchall(), [("draft",)])
            cr.execute(
                "SELECT column_default, col_description('sale_order'::regclass, ordinal_position) "
                "FROM information_schema.columns WHERE table_name = 'sale_order' AND column_name = 'visibility_stage'"
            )
            self.assertEqual(cr.fetchall(), [(None, "Visibility Stage")])
            self.env["sale.order"]._add_visibility_stage_column()  # an upgrade: the column is there
            savepoint.rollback()
            self.env.invalidate_all()
