# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Service levels: the first promise kept, its changes logged, and each
shipped order measured once (on time, in full, fill rate, cycle times)."""

from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.modules.migration import load_script
from odoo.tests import tagged

from .common import OrderVisibilityCommon

MIGRATION = Path(__file__).parents[1] / "migrations" / "19.0.1.2.0" / "post-migrate.py"
MEASURES = (
    "is_measured",
    "fully_shipped_date",
    "is_on_time",
    "is_in_full",
    "is_otif",
    "fill_rate",
    "quotation_to_confirmed_hours",
    "confirmed_to_shipped_hours",
    "paid_date",
    "confirmed_to_paid_hours",
)


@tagged("post_install", "-at_install")
class TestServiceLevel(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ov_user = cls.new_user(
            "ov_sl_user", "order_visibility.group_order_visibility_user,sales_team.group_sale_salesman_all_leads"
        )
        cls.seller = cls.new_user("ov_sl_seller", "sales_team.group_sale_salesman_all_leads,stock.group_stock_user")

    def confirmed_order(self, lines, promise_in=timedelta(days=2)):
        """An order created now (its quotation), promised ``promise_in`` after
        its creation, confirmed 3 hours after it. Returns it and its creation."""
        order = self.create_order(lines)
        start = order.create_date.replace(microsecond=0)
        order.commitment_date = start + promise_in
        with freeze_time(start + timedelta(hours=3)):
            order.action_confirm()
            self.flush()
        return order, start

    def deliver_at(self, at, picking, quantities=None):
        with freeze_time(at):
            self.deliver(picking, quantities)
            self.flush()

    def open_pickings(self, order):
        return order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))

    def measures(self, visibility):
        return {name: visibility[name] for name in MEASURES}

    # -- the measures -----------------------------------------------------

    def test_on_time_in_full_then_paid(self):
        self.set_stock(self.goods, 4)
        self.set_stock(self.goods_b, 2)
        order, start = self.confirmed_order([(self.goods, 4), (self.goods_b, 2)])
        visibility = self.visibility(order)
        self.assertEqual(visibility.first_promised_date, start + timedelta(days=2))
        self.assertFalse(visibility.is_measured, "nothing shipped yet")
        self.deliver_at(start + timedelta(days=1), order.picking_ids)
        self.assertEqual(visibility.stage, "shipped")
        self.assertEqual(
            self.measures(visibility),
            {
                "is_measured": True,
                "fully_shipped_date": start + timedelta(days=1),
                "is_on_time": True,
                "is_in_full": True,
                "is_otif": True,
                "fill_rate": 1.0,
                "quotation_to_confirmed_hours": 3.0,
                "confirmed_to_shipped_hours": 21.0,
                "paid_date": False,
                "confirmed_to_paid_hours": 0.0,
            },
        )
        with freeze_time(start + timedelta(days=3)):
            self.pay(self.invoice(order))
            self.flush()
        self.assertEqual(visibility.stage, "paid")
        self.assertEqual(visibility.paid_date, start + timedelta(days=3))
        self.assertEqual(visibility.confirmed_to_paid_hours, 69.0)
        self.assertEqual(visibility.fully_shipped_date, start + timedelta(days=1), "measured once")

    def test_late(self):
        self.set_stock(self.goods, 5)
        order, start = self.confirmed_order([(self.goods, 5)])
        self.deliver_at(start + timedelta(days=3), order.picking_ids)
        visibility = self.visibility(order)
        self.assertEqual(
            (visibility.is_on_time, visibility.is_in_full, visibility.is_otif, visibility.fill_rate),
            (False, True, False, 0.0),
        )
        self.assertEqual(visibility.confirmed_to_shipped_hours, 69.0)
        shipped_late = self.env["order.visibility"].search([("is_measured", "=", True), ("is_on_time", "=", False)])
        self.assertEqual(shipped_late, visibility)

    def test_shipped_in_two_parts_second_after_the_promise(self):
        self.set_stock(self.goods, 8)
        self.set_stock(self.goods_b, 2)
        order, start = self.confirmed_order([(self.goods, 8), (self.goods_b, 2)])
        visibility = self.visibility(order)
        self.deliver_at(start + timedelta(days=1), order.picking_ids, {self.goods: 5, self.goods_b: 2})
        self.assertEqual(visibility.stage, "partially_shipped")
        self.assertFalse(visibility.is_measured, "goods still to ship: not measured")
        self.deliver_at(start + timedelta(days=4), self.open_pickings(order))
        self.assertEqual(
            self.measures(visibility),
            {
                "is_measured": True,
                "fully_shipped_date": start + timedelta(days=4),
                "is_on_time": False,
                "is_in_full": False,
                "is_otif": False,
                "fill_rate": 0.7,  # 5 + 2 of 10 units by the promise
                "quotation_to_confirmed_hours": 3.0,
                "confirmed_to_shipped_hours": 93.0,
                "paid_date": False,
                "confirmed_to_paid_hours": 0.0,
            },
        )

    def test_grace_of_the_settings(self):
        Settings = self.env["res.config.settings"]
        with self.assertRaisesRegex(ValidationError, r"On-Time Grace \(hours\) cannot be negative."):
            Settings.create({"ov_otif_grace_hours": -1}).execute()
        Settings.create({"ov_otif_grace_hours": 30}).execute()
        log = self.env["order.visibility.settings.log"].search([("key", "=", "order_visibility.otif_grace_hours")])
        self.assertEqual((log.old_value, log.new_value), ("", "30"))
        self.set_stock(self.goods, 4)
        inside, start = self.confirmed_order([(self.goods, 2)])
        outside, _start = self.confirmed_order([(self.goods, 2)])
        self.deliver_at(start + timedelta(days=2, hours=30), inside.picking_ids)
        self.deliver_at(start + timedelta(days=2, hours=31), outside.picking_ids)
        self.assertEqual((self.visibility(inside).is_otif, self.visibility(inside).fill_rate), (True, 1.0))
        self.assertEqual((self.visibility(outside).is_otif, self.visibility(outside).fill_rate), (False, 0.0))

    def test_services_only_and_cancelled_are_not_measured(self):
        services, _start = self.confirmed_order([(self.service, 1)])
        with freeze_time(services.create_date + timedelta(days=1)):
            self.pay(self.invoice(services))
            self.flush()
        self.set_stock(self.goods, 2)
        cancelled, _start = self.confirmed_order([(self.goods, 2)])
        cancelled._action_cancel()
        for order, stage in ((services, "paid"), (cancelled, "cancelled")):
            visibility = self.assertStage(order, stage)
            self.assertEqual(self.measures(visibility), dict.fromkeys(MEASURES, False))
        measured = self.env["order.visibility"].search([("is_measured", "=", True)])
        self.assertFalse(measured & (self.visibility(services) | self.visibility(cancelled)))

    # -- the promise --------------------------------------------------------

    def test_promise_moved_after_confirmation(self):
        self.set_stock(self.goods, 3)
        order, start = self.confirmed_order([(self.goods, 3)])
        visibility = self.visibility(order)
        Visibility = type(self.env["order.visibility"])
        with (
            freeze_time(start + timedelta(hours=5)),
            patch.object(Visibility, "_on_promise_changes", autospec=True) as hook,
        ):
            order.with_user(self.seller).commitment_date = start + timedelta(days=4)
            self.flush()
        self.assertEqual(visibility.first_promised_date, start + timedelta(days=2), "the first promise is kept")
        self.assertEqual(visibility.promised_date, start + timedelta(days=4))
        change = visibility.promise_change_ids
        self.assertEqual(
            (change.old_date, change.new_date, change.changed_at, change.changed_by, change.cause),
            (
                start + timedelta(days=2),
                start + timedelta(days=4),
                start + timedelta(hours=5),
                self.seller,
                "order_edited",
            ),
        )
        hook.assert_called_once()
        self.assertEqual(hook.call_args.args[1], change)
        # Shipped on the new date: late against the first promise.
        self.deliver_at(start + timedelta(days=3), order.picking_ids)
        self.assertEqual((visibility.is_on_time, visibility.fill_rate), (False, 0.0))
        # A reconciliation changes nothing.
        self.env["order.visibility"]._recompute_orders(order, cause="reconciliation")
        self.assertEqual(len(visibility.promise_change_ids), 1)

    def test_users_cannot_write_the_promise_or_the_measures(self):
        self.set_stock(self.goods, 1)
        order, start = self.confirmed_order([(self.goods, 1)])
        self.deliver_at(start + timedelta(days=1), order.picking_ids)
        visibility = self.visibility(order)
        admin = self.new_user(
            "ov_sl_admin",
            "order_visibility.group_order_visibility_admin,sales_team.group_sale_manager,base.group_system",
        )
        for user in (self.ov_user, admin):
            for values in ({"first_promised_date": start}, {"is_otif": False, "fill_rate": 0.5}):
                with self.subTest(user=user.login, values=values), self.assertRaises(AccessError):
                    visibility.with_user(user).write(values)
            with self.assertRaises(AccessError):
                self.env["order.visibility.promise.change"].with_user(user).create(
                    {"visibility_id": visibility.id, "old_date": start, "new_date": start}
                )
        # A sales user edits the order: the first promise stays.
        order.with_user(self.seller).commitment_date = start + timedelta(days=9)
        self.flush()
        self.assertEqual(visibility.first_promised_date, start + timedelta(days=2))
        self.assertEqual(visibility.promise_change_ids.with_user(self.ov_user).new_date, start + timedelta(days=9))

    def test_other_company_does_not_see_promise_changes(self):
        company_b = self.setup_second_company()["company"]
        admin_b = self.new_user(
            "ov_sl_admin_b",
            "order_visibility.group_order_visibility_admin,sales_team.group_sale_manager,base.group_system",
            company_b,
        )
        self.set_stock(self.goods, 1)
        order, start = self.confirmed_order([(self.goods, 1)])
        order.commitment_date = start + timedelta(days=5)
        visibility = self.visibility(order)
        changes = visibility.promise_change_ids
        self.assertEqual(len(changes), 1)
        PromiseChange = self.env["order.visibility.promise.change"]
        self.assertEqual(PromiseChange.with_user(self.ov_user).search([("id", "=", changes.id)]), changes)
        self.assertFalse(PromiseChange.with_user(admin_b).search([]))
        with self.assertRaises(AccessError):
            changes.with_user(admin_b).read(["new_date"])

    def test_dutch(self):
        self.setup_dutch()
        dutch = self.new_user(
            "ov_sl_nl", "order_visibility.group_order_visibility_admin,base.group_system", lang="nl_NL"
        )
        labels = dict(
            self.env["order.visibility.promise.change"]
            .with_user(dutch)
            .with_context(lang="nl_NL")
            ._fields["cause"]
            ._description_selection(self.env(user=dutch, context={"lang": "nl_NL"}))
        )
        self.assertEqual(
            labels,
            {
                "customer_request": "Verzoek van de klant",
                "supplier_delay": "Vertraging van de leverancier",
                "carrier_eta": "Verwachte aankomst vervoerder",
                "order_edited": "Order gewijzigd",
                "other": "Anders",
            },
        )
        with self.assertRaisesRegex(ValidationError, r"Marge voor op tijd \(uren\) mag niet negatief zijn."):
            self.env["res.config.settings"].with_user(dutch).with_context(lang="nl_NL").create(
                {"ov_otif_grace_hours": -2}
            ).execute()

    # -- exceptions ---------------------------------------------------------

    def test_exception_times_to_acknowledge_and_resolve(self):
        order = self.create_order([(self.goods, 4)])
        start = order.create_date.replace(microsecond=0)
        with freeze_time(start):
            order.action_confirm()
            self.flush()
        shortage = self.visibility(order).exception_ids.filtered(lambda e: e.code == "stock_shortage")
        self.assertEqual(len(shortage), 1)
        with freeze_time(start + timedelta(hours=2)):
            shortage.action_acknowledge()
        self.assertEqual((shortage.hours_to_acknowledge, shortage.hours_to_resolve), (2.0, 0.0))
        with freeze_time(start + timedelta(hours=5, minutes=30)):
            self.receive(self.goods, 4)
            order.picking_ids.action_assign()
            self.flush()
        self.assertEqual(shortage.state, "resolved")
        self.assertEqual((shortage.hours_to_acknowledge, shortage.hours_to_resolve), (2.0, 5.5))

    # -- existing databases and cost ------------------------------------------

    def test_upgrade_keeps_first_promises_and_measures_shipped_orders(self):
        migration = load_script(str(MIGRATION), "order_visibility_post_migrate_1_2")
        self.set_stock(self.goods, 10)
        shipped, start = self.confirmed_order([(self.goods, 6)])
        self.deliver_at(start + timedelta(days=1), shipped.picking_ids, {self.goods: 4})
        self.deliver_at(start + timedelta(days=3), self.open_pickings(shipped))
        with freeze_time(start + timedelta(days=4)):
            self.pay(self.invoice(shipped))
            self.flush()
        open_order, _start = self.confirmed_order([(self.goods, 2)])
        quotation = self.create_order([(self.goods, 1)])
        visibilities = self.visibility(shipped) | self.visibility(open_order) | self.visibility(quotation)
        # As a database before 19.0.1.2.0 has them: no first promise, nothing measured.
        expected = {v: self.measures(v) | {"first_promised_date": v.first_promised_date} for v in visibilities}
        visibilities.sudo().write(dict.fromkeys(MEASURES, False) | {"first_promised_date": False})
        self.env.flush_all()
        migration.migrate(self.env.cr, "19.0.1.1.0")
        self.env.invalidate_all()
        for visibility in visibilities:
            self.assertEqual(
                self.measures(visibility) | {"first_promised_date": visibility.first_promised_date},
                expected[visibility],
            )
        self.assertEqual(self.visibility(shipped).fill_rate, round(4 / 6, 4))
        self.assertEqual(self.visibility(shipped).confirmed_to_paid_hours, 93.0)
        self.assertFalse(self.visibility(quotation).first_promised_date)

    def _shipped_visibilities(self, count):
        self.set_stock(self.goods, 2 * count)
        self.set_stock(self.goods_b, count)
        orders = self.env["sale.order"]
        for _i in range(count):
            orders |= self.create_order(
                [(self.goods, 2), (self.goods_b, 1)], commitment_date=fields.Datetime.now() + timedelta(days=1)
            )
        orders.action_confirm()
        for picking in orders.picking_ids:
            self.deliver(picking)
        self.flush()
        visibilities = self.env["order.visibility"].search([("sale_order_id", "in", orders.ids)])
        self.assertEqual(set(visibilities.mapped("is_measured")), {True})
        return visibilities

    def _assert_measure_queries(self, visibilities):
        """Measuring the orders of a pass: one query for their moves, one UPDATE,
        and 2 of Odoo's automation rules (the rule and its model read, the cache
        being cleared; the on-write rules of order.visibility are searched once
        per transaction, by the warm-up here: models/base_automation.py)."""
        Visibility = self.env["order.visibility"].sudo()
        fields_to_measure = [Visibility._fields[name] for name in MEASURES]

        def measure():
            visibilities.sudo().write(dict.fromkeys(MEASURES, False))
            self.env.flush_all()
            self.env.invalidate_all()
            # As the engine's pass has them: the records and their orders loaded.
            engine = Visibility.search([("id", "in", visibilities.ids)])
            engine.sale_order_id.fetch(["state", "date_order"])
            for field in fields_to_measure:
                self.env.add_to_compute(field, engine)
            return engine

        measure()
        Visibility.flush_model()  # warm-up: parameters, precisions
        engine = measure()
        # flush=False: Odoo's default flush on entering would compute them before counting.
        with self.assertQueryCount(4, flush=False):
            Visibility.flush_model()
        self.assertEqual(set(engine.mapped("is_otif")), {True})

    def test_measuring_costs_the_same_for_1_and_10_orders(self):
        self._assert_measure_queries(self._shipped_visibilities(1))
        self._assert_measure_queries(self._shipped_visibilities(10))
