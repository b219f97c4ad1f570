# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The control tower's one aggregated call: figures, domains, rights, cost."""

import json
from collections import Counter
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.addons.order_visibility_dashboard import uninstall_hook
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged, warmup

from .common import ControlTowerCommon

NOW = datetime(2026, 6, 10, 12, 0, 0)


@tagged("post_install", "-at_install")
class TestControlTowerData(ControlTowerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ov_user, cls.ov_user_ab = cls.setup_tower_companies("tower")
        cls.salesman = new_test_user(cls.env, "ov_tower_salesman", groups="sales_team.group_sale_salesman")

    def tower(self, filters=None, user=None, companies=None):
        model = self.env["order.visibility"]
        if user:
            model = model.with_user(user)
        if companies:
            model = model.with_context(allowed_company_ids=companies.ids)
        return model.get_control_tower_data(filters or {})

    def late_awaiting_order(self, **values):
        """Confirmed, nothing in stock (the vendor needs 10 days), promised 2 days ago."""
        order = self.create_order(
            [(self.goods, 5)], commitment_date=fields.Datetime.now() - timedelta(days=2), **values
        )
        order.action_confirm()
        return order

    def build_orders(self):
        quotation = self.create_order([(self.goods_b, 1)])
        self.set_stock(self.goods_b, 8)
        ready = self.create_order([(self.goods_b, 5)], commitment_date=fields.Datetime.now() + timedelta(days=10))
        ready.action_confirm()
        late = self.late_awaiting_order()
        shipped = self.create_order([(self.goods_b, 3)])
        shipped.action_confirm()
        self.flush()
        self.deliver(shipped.picking_ids)
        self.flush()
        return quotation, ready, late, shipped

    def assertDrillDown(self, model, figure, domain):
        """The list a figure opens shows exactly as many records."""
        self.assertEqual(self.env[model].search_count(domain), figure, domain)

    # ------------------------------------------------------------------

    def test_every_tile_on_a_constructed_data_set(self):
        with freeze_time(NOW):
            quotation, ready, late, shipped = self.build_orders()
            self.assertStage(quotation, "draft")
            self.assertStage(ready, "ready_to_ship")
            late_visibility = self.assertStage(late, "awaiting_stock")
            self.assertStage(shipped, "shipped")
            shortage = late_visibility.exception_ids.filtered(lambda e: e.code == "stock_shortage")
            self.assertEqual(len(shortage), 1)
            # Open for two days, never acknowledged: past its type's 24 hours.
            shortage.sudo().opened_at = NOW - timedelta(days=2)
            self.flush()
            data = self.tower()

        self.assertEqual(
            [row["stage"] for row in data["stages"]],
            [code for code, _label in self.env["order.visibility"]._fields["stage"].selection],
            "every stage code, in the engine's order",
        )
        counts = {row["stage"]: row["count"] for row in data["stages"]}
        self.assertEqual(
            {stage: count for stage, count in counts.items() if count},
            {"draft": 1, "ready_to_ship": 1, "awaiting_stock": 1, "shipped": 1},
        )
        for row in data["stages"]:
            self.assertDrillDown("order.visibility", row["count"], row["domain"])

        open_exceptions = self.env["order.visibility.exception"].search([("state", "!=", "resolved")])
        expected = Counter(open_exceptions.mapped("severity"))
        self.assertEqual(
            data["exceptions_by_severity"],
            {severity: expected.get(severity, 0) for severity in ("low", "medium", "high", "critical")},
        )
        for row in data["severities"]:
            self.assertDrillDown("order.visibility.exception", row["count"], row["domain"])

        tiles = data["tiles"]
        self.assertEqual(tiles["late"]["count"], 1)
        self.assertEqual(tiles["at_risk"]["count"], 1, "only the late order waiting for the vendor is at risk")
        self.assertEqual(tiles["sla_breaches"]["count"], 1)
        self.assertEqual(tiles["open_exceptions"]["count"], len(open_exceptions))
        with freeze_time(NOW):
            for key, model in (
                ("late", "order.visibility"),
                ("at_risk", "order.visibility"),
                ("sla_breaches", "order.visibility.exception"),
                ("open_exceptions", "order.visibility.exception"),
            ):
                self.assertDrillDown(model, tiles[key]["count"], tiles[key]["domain"])

        self.assertEqual(data["top_at_risk"][0]["id"], late_visibility.id)
        self.assertTrue(data["top_at_risk"][0]["explanation"])
        queue = data["queue"]
        self.assertEqual(queue["total"], len(open_exceptions))
        self.assertEqual({row["id"] for row in queue["records"]}, set(open_exceptions.ids))
        self.assertTrue(next(row for row in queue["records"] if row["id"] == shortage.id)["overdue"])
        self.assertFalse(data["webhooks"] and "order.visibility.webhook.delivery" not in self.env)
        self.assertEqual(
            [job["code"] for job in data["automation"]["jobs"]], ["exception_sweep", "escalation", "reconcile"]
        )
        self.assertTrue(data["rights"]["manager"])

    def test_aging_buckets_at_their_edges(self):
        ages = {
            "0_1": [timedelta(0), timedelta(days=1)],
            "1_3": [timedelta(days=1, seconds=1), timedelta(days=3)],
            "3_7": [timedelta(days=3, seconds=1), timedelta(days=7)],
            "7_plus": [timedelta(days=7, seconds=1), timedelta(days=40)],
        }
        with freeze_time(NOW):
            orders = self.env["sale.order"]
            for _bucket, deltas in ages.items():
                for _delta in deltas:
                    orders |= self.create_order([(self.goods_b, 1)])
            self.flush()
            visibilities = self.env["order.visibility"].search([("sale_order_id", "in", orders.ids)])
            by_order = {v.sale_order_id: v for v in visibilities}
            for order, delta in zip(orders, [d for deltas in ages.values() for d in deltas], strict=False):
                by_order[order].sudo().stage_since = NOW - delta
            self.flush()
            data = self.tower()
            draft = next(row for row in data["aging"]["rows"] if row["stage"] == "draft")
            self.assertEqual({key: cell["count"] for key, cell in draft["buckets"].items()}, dict.fromkeys(ages, 2))
            for cell in draft["buckets"].values():
                self.assertDrillDown("order.visibility", cell["count"], cell["domain"])
        self.assertEqual([b["key"] for b in data["aging"]["buckets"]], list(ages))
        self.assertNotIn("paid", [row["stage"] for row in data["aging"]["rows"]], "closed stages do not age")

    def test_trend_days(self):
        """Confirmed and shipped per day, exceptions opened and resolved per day."""
        day = NOW.replace(hour=9)
        self.set_stock(self.goods_b, 10)
        with freeze_time(day - timedelta(days=2)):
            first = self.create_order([(self.goods_b, 2)])
            first.action_confirm()
            short = self.create_order([(self.goods, 1)])
            short.action_confirm()  # nothing in stock: a stock shortage opens
            self.flush()
        with freeze_time(day - timedelta(days=1)):
            for _n in range(2):
                self.create_order([(self.goods_b, 1)]).action_confirm()
            self.deliver(first.picking_ids)
            self.flush()
        with freeze_time(day):
            self.receive(self.goods, 1)  # the shortage clears and resolves
            self.flush()
            data = self.tower({"period": 7})
            with_14 = self.tower()
        throughput, exceptions = data["throughput"], data["exception_trend"]
        self.assertEqual(len(throughput["days"]), 8, "the 7 days before today, and today")
        self.assertEqual(throughput["days"][-1], "2026-06-10")
        self.assertEqual(len(with_14["throughput"]["days"]), 15)
        self.assertEqual(throughput["confirmed"][-3:], [2, 2, 0])
        self.assertEqual(throughput["shipped"][-3:], [0, 1, 0])
        self.assertEqual(exceptions["opened"][-3:], [1, 0, 0])
        self.assertEqual(exceptions["resolved"][-3:], [0, 0, 1])
        with freeze_time(day):
            self.assertDrillDown("order.visibility.transition", 4, throughput["confirmed_domain"])
            self.assertDrillDown("order.visibility.transition", 1, throughput["shipped_domain"])

    def test_days_counted_as_read_group_groups_them(self):
        """The trends count each record in the day ``_read_group`` puts it in
        (the context's time zone), also around midnight and where the
        clocks jump at midnight."""
        self.set_stock(self.goods_b, 20)
        # Around midnight UTC: late evening, midnight, early morning.
        for moment in (NOW.replace(hour=22, minute=30), NOW.replace(hour=0), NOW.replace(hour=2, minute=15)):
            for delta in (timedelta(days=1), timedelta(days=2)):
                with freeze_time(moment - delta):
                    order = self.create_order([(self.goods_b, 1)])
                    order.action_confirm()
                    self.create_order([(self.goods, 1)]).action_confirm()  # opens a stock shortage
                    self.flush()
                    self.deliver(order.picking_ids)
                    self.flush()
        Transition = self.env["order.visibility.transition"]
        Exception_ = self.env["order.visibility.exception"]
        for tz in ("UTC", "Europe/Brussels", "Pacific/Kiritimati", "America/Santiago"):
            tower = self.env["order.visibility"].with_context(tz=tz)
            with freeze_time(NOW):
                data = tower.get_control_tower_data({"period": 7})
            throughput, trend = data["throughput"], data["exception_trend"]
            for model, domain, field, figures in (
                (Transition, throughput["confirmed_domain"], "changed_at", throughput["confirmed"]),
                (Transition, throughput["shipped_domain"], "changed_at", throughput["shipped"]),
                (Exception_, trend["opened_domain"], "opened_at", trend["opened"]),
            ):
                groups = model.with_context(tz=tz)._read_group(domain, [f"{field}:day"], ["__count"])
                expected = {fields.Date.to_string(day): count for day, count in groups}
                self.assertEqual(
                    dict(zip(throughput["days"], figures, strict=True)),
                    {day: expected.get(day, 0) for day in throughput["days"]},
                    f"{tz}: {domain}",
                )
                self.assertTrue(any(figures), f"{tz}: {domain}")
        # Santiago's clocks jump from midnight to 1 am on 2026-09-06: that
        # day starts at 04:00 UTC (1 am, UTC-3), the day before at 04:00
        # UTC too (midnight, UTC-4).
        starts = (
            self.env["order.visibility.control.tower"]
            .with_context(tz="America/Santiago")
            ._day_starts([datetime(2026, 9, 5).date(), datetime(2026, 9, 6).date()])
        )
        self.assertEqual(starts, [datetime(2026, 9, 5, 4), datetime(2026, 9, 6, 4), datetime(2026, 9, 7, 3)])

    def test_filters_on_exceptions_and_transitions(self):
        """The warehouse, sales team and customer priority stored on
        exceptions and transitions follow their order, and every figure
        of a filtered control tower is its drill-down's count."""
        other_warehouse = self.env["stock.warehouse"].create(
            {"name": "OV Tower Third", "code": "OVT3", "company_id": self.company.id}
        )
        team = self.env["crm.team"].create({"name": "OV Tower Filter Team"})
        important = self.env["res.partner"].create({"name": "OV Tower Filter Key Account", "ov_priority": "1"})
        with freeze_time(NOW):
            here = self.late_awaiting_order()
            there = self.create_order([(self.goods, 2)], warehouse=other_warehouse, partner=important)
            there.action_confirm()
            self.flush()
            visibilities = (here | there).visibility_ids
            exceptions = visibilities.exception_ids
            transitions = visibilities.transition_ids
            self.assertTrue(exceptions.filtered(lambda e: e.visibility_id.sale_order_id == there))

            def assert_stored():
                self.env.invalidate_all()
                for record in [*exceptions, *transitions]:
                    visibility = record.visibility_id
                    self.assertEqual(
                        (record.warehouse_id, record.team_id, record.customer_priority),
                        (visibility.warehouse_id, visibility.team_id, visibility.customer_priority),
                    )

            assert_stored()
            there.team_id = team
            important.ov_priority = "2"
            self.flush()
            assert_stored()
            self.assertEqual(there.visibility_ids.customer_priority, "2")

            def figures(filters):
                data = self.tower(filters)
                exception_count = data["tiles"]["open_exceptions"]["count"]
                for row in data["severities"]:
                    self.assertDrillDown("order.visibility.exception", row["count"], row["domain"])
                for key in ("open_exceptions", "unacknowledged", "sla_breaches"):
                    self.assertDrillDown(
                        "order.visibility.exception", data["tiles"][key]["count"], data["tiles"][key]["domain"]
                    )
                throughput = data["throughput"]
                self.assertDrillDown(
                    "order.visibility.transition", sum(throughput["confirmed"]), throughput["confirmed_domain"]
                )
                opened = data["exception_trend"]
                self.assertDrillDown("order.visibility.exception", sum(opened["opened"]), opened["opened_domain"])
                return exception_count, sum(throughput["confirmed"])

            there_exceptions = len(exceptions.filtered(lambda e: e.visibility_id.sale_order_id == there))
            self.assertEqual(figures({"warehouse_id": other_warehouse.id}), (there_exceptions, 1))
            self.assertEqual(figures({"team_id": team.id}), (there_exceptions, 1))
            self.assertEqual(figures({"priority": "2"}), (there_exceptions, 1))
            here_priority = here.visibility_ids.customer_priority
            self.assertNotEqual(here_priority, "2")
            here_exceptions = len(exceptions) - there_exceptions
            self.assertEqual(figures({"priority": here_priority}), (here_exceptions, 1))
            self.assertEqual(figures({}), (len(exceptions), 2))

    def test_access_per_group_and_company(self):
        self.late_awaiting_order()
        order_b = self.order_b(2)
        order_b.with_company(self.company_b).action_confirm()
        self.flush()

        def total(data):
            return sum(row["count"] for row in data["stages"])

        def exceptions(data):
            return sum(data["exceptions_by_severity"].values())

        admin_all = self.tower(companies=self.company | self.company_b)
        only_a = self.tower(user=self.ov_user)
        only_b = self.tower(companies=self.company_b)
        self.assertEqual(total(only_a), 1)
        self.assertEqual(total(only_b), 1)
        self.assertEqual(total(admin_all), 2)
        self.assertEqual(exceptions(admin_all), exceptions(only_a) + exceptions(only_b))
        self.assertEqual([c["id"] for c in only_a["options"]["companies"]], self.company.ids)
        self.assertFalse(only_a["rights"]["manager"])
        # The second company of the user, filtered: its figures only.
        both = self.tower(user=self.ov_user_ab, companies=self.company | self.company_b)
        self.assertEqual(total(both), 2)
        filtered = self.tower(
            {"company_ids": self.company_b.ids}, user=self.ov_user_ab, companies=self.company | self.company_b
        )
        self.assertEqual(total(filtered), 1)
        self.assertEqual(exceptions(filtered), exceptions(only_b))
        with self.assertRaises(UserError):
            self.tower({"company_ids": self.company_b.ids}, user=self.ov_user)
        with self.assertRaises(AccessError):
            self.tower(user=self.salesman)

    def test_filters(self):
        self.late_awaiting_order()
        other_warehouse = self.env["stock.warehouse"].create(
            {"name": "OV Tower Second", "code": "OVT2", "company_id": self.company.id}
        )
        self.create_order([(self.goods_b, 1)], warehouse=other_warehouse)
        important = self.env["res.partner"].create({"name": "OV Tower Key Account", "ov_priority": "2"})
        team = self.env["crm.team"].create({"name": "OV Tower Team"})
        self.create_order([(self.goods_b, 1)], partner=important, team_id=team.id)
        self.flush()

        def total(filters):
            return sum(row["count"] for row in self.tower(filters)["stages"])

        self.assertEqual(total({}), 3)
        self.assertEqual(total({"warehouse_id": other_warehouse.id}), 1)
        self.assertEqual(total({"priority": "2"}), 1)
        self.assertEqual(total({"team_id": team.id}), 1)
        warehouse_data = self.tower({"warehouse_id": self.warehouse.id})
        self.assertEqual(sum(warehouse_data["exceptions_by_severity"].values()), warehouse_data["queue"]["total"])
        self.assertIn(other_warehouse.id, [w["id"] for w in warehouse_data["options"]["warehouses"]])
        for bad in ({"period": 9}, {"warehouse_id": "x"}, {"priority": "7"}, {"nope": 1}, {"queue_order": "id;"}):
            with self.assertRaises(UserError):
                self.tower(bad)

    @warmup
    def test_query_count_does_not_grow_with_orders(self):
        """The figures cost the same, known number of queries for 2 orders
        as for 26 (warmed up: record rules and parameters are cached)."""
        self.set_stock(self.goods_b, 100)

        def orders(count):
            for _n in range(count):
                self.create_order([(self.goods_b, 1)]).action_confirm()
                self.late_awaiting_order()
            self.flush()

        def assert_tower_queries():
            self.tower()  # warm the caches (parameters, xml ids)
            self.env.invalidate_all()
            with self.assertQueryCount(24):
                self.tower()

        orders(1)
        assert_tower_queries()
        orders(12)
        self.env.invalidate_all()
        assert_tower_queries()

    def test_one_bus_notice_per_company_and_transaction(self):
        Bus = self.env["bus.bus"].sudo()

        def commit():
            self.commit()
            return Bus.search([("channel", "like", "order_visibility_control_tower")])

        before = commit()
        self.set_stock(self.goods_b, 10)
        for _n in range(3):
            self.create_order([(self.goods_b, 1)]).action_confirm()
        self.late_awaiting_order()
        order_b = self.order_b(1, product=self.goods_b)
        order_b.with_company(self.company_b).action_confirm()
        notices = commit() - before
        self.assertEqual(len(notices), 2, "one notice per company for all the changes of one transaction")
        self.assertEqual(
            sorted(json.loads(n.message)["payload"]["company_id"] for n in notices),
            sorted((self.company | self.company_b).ids),
        )
        # A recompute that changes nothing notifies nobody.
        self.env["order.visibility"]._recompute_orders(self.env["sale.order"].search([]))
        self.assertEqual(commit() - before, notices)
        # Nothing is sent before the commit: a rolled back change notifies nobody.
        self.create_order([(self.goods_b, 1)]).action_confirm()
        self.flush()
        self.assertEqual(Bus.search([("channel", "like", "order_visibility_control_tower")]) - before, notices)
        self.env.cr.postcommit.clear()

    def test_websocket_channel_of_each_allowed_company(self):
        channels = self.env["ir.websocket"].with_user(self.ov_user_ab)._control_tower_channels()
        self.assertCountEqual(
            channels,
            [(self.company, "order_visibility_control_tower"), (self.company_b, "order_visibility_control_tower")],
        )
        self.assertEqual(self.env["ir.websocket"].with_user(self.salesman)._control_tower_channels(), [])

    def test_scheduled_runs_are_timed(self):
        self.late_awaiting_order()
        self.sweep()
        jobs = {job["code"]: job for job in self.tower()["automation"]["jobs"]}
        self.assertIsNotNone(jobs["exception_sweep"]["duration_ms"])
        self.assertFalse(jobs["exception_sweep"]["failing"])
        self.assertIsNone(jobs["reconcile"]["duration_ms"])
        self.env["ir.config_parameter"].set_param("order_visibility.last_reconcile_failures", 2)
        self.env["ir.config_parameter"].set_param("order_visibility.last_drift", 3)
        automation = self.tower()["automation"]
        reconcile = next(job for job in automation["jobs"] if job["code"] == "reconcile")
        self.assertEqual(reconcile["item_failures"], 2)
        self.assertTrue(reconcile["failing"] and automation["failing"])
        self.assertEqual(automation["drift"], 3)

    def test_scheduled_action_errors_are_shown_to_administrators_only(self):
        self.env["order.visibility.cron.run"].sudo().create(
            {
                "cron_code": "reconcile",
                "started_at": fields.Datetime.now(),
                "duration_ms": 12,
                "failed": True,
                "error": "relation sale_order_secret does not exist",
            }
        )
        admin = self.new_user("ov_tower_admin", "order_visibility.group_order_visibility_admin")
        for user, shown in ((admin, True), (self.ov_user, False)):
            with self.subTest(user=user.login):
                self.env.invalidate_all()
                jobs = {job["code"]: job for job in self.tower(user=user)["automation"]["jobs"]}
                self.assertTrue(jobs["reconcile"]["failing"], "everybody sees that it failed")
                self.assertEqual(
                    jobs["reconcile"]["last_error"], "relation sale_order_secret does not exist" if shown else ""
                )

    def test_menu_opens_on_the_control_tower_until_uninstalled(self):
        root = self.env.ref("order_visibility.menu_order_visibility_root")
        tower = self.env.ref("order_visibility_dashboard.action_order_visibility_control_tower")
        self.assertEqual(root.action, tower)
        first = self.env["ir.ui.menu"].search([("parent_id", "=", root.id)], limit=1)
        self.assertEqual(first, self.env.ref("order_visibility_dashboard.menu_order_visibility_control_tower"))
        uninstall_hook(self.env)
        self.assertFalse(root.action)

    def test_labels_in_the_readers_language(self):
        self.setup_dutch()
        dutch = self.new_user("ov_tower_nl", "order_visibility.group_order_visibility_user", lang="nl_NL")
        english = {row["stage"]: row["label"] for row in self.tower()["stages"]}
        data = self.env["order.visibility"].with_user(dutch).with_context(lang="nl_NL").get_control_tower_data({})
        dutch_labels = {row["stage"]: row["label"] for row in data["stages"]}
        self.assertEqual(set(dutch_labels), set(english))
        self.assertNotEqual(dutch_labels, english, "stage names are read in Dutch")

    def test_webhook_health_tile(self):
        """With the webhooks addon: deliveries of the last 24 h per state,
        p95 latency, backlog and its oldest delivery; without it, no tile
        (the dashboard does not depend on it)."""
        if "order.visibility.webhook.delivery" not in self.env:
            self.assertIs(self.tower()["webhooks"], False)
            return
        # Nothing is sent: the endpoints only need a URL the addon accepts.
        self.env["ir.config_parameter"].set_param("order_visibility_webhooks.allow_private_targets", "True")
        endpoint = self.env["order.visibility.webhook.endpoint"].create(
            {"name": "OV Tower endpoint", "url": "http://127.0.0.1:9/hook", "company_id": self.company.id}
        )
        endpoint_b = (
            self.env["order.visibility.webhook.endpoint"]
            .with_company(self.company_b)
            .create({"name": "OV Tower B", "url": "http://127.0.0.1:9/b", "company_id": self.company_b.id})
        )
        Delivery = self.env["order.visibility.webhook.delivery"].sudo()
        old_pending = Delivery.create(self._delivery(endpoint, "old", state="pending"))
        old_dead = Delivery.create(self._delivery(endpoint, "old-dead", state="dead"))
        self.env.flush_all()
        # Created 30 hours ago (create_date is the transaction's time: set it in SQL).
        self.env.cr.execute(
            "UPDATE order_visibility_webhook_delivery"
            " SET create_date = create_date - interval '30 hours' WHERE id IN %s",
            [(old_pending.id, old_dead.id)],
        )
        self.env.invalidate_all()
        latencies = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]
        Delivery.create(
            [
                self._delivery(endpoint, f"ok{n}", state="delivered", last_latency_ms=ms)
                for n, ms in enumerate(latencies)
            ]
        )
        Delivery.create(
            [
                self._delivery(endpoint, "p1", state="pending"),
                self._delivery(endpoint, "s1", state="sending"),
                self._delivery(endpoint, "f1", state="failed"),
                self._delivery(endpoint, "d1", state="dead"),
                self._delivery(endpoint_b, "b1", state="dead"),
            ]
        )
        self.env.flush_all()
        hooks = self.tower(companies=self.company)["webhooks"]
        both = self.tower(companies=self.company | self.company_b)["webhooks"]
        user_view = self.tower(user=self.ov_user)["webhooks"]
        Listed = self.env["order.visibility.webhook.delivery"].with_context(allowed_company_ids=self.company.ids)
        for key in ("delivered", "pending", "failed", "dead", "backlog"):
            self.assertEqual(Listed.search_count(hooks[key]["domain"]), hooks[key]["count"], key)
        self.assertEqual(hooks["delivered"]["count"], 10)
        self.assertEqual(hooks["pending"]["count"], 2, "pending and sending, last 24 h")
        self.assertEqual(hooks["failed"]["count"], 1)
        self.assertEqual(hooks["dead"]["count"], 1, "the dead delivery of 30 h ago is out of the window")
        self.assertEqual(hooks["backlog"]["count"], 4, "every delivery still to send, whatever its age")
        self.assertEqual(hooks["oldest_pending_id"], old_pending.id)
        self.assertEqual(hooks["p95_latency_ms"], round(90 + 0.55 * 910), "percentile_cont(0.95) of the latencies")
        self.assertEqual(both["dead"]["count"], 2, "the second company's deliveries with both companies")
        self.assertEqual(user_view["dead"]["count"], 1, "a user of the first company only sees its deliveries")

    def _delivery(self, endpoint, key, **values):
        return {
            "endpoint_id": endpoint.id,
            "company_id": endpoint.company_id.id,
            "event_id": f"msg_ov_tower_{key}",
            "event_type": "order.status_changed",
            "payload": "{}",
            **values,
        }
