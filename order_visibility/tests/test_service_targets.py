# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A customer's OTIF on its form (rolling 90 days, the company and its
contacts), its OTIF target and the service level breach the sweep opens
under it, and the exception analysis by type."""

from datetime import timedelta

from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import OrderVisibilityCommon

BREACH = "service_level_breach"


@tagged("post_install", "-at_install")
class TestServiceTargets(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ov_user = cls.new_user(
            "ov_st_user", "order_visibility.group_order_visibility_user,sales_team.group_sale_salesman_all_leads"
        )
        cls.seller = cls.new_user("ov_st_seller", "sales_team.group_sale_salesman_all_leads,stock.group_stock_user")
        cls.account_manager = cls.new_user("ov_st_am", "sales_team.group_sale_salesman_all_leads")
        cls.customer.write({"is_company": True, "user_id": cls.account_manager.id})
        cls.contact = cls.env["res.partner"].create({"name": "Ana Ribeiro", "parent_id": cls.customer.id})
        cls.other_customer = cls.env["res.partner"].create({"name": "Dock Street Deli", "is_company": True})
        cls.env["ir.config_parameter"].set_param("order_visibility.otif_breach_min_orders", 3)
        cls.Exception = cls.env["order.visibility.exception"]

    def setUp(self):
        super().setUp()
        # Every order of a test is created "now" and measured days later.
        self.start = self.env.cr.now().replace(microsecond=0)

    def shipped_order(self, partner, shipped_after_days, company=None, warehouse=None):
        """An order of ``partner`` promised 2 days after ``self.start``,
        confirmed then, all its goods shipped ``shipped_after_days`` days after
        ``self.start`` (on time and in full when <= 2)."""
        company, warehouse = company or self.company, warehouse or self.warehouse
        self.set_stock(self.goods, 2, warehouse.lot_stock_id)
        with freeze_time(self.start):
            order = self.create_order(
                [(self.goods, 2)],
                partner=partner,
                warehouse=warehouse,
                company_id=company.id,
                commitment_date=self.start + timedelta(days=2),
            )
            order.with_company(company).action_confirm()
            self.flush()
        with freeze_time(self.start + timedelta(days=shipped_after_days)):
            self.deliver(order.picking_ids.with_company(company))
            self.flush()
        return order

    def breaches(self, states=("open", "acknowledged", "snoozed")):
        return self.Exception.search([("code", "=", BREACH), ("state", "in", list(states))])

    def figures(self, partners, user=None, at=None):
        partners = partners.with_user(user or self.ov_user)
        with freeze_time(at or self.start + timedelta(days=4)):
            partners.invalidate_recordset(["ov_otif_rate", "ov_measured_count"])
            return {p: (p.ov_otif_rate, p.ov_measured_count) for p in partners}

    # -- the customer form --------------------------------------------------

    def test_smart_button_counts_the_contacts_under_the_company_over_90_days(self):
        first = self.shipped_order(self.customer, 1)  # on time and in full
        self.shipped_order(self.contact, 3)  # late: shipped after the promise
        self.shipped_order(self.contact, 1)
        self.create_order([(self.goods, 1)], partner=self.contact).action_confirm()  # not shipped: not measured
        people = self.customer | self.contact | self.other_customer
        self.assertEqual(
            self.figures(people),
            {self.customer: (66.7, 3), self.contact: (66.7, 3), self.other_customer: (0.0, 0)},
        )
        # The window: the last 90 days, its first instant included.
        edge = self.start + timedelta(days=1 + 90)
        self.assertEqual(self.figures(self.customer, at=edge), {self.customer: (66.7, 3)})
        self.assertEqual(self.figures(self.customer, at=edge + timedelta(seconds=1)), {self.customer: (0.0, 1)})
        # The button opens those orders.
        with freeze_time(self.start + timedelta(days=4)):
            action = self.contact.with_user(self.ov_user).action_view_ov_measured_orders()
        orders = self.env["order.visibility"].with_user(self.ov_user).search(action["domain"])
        self.assertEqual(len(orders), 3)
        self.assertIn(self.visibility(first), orders)
        self.assertEqual(set(orders.mapped("is_measured")), {True})

    def test_smart_button_is_for_order_visibility_users(self):
        self.shipped_order(self.customer, 1)
        arch = self.customer.with_user(self.ov_user).get_views([(False, "form")])["views"]["form"]["arch"]
        button = etree.fromstring(arch).xpath("//button[@name='action_view_ov_measured_orders']")
        self.assertEqual(len(button), 1, "Order Visibility users see the button")
        self.assertIn("No measured orders", etree.tostring(button[0], encoding="unicode"))
        arch = self.customer.with_user(self.seller).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertFalse(etree.fromstring(arch).xpath("//button[@name='action_view_ov_measured_orders']"))
        with self.assertRaises(AccessError):
            self.customer.with_user(self.seller).action_view_ov_measured_orders()
        with self.assertRaises(AccessError):
            self.customer.with_user(self.seller).read(["ov_otif_rate"])

    def test_figures_of_many_customers_cost_the_same_queries(self):
        self.shipped_order(self.customer, 1)
        self.shipped_order(self.other_customer, 3)
        shops = self.env["res.partner"].create([{"name": f"Shop {i}", "is_company": True} for i in range(10)])

        def queries(partners):
            partners = partners.with_user(self.ov_user)
            partners.fetch(["commercial_partner_id"])
            partners.invalidate_recordset(["ov_otif_rate", "ov_measured_count"])
            with freeze_time(self.start + timedelta(days=4)):
                before = self.env.cr.sql_log_count
                rates = partners.mapped("ov_otif_rate")
                return self.env.cr.sql_log_count - before, rates

        queries(self.customer)  # warm-up (rules, groups)
        one, _rates = queries(self.customer)
        many, rates = queries(self.customer | self.contact | self.other_customer | shops)
        self.assertEqual(many, one, "one grouped read for any number of customers")
        self.assertEqual(one, 1)
        self.assertEqual(rates, [100.0, 100.0, 0.0] + [0.0] * 10)

    # -- the target and the breach -----------------------------------------

    def test_target_on_the_company_contacts_follow(self):
        self.customer.ov_otif_target = 90
        self.assertEqual(self.contact.ov_otif_target, 90)
        with self.assertRaises(ValidationError):
            self.customer.ov_otif_target = 120

    def test_breach_opens_once_for_the_account_manager_and_resolves(self):
        self.customer.ov_otif_target = 80
        self.shipped_order(self.customer, 1)
        self.shipped_order(self.contact, 3)
        at = self.start + timedelta(days=5)
        self.sweep(at)
        self.assertFalse(self.breaches(), "2 measured orders: under the 3 of the Settings, nothing opens")
        missed = self.shipped_order(self.customer, 4)
        self.sweep(at)
        breach = self.breaches()
        self.assertEqual(len(breach), 1)
        self.assertEqual(
            (breach.visibility_id, breach.res_model, breach.res_id, breach.owner_id, breach.related_record),
            (self.visibility(missed), "res.partner", self.customer.id, self.account_manager, self.customer),
        )
        self.assertEqual(
            breach.detail,
            "Harbor Foods: OTIF 33.3 % over the last 90 days (1 of 3 orders on time and in full), "
            "under the 80.0 % target",
        )
        # Swept again, and after a newer miss: still the one breach, on its order.
        self.sweep(at)
        self.shipped_order(self.contact, 5)
        self.sweep(self.start + timedelta(days=6))
        self.assertEqual(self.breaches(), breach)
        self.assertEqual(breach.visibility_id, self.visibility(missed))
        # The rate reaches the target (1 of 4, 25 %): resolved automatically.
        self.customer.ov_otif_target = 25
        self.sweep(self.start + timedelta(days=6))
        self.assertEqual(breach.state, "resolved")
        self.assertFalse(self.breaches())
        # Under a target again, then the target removed.
        self.customer.ov_otif_target = 50
        self.sweep(self.start + timedelta(days=6))
        again = self.breaches()
        self.assertEqual(len(again), 1)
        self.assertNotEqual(again, breach)
        self.customer.ov_otif_target = 0
        self.sweep(self.start + timedelta(days=6))
        self.assertEqual(again.state, "resolved")

    def test_breach_follows_the_exception_type_switch(self):
        self.customer.ov_otif_target = 80
        for days in (3, 3, 3):
            self.shipped_order(self.customer, days)
        self.env.ref("order_visibility.exception_type_service_level_breach").active = False
        self.sweep(self.start + timedelta(days=5))
        self.assertFalse(self.breaches(), "the type archived: the rule is off")
        self.env.ref("order_visibility.exception_type_service_level_breach").active = True
        self.sweep(self.start + timedelta(days=5))
        self.assertEqual(len(self.breaches()), 1)

    def test_without_salesperson_the_type_falls_back(self):
        self.other_customer.ov_otif_target = 80
        for days in (3, 3, 3):
            self.shipped_order(self.other_customer, days)
        self.sweep(self.start + timedelta(days=5))
        breach = self.breaches()
        self.assertEqual(len(breach), 1)
        self.assertEqual(breach.owner_id, breach.sale_order_id.user_id, "no account manager: the order's salesperson")

    def test_rates_are_per_company(self):
        company_data = self.setup_second_company()
        company_b, warehouse_b = company_data["company"], company_data["warehouse"]
        admin_b = self.new_user(
            "ov_st_admin_b",
            "order_visibility.group_order_visibility_admin,sales_team.group_sale_manager,base.group_system",
            company_b,
        )
        self.customer.ov_otif_target = 80
        for days in (3, 3, 1):
            self.shipped_order(self.customer, days)
        for days in (1, 1, 1):
            self.shipped_order(self.customer, days, company=company_b, warehouse=warehouse_b)
        self.sweep(self.start + timedelta(days=5))
        breach = self.breaches()
        self.assertEqual(len(breach), 1, "company A misses (1 of 3), company B does not (3 of 3)")
        self.assertEqual(breach.company_id, self.company)
        self.assertFalse(self.Exception.with_user(admin_b).search([("code", "=", BREACH)]))
        with self.assertRaises(AccessError):
            breach.with_user(admin_b).read(["detail"])
        # Each reader sees the rate of the companies they work in.
        self.assertEqual(self.figures(self.customer), {self.customer: (33.3, 3)})
        self.assertEqual(self.figures(self.customer, user=admin_b), {self.customer: (100.0, 3)})

    def test_minimum_orders_setting(self):
        Settings = self.env["res.config.settings"]
        self.assertEqual(Settings.create({}).ov_otif_breach_min_orders, 3)
        Settings.create({"ov_otif_breach_min_orders": 12}).execute()
        self.assertEqual(self.env["order.visibility"]._param("order_visibility.otif_breach_min_orders"), 12)
        with self.assertRaises(ValidationError):
            Settings.create({"ov_otif_breach_min_orders": 0}).execute()

    def test_dutch(self):
        self.setup_dutch()
        self.company.partner_id.lang = "nl_NL"
        dutch = self.new_user(
            "ov_st_nl", "order_visibility.group_order_visibility_admin,base.group_system", lang="nl_NL"
        )
        self.customer.ov_otif_target = 80
        for days in (3, 3, 1):
            self.shipped_order(self.customer, days)
        self.sweep(self.start + timedelta(days=5))
        breach = self.breaches().with_user(dutch).with_context(lang="nl_NL")
        self.assertEqual(
            breach.detail,
            "Harbor Foods: OTIF 33.3 % over de laatste 90 dagen (1 van 3 orders op tijd en volledig), "
            "onder het doel van 80.0 %",
        )
        self.assertEqual(breach.type_id.name, "Serviceniveau onder doel")
        with self.assertRaisesRegex(ValidationError, "Het OTIF-doel moet tussen 0 en 100 % liggen."):
            self.customer.with_user(dutch).with_context(lang="nl_NL").ov_otif_target = 150
        with self.assertRaisesRegex(ValidationError, "minimaal 1"):
            self.env["res.config.settings"].with_user(dutch).with_context(lang="nl_NL").create(
                {"ov_otif_breach_min_orders": 0}
            ).execute()

    # -- exception analysis --------------------------------------------------

    def test_average_resolution_time_by_type(self):
        visibility = self.visibility(self.create_order([(self.goods, 1)]))
        late = self.env.ref("order_visibility.exception_type_late_shipment")
        stale = self.env.ref("order_visibility.exception_type_stale_order")
        start = self.start
        self.Exception.sudo().create(
            [
                {
                    "visibility_id": visibility.id,
                    "type_id": exception_type.id,
                    "severity": "medium",
                    "res_model": "sale.order",
                    "res_id": index,
                    "opened_at": start,
                    "acknowledged_at": ack and start + timedelta(hours=ack),
                    "resolved_at": resolve and start + timedelta(hours=resolve),
                    "state": "resolved" if resolve else ("acknowledged" if ack else "open"),
                }
                for index, (exception_type, ack, resolve) in enumerate(
                    # Not acknowledged (resolved automatically), and still open:
                    # no time yet, left out of the averages (not 0 hours).
                    ((late, 1, 2), (late, 3, 7), (late, None, 3), (late, None, None), (stale, 0.5, 10)),
                    start=1,
                )
            ]
        )
        rows = self.Exception.with_user(self.ov_user)._read_group(
            [("visibility_id", "=", visibility.id)],
            ["type_id"],
            ["hours_to_acknowledge:avg", "hours_to_resolve:avg", "__count"],
        )
        self.assertEqual(
            {t: (ack, resolve, count) for t, ack, resolve, count in rows},
            {late: (2.0, 4.0, 4), stale: (0.5, 10.0, 1)},
        )
        action = self.env.ref("order_visibility.action_order_visibility_exception_analysis")
        self.assertEqual(action.view_mode.split(",")[0], "pivot")
        pivot = etree.fromstring(self.Exception.get_views([(False, "pivot")])["views"]["pivot"]["arch"])
        self.assertEqual(pivot.xpath("//field[@type='row']/@name"), ["type_id"])
        self.assertEqual(pivot.xpath("//field[@type='measure']/@name"), ["hours_to_acknowledge", "hours_to_resolve"])
        self.assertEqual(self.Exception._fields["hours_to_resolve"].aggregator, "avg")
        # The pivot's cells read the same averages.
        [cell] = self.Exception.with_user(self.ov_user).formatted_read_group(
            [("visibility_id", "=", visibility.id), ("type_id", "=", late.id)],
            ["type_id"],
            ["hours_to_acknowledge:avg", "hours_to_resolve:avg"],
        )
        self.assertEqual((cell["hours_to_acknowledge:avg"], cell["hours_to_resolve:avg"]), (2.0, 4.0))
