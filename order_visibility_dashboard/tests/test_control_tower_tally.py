# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The control tower's running counts (order.visibility.tally): kept by
PostgreSQL's triggers through every kind of change, compacted without losing
a count, read only for users whose record rules allow it."""

from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.addons.order_visibility_dashboard import uninstall_hook
from odoo.addons.order_visibility_dashboard.models.order_visibility_tally import TALLY_KEY
from odoo.fields import Command
from odoo.tests import tagged

from .common import ControlTowerCommon

NOW = datetime(2026, 6, 10, 12, 23, 45)  # not on the hour: the hours' edges are counted from the records
TALLY_GROUPS = """
    SELECT kind, company_id, warehouse_id, team_id, customer_priority, stage, bucket, score, on_time, in_full,
           SUM(count), SUM(paid), ROUND(SUM(fill_rate)::numeric, 6),
           ROUND(SUM(quotation_to_confirmed_hours)::numeric, 6), ROUND(SUM(confirmed_to_shipped_hours)::numeric, 6),
           ROUND(SUM(confirmed_to_paid_hours)::numeric, 6)
      FROM order_visibility_tally GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 HAVING SUM(count) <> 0
"""


@tagged("post_install", "-at_install")
class TestControlTowerTally(ControlTowerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_a, cls.user_ab = cls.setup_tower_companies("tally")
        cls.admin_b = cls.new_user(
            "ov_tally_admin_b",
            "order_visibility.group_order_visibility_admin,base.group_system",
            cls.company_b,
        )

    def tally_groups(self):
        self.env.flush_all()
        self.env.cr.execute(TALLY_GROUPS)
        return sorted(self.env.cr.fetchall(), key=repr)

    def assertTallyRight(self):
        """The tally kept by the triggers is the tally counted again from the tables."""
        kept = self.tally_groups()
        self.env["order.visibility.tally"]._rebuild()
        self.assertEqual(kept, self.tally_groups())
        return kept

    def orders_in_two_companies(self):
        """Orders through their stages in two companies, aged and promised
        around the hours the control tower asks about."""
        self.set_stock(self.goods_b, 20)
        with freeze_time(NOW - timedelta(days=3, minutes=10)):
            quotation = self.create_order([(self.goods_b, 1)])
            late = self.create_order([(self.goods, 5)], commitment_date=NOW - timedelta(minutes=5))
            late.action_confirm()
            shipped = self.create_order([(self.goods_b, 3)])
            shipped.action_confirm()
            self.flush()
        with freeze_time(NOW - timedelta(days=1, minutes=-5)):
            self.deliver(shipped.picking_ids)
            cancelled = self.create_order([(self.goods_b, 1)])
            cancelled.action_confirm()
            cancelled.action_cancel()
            order_b = self.order_b(commitment_date=NOW + timedelta(days=2))
            order_b.with_company(self.company_b).action_confirm()
            self.flush()
        with freeze_time(NOW - timedelta(minutes=20)):
            ready = self.create_order([(self.goods_b, 2)], commitment_date=NOW + timedelta(hours=3))
            ready.action_confirm()
            self.order_b(quantity=1)
            self.flush()
        return {"quotation": quotation, "late": late, "shipped": shipped, "ready": ready, "order_b": order_b}

    def figures_both_ways(self, user, companies, filters=None):
        """The order figures read from the tally and counted from the records."""
        tower = (
            self.env["order.visibility.control.tower"].with_user(user).with_context(allowed_company_ids=companies.ids)
        )
        filters = tower._parse_filters(filters or {})
        base = tower._filters_domain(filters, "")
        threshold = self.env["order.visibility"]._param("order_visibility.at_risk_threshold")
        with freeze_time(NOW):
            now = fields.Datetime.now()
            bounds = [now - timedelta(days=days) for days in (1, 3, 7)]
            stages = [code for code, _label in self.env["order.visibility"]._fields["stage"].selection]
            where = tower._tally_where("order.visibility", filters)
            self.assertIsNotNone(where, "the company rule alone: the tally stands in")
            tallied = tower._order_figures_tallied(where, base, now, threshold, bounds=bounds, stages=stages)
            counted = tower._order_figures_counted(base, now, threshold, bounds, stages)
        return tallied, counted

    # ------------------------------------------------------------------

    def test_triggers_follow_every_kind_of_change(self):
        orders = self.orders_in_two_companies()
        self.assertTallyRight()
        # A change of the filters' columns: the order's warehouse and team,
        # the customer's priority (stored related fields, recomputed).
        other_warehouse = self.env["stock.warehouse"].create({"name": "OV Tally WH2", "code": "OVT2"})
        orders["quotation"].warehouse_id = other_warehouse
        orders["ready"].team_id = self.env["crm.team"].create({"name": "OV Tally team"})
        self.customer.ov_priority = "2"
        self.flush()
        self.assertTallyRight()
        # A statement of many rows in SQL, and a deletion by cascade.
        self.env.cr.execute(
            "UPDATE order_visibility SET stage_since = stage_since - interval '2 days', risk_score = 90"
            " WHERE sale_order_id IN %s",
            [tuple(order.id for order in orders.values())],
        )
        self.env.invalidate_all()
        orders["quotation"].unlink()
        self.flush()
        self.assertTallyRight()

    def test_figures_from_the_tally_are_the_records_counts(self):
        self.orders_in_two_companies()
        for user, companies, filters in (
            (self.env.user, self.company | self.company_b, {}),
            (self.user_a, self.company, {}),
            (self.admin_b, self.company_b, {}),
            (self.user_ab, self.company | self.company_b, {}),
            (self.user_ab, self.company | self.company_b, {"company_ids": self.company_b.ids}),
            (self.user_ab, self.company | self.company_b, {"warehouse_id": self.warehouse.id}),
            (self.user_ab, self.company | self.company_b, {"priority": "0"}),
        ):
            tallied, counted = self.figures_both_ways(user, companies, filters)
            self.assertEqual(tallied, counted, f"{user.login} {companies.mapped('name')} {filters}")
        rows, late, _at_risk = self.figures_both_ways(self.user_a, self.company)[0]
        self.assertEqual(late, 1, "promised five minutes before now: late, counted from the records")
        self.assertTrue(any(total for _stage, total, *_since in rows))
        b_rows = self.figures_both_ways(self.admin_b, self.company_b)[0][0]
        self.assertEqual(sum(total for _stage, total, *_since in b_rows), 2, "the second company's admin: its 2 orders")

    def test_service_levels_from_the_tally_are_the_records_sums(self):
        """Measured orders inside the period, in the hours its edges fall
        in (either side of the start, the current hour): the tally's sums
        are the records' sums."""
        orders = self.orders_in_two_companies()
        self.set_stock(self.goods_b, 20)
        shipped = orders["shipped"]
        with freeze_time(NOW - timedelta(hours=2)):
            for _n in range(3):
                order = self.create_order([(self.goods_b, 1)])
                order.action_confirm()
                self.flush()
                self.deliver(order.picking_ids)
                shipped |= order
            self.flush()
        start = NOW - timedelta(days=14)
        moments = [start + timedelta(minutes=10), start - timedelta(minutes=10), NOW - timedelta(minutes=5)]
        measured = self.env["order.visibility"].search(
            [("sale_order_id", "in", shipped.ids), ("is_measured", "=", True)]
        )
        self.assertEqual(len(measured), 4)
        for visibility, moment in zip(measured, moments, strict=False):
            visibility.sudo().fully_shipped_date = moment
        self.flush()
        self.assertTallyRight()
        for user, companies, filters in (
            (self.env.user, self.company | self.company_b, {}),
            (self.user_a, self.company, {}),
            (self.admin_b, self.company_b, {}),
            (self.user_ab, self.company | self.company_b, {"warehouse_id": self.warehouse.id}),
        ):
            tower = (
                self.env["order.visibility.control.tower"]
                .with_user(user)
                .with_context(allowed_company_ids=companies.ids)
            )
            parsed = tower._parse_filters(filters)
            base = tower._filters_domain(parsed, "")
            with freeze_time(NOW):
                levels = tower._service_levels(base, parsed, fields.Datetime.now())
                for key in ("current", "previous"):
                    counted = tower._service_level_sums(
                        [
                            *base,
                            ("is_measured", "=", True),
                            ("fully_shipped_date", ">=", levels[key]["start"]),
                            ("fully_shipped_date", "<", levels[key]["end"]),
                        ]
                    )
                    rates = tower._service_level_rates(counted)
                    self.assertEqual(
                        {name: levels[key][name] for name in ("orders", "paid", *rates)},
                        {"orders": counted["orders"], "paid": counted["paid"], **rates},
                        f"{user.login} {filters} {key}",
                    )
            if user == self.user_a:
                self.assertEqual((levels["current"]["orders"], levels["previous"]["orders"]), (3, 1))

    def test_compaction_keeps_every_figure(self):
        self.orders_in_two_companies()
        later = NOW + timedelta(days=10)  # the orders' hours are all older than what the tower tells apart
        with freeze_time(later):
            before = self.env["order.visibility"].get_control_tower_data({})
        rows = self.env["order.visibility.tally"].search_count([])
        with freeze_time(later):
            self.env["order.visibility.tally"]._cron_compact()
        self.assertLess(self.env["order.visibility.tally"].search_count([]), rows)
        self.env.cr.execute(f"SELECT count(*) FROM order_visibility_tally GROUP BY {TALLY_KEY}")
        self.assertEqual({count for (count,) in self.env.cr.fetchall()}, {1})
        self.env.invalidate_all()
        with freeze_time(later):
            after = self.env["order.visibility"].get_control_tower_data({})
        for key in ("stages", "tiles", "aging", "throughput"):
            self.assertEqual(after[key], before[key], key)
        self.assertTrue(before["tiles"]["late"]["count"])
        # A month later: the transitions older than any period shown are
        # gone from the tally, the orders' counts stay.
        Tally = self.env["order.visibility.tally"]
        old_transitions = [("kind", "in", ("confirmed", "shipped")), ("bucket", "<", later - timedelta(days=2))]
        self.assertTrue(Tally.search_count(old_transitions))
        with freeze_time(later + timedelta(days=30)):
            Tally._cron_compact()
            month_later = self.env["order.visibility"].get_control_tower_data({"period": 30})
        self.assertEqual(Tally.search_count(old_transitions), 0)
        self.assertEqual(month_later["stages"], before["stages"])
        self.assertFalse(any(month_later["throughput"]["confirmed"]))

    def test_large_transactions_and_passes_compact(self):
        """A transaction that moved many orders has the counts compacted
        right after it commits; the sweep and the reconciliation compact
        them when they end."""
        cron = self.env.ref("order_visibility_dashboard.ir_cron_compact_tally")
        Trigger = self.env["ir.cron.trigger"]
        Visibility = self.env["order.visibility"]
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        Visibility._send_control_tower_notices({"order.visibility.transition": set(range(1, 1000))})
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before, "999 transitions: the hourly pass")
        Visibility._send_control_tower_notices({"order.visibility.transition": set(range(1, 1001))})
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)

        self.orders_in_two_companies()
        self.env.cr.execute(f"SELECT count(*) FROM order_visibility_tally GROUP BY {TALLY_KEY} HAVING count(*) > 1")
        self.assertTrue(self.env.cr.fetchall(), "groups of several rows before the pass")
        for xmlid in ("order_visibility.ir_cron_exception_sweep", "order_visibility.ir_cron_reconcile"):
            self.run_cron(xmlid, at=NOW)
            self.env.cr.execute(f"SELECT count(*) FROM order_visibility_tally GROUP BY {TALLY_KEY} HAVING count(*) > 1")
            self.assertFalse(self.env.cr.fetchall(), f"one row per group after {xmlid}")
            self.create_order([(self.goods_b, 1)])  # a new row in some group
            self.flush()
        self.assertTallyRight()

    def test_other_record_rules_count_the_records(self):
        """A rule of the administrator's beside the company rule: the tally
        cannot apply it, the records are counted (and the figures are the
        drill-downs' counts)."""
        orders = self.orders_in_two_companies()
        team = self.env["crm.team"].create({"name": "OV Tally ruled team"})
        orders["ready"].team_id = team
        self.flush()
        self.env["ir.rule"].create(
            {
                "name": "OV users see one team",
                "model_id": self.env.ref("order_visibility.model_order_visibility").id,
                "groups": [Command.link(self.env.ref("order_visibility.group_order_visibility_user").id)],
                "domain_force": f"[('team_id', '=', {team.id})]",
            }
        )
        tower = self.env["order.visibility.control.tower"].with_user(self.user_a)
        filters = tower._parse_filters({})
        self.assertIsNone(tower._tally_where("order.visibility", filters))
        self.assertIsNotNone(tower._tally_where("order.visibility.transition", filters), "no such rule there")
        with freeze_time(NOW):
            data = self.env["order.visibility"].with_user(self.user_a).get_control_tower_data({})
            self.assertEqual(sum(row["count"] for row in data["stages"]), 1)
            for row in data["stages"]:
                self.assertEqual(
                    self.env["order.visibility"].with_user(self.user_a).search_count(row["domain"]), row["count"]
                )

    def test_throughput_in_a_time_zone_half_an_hour_off(self):
        """Days that do not start on a whole hour: counted from the
        transitions, the same as ``_read_group`` puts them in days."""
        self.orders_in_two_companies()
        for tz in ("Asia/Kolkata", "Europe/Brussels"):
            with freeze_time(NOW):
                data = self.env["order.visibility"].with_context(tz=tz).get_control_tower_data({"period": 7})
                throughput = data["throughput"]
                for series in ("confirmed", "shipped"):
                    groups = (
                        self.env["order.visibility.transition"]
                        .with_context(tz=tz)
                        ._read_group(throughput[f"{series}_domain"], ["changed_at:day"], ["__count"])
                    )
                    expected = {fields.Date.to_string(day): count for day, count in groups}
                    self.assertEqual(
                        dict(zip(throughput["days"], throughput[series], strict=True)),
                        {day: expected.get(day, 0) for day in throughput["days"]},
                        f"{tz} {series}",
                    )
                    self.assertTrue(any(throughput[series]), f"{tz} {series}")

    def test_uninstallation_drops_the_triggers(self):
        uninstall_hook(self.env)
        self.env.cr.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'order_visibility_tally%%'")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.env.cr.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'order_visibility_tally%%'")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
