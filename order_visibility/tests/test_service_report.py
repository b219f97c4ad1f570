# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The service-level report: one row per measured order, grouped by
company, warehouse, sales team, customer and month of the first promise;
group totals weighted by the orders (never the mean of the rows' rates) and
90th percentiles of the cycle times computed over a group's orders."""

from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import OrderVisibilityCommon

ROW = (
    "order_count",
    "on_time_count",
    "in_full_count",
    "otif_count",
    "on_time_rate",
    "in_full_rate",
    "otif_rate",
    "fill_rate",
    "avg_quotation_to_confirmed_hours",
    "avg_confirmed_to_shipped_hours",
)
RATES = (
    "order_count:sum",
    "on_time_rate:avg",
    "in_full_rate:avg",
    "otif_rate:avg",
    "fill_rate:avg",
    "avg_quotation_to_confirmed_hours:avg",
    "avg_confirmed_to_shipped_hours:avg",
    "avg_confirmed_to_paid_hours:avg",
)
P90 = (
    "p90_quotation_to_confirmed_hours:avg",
    "p90_confirmed_to_shipped_hours:avg",
    "p90_confirmed_to_paid_hours:avg",
)


@tagged("post_install", "-at_install")
class TestServiceReport(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ov_user = cls.new_user("ov_sr_user", "order_visibility.group_order_visibility_user")
        cls.customer_b = cls.env["res.partner"].create({"name": "Dock Street Deli"})
        cls.Report = cls.env["order.visibility.service.report"]

    def shipped_order(self, lines, shipped_after, partner=None, company=None, warehouse=None):
        """An order created now, promised 2 days after its creation,
        confirmed 3 hours after it, all its goods shipped ``shipped_after``
        its creation (a timedelta, or None: not shipped)."""
        company, warehouse = company or self.company, warehouse or self.warehouse
        for product, quantity in lines:
            self.set_stock(product, quantity, warehouse.lot_stock_id)
        order = self.create_order(lines, partner=partner, warehouse=warehouse, company_id=company.id)
        start = order.create_date.replace(microsecond=0)
        order.commitment_date = start + timedelta(days=2)
        with freeze_time(start + timedelta(hours=3)):
            order.with_company(company).action_confirm()
            self.flush()
        if shipped_after is not None:
            with freeze_time(start + shipped_after):
                self.deliver(order.picking_ids.with_company(company))
                self.flush()
        return order

    def rows(self, partners, user=None):
        """The report's rows of ``partners``: one per measured order."""
        report = self.Report.with_user(user) if user else self.Report
        return report.search([("partner_id", "in", partners.ids)])

    def groups(self, partners, user=None):
        """The report's figures of each of ``partners`` (the pivot's cell of
        a customer): counts summed, rates and averages weighted."""
        report = self.Report.with_user(user) if user else self.Report
        specs = [f"{name}:{'sum' if name.endswith('_count') else 'avg'}" for name in ROW]
        groups = report.formatted_read_group([("partner_id", "in", partners.ids)], ["partner_id"], specs)
        return {
            self.env["res.partner"].browse(group["partner_id"][0]): {
                name: group[spec] for name, spec in zip(ROW, specs, strict=True)
            }
            for group in groups
        }

    def test_rows_and_weighted_group_totals(self):
        # Harbor Foods: one order on time and in full (shipped after 21 hours
        # of confirmation), one late (69 hours): 2 orders, 1 on time.
        self.shipped_order([(self.goods, 4)], timedelta(days=1))
        self.shipped_order([(self.goods, 5)], timedelta(days=3))
        # Dock Street Deli: one order on time and in full.
        self.shipped_order([(self.goods_b, 2)], timedelta(days=1), partner=self.customer_b)
        # Not measured, so not counted: goods not shipped yet, services only.
        self.shipped_order([(self.goods_b, 1)], None, partner=self.customer_b)
        services = self.create_order([(self.service, 1)], partner=self.customer_b)
        services.action_confirm()
        self.pay(self.invoice(services))
        self.flush()
        self.assertEqual(self.visibility(services).stage, "paid")
        customers = self.customer | self.customer_b
        # One row per measured order, with the order's own figures.
        rows = self.rows(customers, user=self.ov_user)
        self.assertEqual(
            sorted(
                (
                    row.partner_id.name,
                    row.order_count,
                    row.otif_count,
                    row.otif_rate,
                    row.avg_confirmed_to_shipped_hours,
                )
                for row in rows
            ),
            [
                ("Dock Street Deli", 1, 1, 100.0, 21.0),
                ("Harbor Foods", 1, 0, 0.0, 69.0),
                ("Harbor Foods", 1, 1, 100.0, 21.0),
            ],
        )
        # The pivot's cells of the customers.
        groups = self.groups(customers, user=self.ov_user)
        self.assertEqual(
            groups,
            {
                self.customer: {
                    "order_count": 2,
                    "on_time_count": 1,
                    "in_full_count": 2,
                    "otif_count": 1,
                    "on_time_rate": 50.0,
                    "in_full_rate": 100.0,
                    "otif_rate": 50.0,
                    "fill_rate": 0.5,
                    "avg_quotation_to_confirmed_hours": 3.0,
                    "avg_confirmed_to_shipped_hours": 45.0,
                },
                self.customer_b: {
                    "order_count": 1,
                    "on_time_count": 1,
                    "in_full_count": 1,
                    "otif_count": 1,
                    "on_time_rate": 100.0,
                    "in_full_rate": 100.0,
                    "otif_rate": 100.0,
                    "fill_rate": 1.0,
                    "avg_quotation_to_confirmed_hours": 3.0,
                    "avg_confirmed_to_shipped_hours": 21.0,
                },
            },
        )
        # The pivot's cell of one row: its own rates.
        [harbor] = self.Report.with_user(self.ov_user).formatted_read_group(
            [("partner_id", "=", self.customer.id)], ["partner_id"], RATES
        )
        self.assertEqual(harbor["otif_rate:avg"], 50.0)
        # The total of both rows: 2 OTIF orders of 3, not the mean of 50 % and 100 %.
        [total] = self.Report.with_user(self.ov_user).formatted_read_group(
            [("partner_id", "in", customers.ids)], ["company_id"], RATES
        )
        mean_of_rows = sum(group["otif_rate"] for group in groups.values()) / len(groups)
        self.assertEqual(mean_of_rows, 75.0)
        self.assertEqual(total["order_count:sum"], 3)
        self.assertAlmostEqual(total["on_time_rate:avg"], 200.0 / 3)
        self.assertAlmostEqual(total["otif_rate:avg"], 200.0 / 3)
        self.assertEqual(total["in_full_rate:avg"], 100.0)
        self.assertAlmostEqual(total["fill_rate:avg"], 2.0 / 3)
        self.assertEqual(total["avg_quotation_to_confirmed_hours:avg"], 3.0)
        self.assertEqual(total["avg_confirmed_to_shipped_hours:avg"], 37.0, "(21 + 69 + 21) / 3, not (45 + 21) / 2")
        self.assertFalse(total["avg_confirmed_to_paid_hours:avg"], "no measured order is paid")
        # The p90 of the total: 21, 21, 69, position 1.8: 21 + 0.8 * 48 = 59.4.
        [p90] = self.Report.with_user(self.ov_user).formatted_read_group(
            [("partner_id", "in", customers.ids)], ["company_id"], P90
        )
        self.assertAlmostEqual(p90["p90_confirmed_to_shipped_hours:avg"], 59.4)
        self.assertEqual(p90["p90_quotation_to_confirmed_hours:avg"], 3.0)
        self.assertFalse(p90["p90_confirmed_to_paid_hours:avg"], "no measured order is paid")

    def test_paid_orders_cycle_time(self):
        order = self.shipped_order([(self.goods, 2)], timedelta(days=1))
        start = order.create_date.replace(microsecond=0)
        self.shipped_order([(self.goods, 3)], timedelta(days=1))
        with freeze_time(start + timedelta(days=3)):
            self.pay(self.invoice(order))
            self.flush()
        [total] = self.Report.formatted_read_group(
            [("partner_id", "=", self.customer.id)],
            ["company_id"],
            ["order_count:sum", "avg_confirmed_to_paid_hours:avg"],
        )
        self.assertEqual(total["order_count:sum"], 2)
        self.assertEqual(total["avg_confirmed_to_paid_hours:avg"], 69.0, "over the paid order only")
        [p90] = self.Report.formatted_read_group([("partner_id", "=", self.customer.id)], ["company_id"], P90)
        self.assertEqual(p90["p90_confirmed_to_paid_hours:avg"], 69.0, "the unpaid order is left out, not 0 hours")
        self.assertEqual(p90["p90_confirmed_to_shipped_hours:avg"], 21.0)

    def test_p90_of_a_group_and_the_total(self):
        # Harbor Foods: 10 orders shipped 1, 2, ..., 10 hours after their
        # confirmation (3 hours after their creation).
        for hours in range(1, 11):
            self.shipped_order([(self.goods, 1)], timedelta(hours=3 + hours))
        # Dock Street Deli: 2 orders shipped 40 and 60 hours after confirmation.
        for hours in (40, 60):
            self.shipped_order([(self.goods_b, 1)], timedelta(hours=3 + hours), partner=self.customer_b)
        customers = self.customer | self.customer_b
        report = self.Report.with_user(self.ov_user)
        self.assertEqual(len(report.search([("partner_id", "in", customers.ids)])), 12, "one row per order")
        groups = {
            group["partner_id"][0]: group
            for group in report.formatted_read_group(
                [("partner_id", "in", customers.ids)],
                ["partner_id"],
                ["order_count:sum", "avg_confirmed_to_shipped_hours:avg", *P90],
            )
        }
        harbor, dock = groups[self.customer.id], groups[self.customer_b.id]
        # percentile_cont(0.9) of n sorted values: position 0.9 * (n - 1),
        # interpolated between its two neighbours.
        # Harbor: 1..10, position 8.1: 9 + 0.1 * (10 - 9) = 9.1; its mean is 5.5.
        self.assertEqual(harbor["order_count:sum"], 10)
        self.assertAlmostEqual(harbor["p90_confirmed_to_shipped_hours:avg"], 9.1)
        self.assertAlmostEqual(harbor["avg_confirmed_to_shipped_hours:avg"], 5.5)
        self.assertEqual(harbor["p90_quotation_to_confirmed_hours:avg"], 3.0)
        self.assertFalse(harbor["p90_confirmed_to_paid_hours:avg"], "no order paid")
        # Dock Street: 40, 60, position 0.9: 40 + 0.9 * 20 = 58.
        self.assertAlmostEqual(dock["p90_confirmed_to_shipped_hours:avg"], 58.0)
        # The total: 1..10, 40, 60, position 9.9: 10 + 0.9 * (40 - 10) = 37,
        # not the mean of the customers' p90s, (9.1 + 58) / 2 = 33.55.
        [total] = report.formatted_read_group(
            [("partner_id", "in", customers.ids)], ["company_id"], ["order_count:sum", *P90]
        )
        self.assertEqual(total["order_count:sum"], 12)
        self.assertAlmostEqual(total["p90_confirmed_to_shipped_hours:avg"], 37.0)
        mean_of_groups = (harbor["p90_confirmed_to_shipped_hours:avg"] + dock["p90_confirmed_to_shipped_hours:avg"]) / 2
        self.assertAlmostEqual(mean_of_groups, 33.55)
        self.assertNotAlmostEqual(total["p90_confirmed_to_shipped_hours:avg"], mean_of_groups)
        self.assertEqual(total["p90_quotation_to_confirmed_hours:avg"], 3.0)
        # A row is an order: its p90 is its own hours.
        row = report.search([("partner_id", "=", self.customer_b.id)], order="id", limit=1)
        self.assertEqual(row.p90_confirmed_to_shipped_hours, 40.0)

    def test_other_company_does_not_see_the_rows(self):
        data_b = self.setup_second_company()
        company_b, warehouse_b = data_b["company"], data_b["warehouse"]
        user_b = self.new_user("ov_sr_user_b", "order_visibility.group_order_visibility_user", company_b)
        self.shipped_order([(self.goods, 1)], timedelta(days=1))
        self.shipped_order([(self.goods, 2)], timedelta(days=3), company=company_b, warehouse=warehouse_b)
        row_a = self.Report.search([("company_id", "=", self.company.id), ("partner_id", "=", self.customer.id)])
        row_b = self.Report.search([("company_id", "=", company_b.id), ("partner_id", "=", self.customer.id)])
        self.assertEqual((row_a.order_count, row_a.otif_rate), (1, 100.0))
        self.assertEqual((row_b.order_count, row_b.otif_rate, row_b.warehouse_id), (1, 0.0, warehouse_b))
        self.assertEqual(self.Report.with_user(user_b).search([]), row_b)
        self.assertEqual(self.Report.with_user(self.ov_user).search([]), row_a)
        with self.assertRaises(AccessError):
            row_a.with_user(user_b).read(["otif_rate"])
        [total_b] = self.Report.with_user(user_b).formatted_read_group([], [], ["order_count:sum"])
        self.assertEqual(total_b["order_count:sum"], 1)

    def test_dutch(self):
        self.setup_dutch()
        dutch = self.new_user("ov_sr_nl", "order_visibility.group_order_visibility_user", lang="nl_NL")
        fields_nl = (
            self.Report.with_user(dutch)
            .with_context(lang="nl_NL")
            .fields_get(
                [
                    "order_count",
                    "otif_rate",
                    "on_time_rate",
                    "fill_rate",
                    "p90_quotation_to_confirmed_hours",
                    "p90_confirmed_to_shipped_hours",
                    "p90_confirmed_to_paid_hours",
                ],
                ["string"],
            )
        )
        self.assertEqual(
            {name: field["string"] for name, field in fields_nl.items()},
            {
                "order_count": "Gemeten orders",
                "otif_rate": "OTIF (%)",
                "on_time_rate": "Op tijd (%)",
                "fill_rate": "Leveringsgraad",
                "p90_quotation_to_confirmed_hours": "Offerte → bevestiging p90 (u)",
                "p90_confirmed_to_shipped_hours": "Bevestiging → verzending p90 (u)",
                "p90_confirmed_to_paid_hours": "Bevestiging → betaling p90 (u)",
            },
        )
        menu = self.env.ref("order_visibility.menu_order_visibility_service_report")
        self.assertEqual(menu.with_context(lang="nl_NL").name, "Serviceniveaus")
