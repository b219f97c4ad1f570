# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The control tower's service-level strip: exact figures of hand-built
shipped orders in the period and the previous one, weighted totals, the
drill-downs and the company walls."""

from datetime import timedelta

from freezegun import freeze_time

from odoo.addons.order_visibility.tests.common import OrderVisibilityCommon
from odoo.tests import tagged

PERIOD = 7


@tagged("post_install", "-at_install")
class TestControlTowerServiceLevel(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_b = cls.setup_second_company(name="OV Strip B")
        cls.company_b, cls.warehouse_b = company_b["company"], company_b["warehouse"]
        cls.second_warehouse = cls.env["stock.warehouse"].create(
            {"name": "OV Strip Second", "code": "OVS2", "company_id": cls.company.id}
        )
        cls.ov_user = cls.new_user("ov_strip_user", "order_visibility.group_order_visibility_user")
        cls.admin_b = cls.new_user(
            "ov_strip_admin_b", "order_visibility.group_order_visibility_manager,base.group_system", cls.company_b
        )

    def shipped(self, start, quantity, promise_days, shipments, *, confirm_hours=3, warehouse=None, company=None):
        """An order of ``quantity`` goods created at ``start`` (the
        transaction's time), promised ``promise_days`` after it, confirmed
        ``confirm_hours`` after it, shipped in ``shipments``: [(days after
        ``start``, quantity)], each the rest of the previous one's backorder."""
        company, warehouse = company or self.company, warehouse or self.warehouse
        self.set_stock(self.goods, quantity, warehouse.lot_stock_id)
        order = self.create_order([(self.goods, quantity)], warehouse=warehouse, company_id=company.id)
        order.commitment_date = start + timedelta(days=promise_days)
        with freeze_time(start + timedelta(hours=confirm_hours)):
            order.with_company(company).action_confirm()
            self.flush()
        for days, shipped_quantity in shipments:
            picking = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
            with freeze_time(start + timedelta(days=days)):
                self.deliver(picking.with_company(company), {self.goods: shipped_quantity})
                self.flush()
        return self.visibility(order)

    def strip(self, at, filters=None, user=None, companies=None):
        model = self.env["order.visibility"]
        if user:
            model = model.with_user(user)
        if companies:
            model = model.with_context(allowed_company_ids=companies.ids)
        with freeze_time(at):
            data = model.get_control_tower_data({"period": PERIOD, **(filters or {})})
        return data["service_levels"]

    def build(self):
        """Orders created at ``start``; the control tower is read at
        ``start`` + 20 days: the period is days 13 to 20, the previous one
        days 6 to 13."""
        start = self.create_order([(self.service, 1)]).create_date.replace(microsecond=0)
        orders = {
            # Shipped before the previous period: in neither.
            "old": self.shipped(start, 1, 10, [(2, 1)]),
            # Previous period: one OTIF, two late (nothing by the promise).
            "p1": self.shipped(start, 4, 10, [(8, 4)]),
            "p2": self.shipped(start, 2, 7, [(9, 2)]),
            "p3": self.shipped(start, 1, 7, [(10, 1)]),
            # Period, main warehouse: on time in two shipments (not in full,
            # all by the promise), OTIF (then paid), late and short.
            "c1": self.shipped(start, 10, 16, [(14, 6), (15, 4)]),
            "c2": self.shipped(start, 1, 16, [(14, 1)]),
            "c3": self.shipped(start, 4, 14, [(13.5, 1), (17, 3)]),
            # Period, second warehouse: OTIF, confirmed 5 hours after its quotation.
            "c4": self.shipped(start, 2, 16, [(14, 2)], confirm_hours=5, warehouse=self.second_warehouse),
            # Not shipped yet: not measured.
            "open": self.shipped(start, 3, 16, []),
        }
        with freeze_time(start + timedelta(days=18)):
            self.pay(self.invoice(orders["c2"].sale_order_id))
            self.flush()
        self.assertEqual(orders["c2"].stage, "paid")
        return start, orders

    def measures(self, strip):
        return {row["key"]: (row["value"], row["previous"], row["direction"]) for row in strip["measures"]}

    # ------------------------------------------------------------------

    def test_period_previous_period_and_drill_downs(self):
        start, orders = self.build()
        self.assertEqual(orders["c3"].fully_shipped_date, start + timedelta(days=17))
        self.assertEqual(
            [orders[key].fill_rate for key in ("c1", "c2", "c3", "c4")], [1.0, 1.0, 0.25, 1.0], "per order"
        )
        at = start + timedelta(days=20)
        strip = self.strip(at, user=self.ov_user)
        self.assertEqual(strip["period"], PERIOD)
        self.assertEqual((strip["current"]["orders"], strip["previous"]["orders"]), (4, 3))
        self.assertEqual((strip["current"]["on_time_rate"], strip["current"]["in_full_rate"]), (75.0, 50.0))
        self.assertEqual(
            self.measures(strip),
            {
                # 2 OTIF orders of 4; 1 of 3 before.
                "otif_rate": (50.0, 33.3, "up"),
                # (1 + 1 + 0.25 + 1) / 4; (1 + 0 + 0) / 3.
                "fill_rate": (0.8125, 0.3333, "up"),
                # (3 + 3 + 3 + 5) / 4; 3.
                "quotation_to_confirmed_hours": (3.5, 3.0, "up"),
                # (357 + 333 + 405 + 331) / 4; (189 + 213 + 237) / 3.
                "confirmed_to_shipped_hours": (356.5, 213.0, "up"),
                # The paid order alone (18 days - 3 hours), not averaged over the unpaid ones; none before.
                "confirmed_to_paid_hours": (429.0, None, None),
            },
        )
        self.assertEqual(
            {row["key"]: row["higher_is_better"] for row in strip["measures"]},
            {
                "otif_rate": True,
                "fill_rate": True,
                "quotation_to_confirmed_hours": False,
                "confirmed_to_shipped_hours": False,
                "confirmed_to_paid_hours": False,
            },
        )
        # Drill-downs: OTIF opens the period's late orders, fill rate its
        # short ones, the cycle times the period's orders (paid ones for
        # confirmed to paid).
        domains = {row["key"]: row["domain"] for row in strip["measures"]}
        Visibility = self.env["order.visibility"].with_user(self.ov_user)
        self.assertEqual(Visibility.search(domains["otif_rate"]), orders["c3"])
        self.assertEqual(Visibility.search(domains["fill_rate"]), orders["c1"] | orders["c3"])
        period_orders = orders["c1"] | orders["c2"] | orders["c3"] | orders["c4"]
        self.assertEqual(Visibility.search(domains["quotation_to_confirmed_hours"]), period_orders)
        self.assertEqual(Visibility.search(domains["confirmed_to_shipped_hours"]), period_orders)
        self.assertEqual(Visibility.search(domains["confirmed_to_paid_hours"]), orders["c2"])

    def test_weighted_not_mean_of_groups_and_filters(self):
        start, _orders = self.build()
        at = start + timedelta(days=20)
        main = self.measures(self.strip(at, {"warehouse_id": self.warehouse.id}))
        second = self.measures(self.strip(at, {"warehouse_id": self.second_warehouse.id}))
        both = self.measures(self.strip(at))
        # Main warehouse: 1 OTIF of 3; second: 1 of 1. Both: 2 of 4 = 50 %,
        # not the mean of the warehouses' rates (66.7 %).
        self.assertEqual(main["otif_rate"][0], 33.3)
        self.assertEqual(second["otif_rate"][0], 100.0)
        self.assertEqual(both["otif_rate"][0], 50.0)
        self.assertNotEqual(both["otif_rate"][0], round((main["otif_rate"][0] + second["otif_rate"][0]) / 2, 1))
        # Fill rate: (1 + 1 + 0.25) / 3 and 1; both (3.25 / 4), not (0.75 + 1) / 2.
        self.assertEqual((main["fill_rate"][0], second["fill_rate"][0], both["fill_rate"][0]), (0.75, 1.0, 0.8125))
        # Confirmed to shipped: (357 + 333 + 405) / 3 = 365 and 331; both 356.5, not 348.
        self.assertEqual(
            (main["confirmed_to_shipped_hours"][0], second["confirmed_to_shipped_hours"][0]), (365.0, 331.0)
        )
        self.assertEqual(both["confirmed_to_shipped_hours"][0], 356.5)
        # The second warehouse had nothing shipped in the previous period.
        self.assertEqual(second["otif_rate"][1:], (None, None))
        # A period of 30 days: every shipped order in the period, nothing before.
        month = self.strip(at, {"period": 30})
        self.assertEqual((month["current"]["orders"], month["previous"]["orders"]), (8, 0))
        # A day with no shipped order: no figure, no direction.
        self.assertEqual(set(self.measures(self.strip(start + timedelta(days=60))).values()), {(None, None, None)})

    def test_company_walls(self):
        start, _orders = self.build()
        # Company B: one order of 2, shipped late (day 15, promised day 14).
        self.set_stock(self.goods, 2, self.warehouse_b.lot_stock_id)
        order_b = self.shipped(start, 2, 14, [(15, 2)], company=self.company_b, warehouse=self.warehouse_b)
        self.assertEqual(order_b.company_id, self.company_b)
        at = start + timedelta(days=20)
        only_b = self.strip(at, user=self.admin_b)
        self.assertEqual(only_b["current"]["orders"], 1)
        self.assertEqual(self.measures(only_b)["otif_rate"], (0.0, None, None))
        self.assertEqual(self.measures(only_b)["fill_rate"], (0.0, None, None))
        late_b = next(row["domain"] for row in only_b["measures"] if row["key"] == "otif_rate")
        self.assertEqual(self.env["order.visibility"].with_user(self.admin_b).search(late_b), order_b)
        only_a = self.strip(at, user=self.ov_user)
        self.assertEqual(only_a["current"]["orders"], 4)
        both = self.strip(at, companies=self.company | self.company_b)
        self.assertEqual(both["current"]["orders"], 5)
        self.assertEqual(self.measures(both)["otif_rate"][0], 40.0, "2 OTIF orders of 5")
        filtered = self.strip(at, {"company_ids": self.company_b.ids}, companies=self.company | self.company_b)
        self.assertEqual(filtered["current"]["orders"], 1)

    def test_dutch_terms_of_the_strip(self):
        """The strip's labels reach a Dutch web client (i18n/nl.po)."""
        self.setup_dutch(modules=("order_visibility_dashboard",))
        translations, _lang = self.env["ir.http"]._get_translations_for_webclient(
            ["order_visibility_dashboard"], "nl_NL"
        )
        messages = {row["id"]: row["string"] for row in translations["order_visibility_dashboard"]["messages"]}
        self.assertEqual(
            {term: messages.get(term) for term in ("Service levels", "Fill rate", "Late orders of the period", "%s h")},
            {
                "Service levels": "Serviceniveaus",
                "Fill rate": "Leveringsgraad",
                "Late orders of the period": "Te late orders van de periode",
                "%s h": "%s u",
            },
        )
