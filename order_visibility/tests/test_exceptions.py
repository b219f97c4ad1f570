# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.addons.order_visibility.models import order_visibility_exception_escalation as escalation
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestExceptions(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Exception = cls.env["order.visibility.exception"]
        cls.buyer = new_test_user(
            cls.env,
            "ov_buyer",
            groups="purchase.group_purchase_user,order_visibility.group_order_visibility_user",
            company_id=cls.company.id,
        )
        cls.ov_user = new_test_user(
            cls.env, "ov_user", groups="order_visibility.group_order_visibility_user", company_id=cls.company.id
        )
        cls.ov_manager = new_test_user(
            cls.env, "ov_manager", groups="order_visibility.group_order_visibility_manager", company_id=cls.company.id
        )
        shortage_type = cls.env.ref("order_visibility.exception_type_stock_shortage")
        shortage_type.user_ids = cls.buyer

    def exceptions(self, order, code, states=("open", "acknowledged", "snoozed")):
        self.flush()
        return self.Exception.search(
            [("sale_order_id", "=", order.id), ("code", "=", code), ("state", "in", list(states))]
        )

    # -- scenario 1: shortage -------------------------------------------

    def test_shortage_opens_one_exception_for_purchasing_and_resolves_on_receipt(self):
        self.set_stock(self.goods, 4)
        order = self.create_order([(self.goods, 10)])
        order.action_confirm()
        self.assertStage(order, "awaiting_stock")
        shortage = self.exceptions(order, "stock_shortage")
        self.assertEqual(len(shortage), 1)
        self.assertEqual(shortage.owner_id, self.buyer)
        self.assertEqual(shortage.severity, "high")
        self.assertEqual(shortage.related_record, order.picking_ids)
        picking = order.picking_ids
        self.assertEqual(
            shortage.detail, f"{picking.name} is short of 6 {self.goods.uom_id.name} {self.goods.display_name}"
        )
        self.assertEqual(shortage.activity_ids.user_id, self.buyer)
        visibility = self.visibility(order)
        self.assertEqual((visibility.exception_count, visibility.worst_severity), (1, "high"))

        # Recomputing again does not duplicate it.
        self.env["order.visibility"]._recompute_orders(order)
        self.assertEqual(len(self.exceptions(order, "stock_shortage")), 1)

        self.receive(self.goods, 6)
        order.picking_ids.action_assign()
        self.assertStage(order, "ready_to_ship")
        self.assertFalse(self.exceptions(order, "stock_shortage"))
        self.assertEqual(shortage.state, "resolved")
        self.assertFalse(shortage.activity_ids, "the owner's to-do goes with it")
        self.assertEqual((visibility.exception_count, visibility.worst_severity), (0, False))

    # -- scenario 5: late shipment --------------------------------------

    def test_late_shipment_opened_once_and_resolved_by_shipping(self):
        self.set_stock(self.goods, 5)
        promised = fields.Datetime.now() + timedelta(days=1)
        order = self.create_order([(self.goods, 5)], commitment_date=promised)
        order.action_confirm()
        self.assertStage(order, "ready_to_ship")
        self.sweep()
        self.assertFalse(self.exceptions(order, "late_shipment"), "not late yet")
        after_grace = promised + timedelta(hours=25)
        for _run in range(3):
            self.sweep(after_grace)
        late = self.exceptions(order, "late_shipment")
        self.assertEqual(len(late), 1, "exactly once, however many sweeps")
        self.deliver(order.picking_ids)
        self.assertStage(order, "shipped")
        self.sweep(after_grace)
        self.assertEqual(late.state, "resolved")

    def test_grace_hours_setting_is_honoured(self):
        self.env["ir.config_parameter"].set_param("order_visibility.late_grace_hours", 72)
        self.set_stock(self.goods, 5)
        promised = fields.Datetime.now() + timedelta(days=1)
        order = self.create_order([(self.goods, 5)], commitment_date=promised)
        order.action_confirm()
        self.sweep(promised + timedelta(hours=25))
        self.assertFalse(self.exceptions(order, "late_shipment"))
        self.sweep(promised + timedelta(hours=73))
        self.assertTrue(self.exceptions(order, "late_shipment"))

    # -- scenario 7: time-based exceptions --------------------------------

    def test_stale_quotation_and_stale_order(self):
        quotation = self.create_order([(self.goods, 1)])
        self.set_stock(self.goods, 2)
        order = self.create_order([(self.goods, 2)])
        order.action_confirm()
        self.flush()
        later = fields.Datetime.now() + timedelta(days=15)
        self.sweep(later)
        self.sweep(later)
        self.assertEqual(len(self.exceptions(quotation, "stale_quotation")), 1)
        self.assertEqual(len(self.exceptions(order, "stale_order")), 1)
        self.assertFalse(self.exceptions(order, "stale_quotation"))
        # Progress clears them.
        with freeze_time(later):
            quotation.action_confirm()
            self.deliver(order.picking_ids)
            self.flush()
        self.sweep(later + timedelta(minutes=1))
        self.assertFalse(self.exceptions(quotation, "stale_quotation"))
        self.assertFalse(self.exceptions(order, "stale_order"))

    def test_invoice_blocked_then_payment_overdue_then_paid(self):
        self.set_stock(self.goods, 2)
        order = self.create_order([(self.goods, 2)])
        order.action_confirm()
        self.deliver(order.picking_ids)
        self.assertStage(order, "shipped")
        self.sweep(fields.Datetime.now() + timedelta(days=1))
        self.assertFalse(self.exceptions(order, "invoice_blocked"))
        self.sweep(fields.Datetime.now() + timedelta(days=4))
        self.assertEqual(len(self.exceptions(order, "invoice_blocked")), 1)
        invoice = self.invoice(order)
        self.assertStage(order, "invoiced")
        due = invoice.invoice_date_due
        self.sweep(fields.Datetime.now() + timedelta(days=4))
        self.assertFalse(self.exceptions(order, "invoice_blocked"))
        overdue_at = fields.Datetime.to_datetime(due) + timedelta(days=2)
        self.sweep(overdue_at)
        overdue = self.exceptions(order, "payment_overdue")
        self.assertEqual(len(overdue), 1)
        self.assertEqual(overdue.related_record, invoice)
        self.pay(invoice)
        self.assertStage(order, "paid")
        self.sweep(overdue_at)
        self.assertEqual(overdue.state, "resolved")

    def test_margin_exception(self):
        """A confirmed order whose margin falls below the minimum (cost rise)."""
        self.set_stock(self.goods, 5)
        order = self.create_order([(self.goods, 5)])  # 40 vs cost 25: 37.5 %
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        self.sweep()
        self.assertFalse(self.exceptions(order, "margin_exception"))
        self.goods.standard_price = 38.5  # margin 3.75 %
        self.visibility(order).action_recompute()
        self.assertAlmostEqual(self.visibility(order).margin_percent, 3.75, places=2)
        self.sweep()
        self.sweep()
        self.assertEqual(len(self.exceptions(order, "margin_exception")), 1)
        self.env["ir.config_parameter"].set_param("order_visibility.min_margin_percent", 2.0)
        self.sweep()
        self.assertFalse(self.exceptions(order, "margin_exception"))

    # -- scenario 6: supply delay -----------------------------------------

    def test_supply_delay_links_the_late_purchase_and_its_buyer(self):
        vendor = self.env["res.partner"].create({"name": "Iberian Olive Mills"})
        mto = self.env.ref("stock.route_warehouse0_mto")
        mto.active = True
        buy = self.env.ref("purchase_stock.route_warehouse0_buy")
        self.goods.write(
            {
                "route_ids": [Command.set((mto | buy).ids)],
                "seller_ids": [Command.create({"partner_id": vendor.id, "delay": 5, "price": 20.0})],
            }
        )
        promised = fields.Datetime.now() + timedelta(days=10)
        order = self.create_order([(self.goods, 8)], commitment_date=promised)
        order.action_confirm()
        self.flush()
        purchase = self.env["purchase.order"].search([("partner_id", "=", vendor.id)])
        self.assertEqual(len(purchase), 1, "MTO + buy creates the purchase feeding the order")
        purchase.user_id = self.buyer
        purchase.button_confirm()
        self.assertStage(order, "awaiting_stock")
        self.sweep()
        self.assertFalse(self.exceptions(order, "supply_delay"), "on time")
        purchase.order_line.date_planned = promised + timedelta(days=3)
        self.sweep()
        delay = self.exceptions(order, "supply_delay")
        self.assertEqual(len(delay), 1)
        self.assertEqual(delay.related_record, purchase)
        self.assertEqual(delay.owner_id, self.buyer)
        purchase.order_line.date_planned = promised - timedelta(days=2)
        self.sweep()
        self.assertEqual(delay.state, "resolved")

    # -- scenario 8: escalation -------------------------------------------

    def test_escalation_raises_severity_notifies_managers_once_per_period(self):
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        shortage = self.exceptions(order, "stock_shortage")
        self.assertEqual(shortage.severity, "high")
        escalation = "order_visibility.ir_cron_escalation"
        self.run_cron(escalation, fields.Datetime.now() + timedelta(hours=2))
        self.assertEqual(shortage.severity, "high", "within the type's 24 hours")
        later = fields.Datetime.now() + timedelta(hours=25)
        self.run_cron(escalation, later)
        self.run_cron(escalation, later + timedelta(minutes=5))
        self.assertEqual(shortage.severity, "critical")
        self.assertEqual(shortage.escalation_count, 1, "once per period")
        notified = shortage.message_ids.filtered(lambda m: "escalated" in (m.body or "")).partner_ids
        self.assertIn(self.ov_manager.partner_id, notified)
        with freeze_time(later):
            self.assertTrue(shortage.is_overdue)

    def test_acknowledged_exceptions_do_not_escalate(self):
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        shortage = self.exceptions(order, "stock_shortage")
        shortage.with_user(self.ov_user).action_acknowledge()
        self.assertEqual(shortage.state, "acknowledged")
        self.assertEqual(shortage.acknowledged_by, self.ov_user)
        self.run_cron("order_visibility.ir_cron_escalation", fields.Datetime.now() + timedelta(hours=30))
        self.assertEqual(shortage.severity, "high")

    def test_waking_from_a_snooze_keeps_the_opening_time(self):
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        shortage = self.exceptions(order, "stock_shortage")
        opened_at = shortage.opened_at
        until = fields.Datetime.now() + timedelta(hours=40)
        shortage.with_user(self.ov_user).action_snooze(until, "Vendor confirmed a truck")
        escalation = "order_visibility.ir_cron_escalation"
        woken = until + timedelta(minutes=1)
        self.run_cron(escalation, woken)
        self.assertEqual(shortage.state, "open", "woken up when the snooze ends")
        self.assertEqual(shortage.opened_at, opened_at, "an audit field: the aging figures read it")
        self.assertEqual(shortage.woken_at, woken)
        self.assertEqual(shortage.escalation_count, 0, "its escalation time counts from the wake-up")
        self.run_cron(escalation, woken + timedelta(hours=23))
        self.assertEqual(shortage.escalation_count, 0, "within the type's 24 hours since the wake-up")
        self.run_cron(escalation, woken + timedelta(hours=25))
        self.assertEqual((shortage.escalation_count, shortage.severity), (1, "critical"))

    def test_escalation_stops_when_the_scheduler_says_time_is_up(self):
        self.set_stock(self.goods, 1)
        orders = self.create_order([(self.goods, 3)]) | self.create_order([(self.goods, 3)])
        orders.action_confirm()
        shortages = self.exceptions(orders[0], "stock_shortage") | self.exceptions(orders[1], "stock_shortage")
        self.assertEqual(len(shortages), 2, "two exceptions due for escalation a day later")
        cron = self.env.ref("order_visibility.ir_cron_escalation")
        escalated_before = self.escalated_count()
        with (
            self.enter_registry_test_mode(),
            self.registry.cursor() as cr,
            freeze_time(fields.Datetime.now() + timedelta(hours=25)),
        ):
            env = self.env(cr=cr)
            progress = env["ir.cron.progress"].create({"cron_id": cron.id, "remaining": 0, "done": 0})
            with patch.object(escalation, "ESCALATION_BATCH_SIZE", 1):
                escalated = (
                    env["order.visibility.exception"]
                    .with_context(ir_cron_progress_id=progress.id, cron_id=cron.id, cron_end_time=0)
                    ._cron_escalate()
                )
            self.assertEqual(escalated, 1, "one batch, then it stopped")
            self.assertEqual(progress.done, 1)
            self.assertGreater(progress.remaining, 0, "the scheduler knows there is more to do")
        self.env.invalidate_all()
        self.assertEqual(self.escalated_count() - escalated_before, 1, "the others wait for the next run")

    def escalated_count(self):
        self.flush()
        return self.env.execute_query(
            SQL("SELECT count(*) FROM order_visibility_exception WHERE escalated_at IS NOT NULL")
        )[0][0]

    # -- user actions -----------------------------------------------------

    def test_resolve_and_snooze_rules(self):
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        shortage = self.exceptions(order, "stock_shortage")
        with self.assertRaises(AccessError):
            shortage.with_user(self.ov_user).action_resolve("done")
        with self.assertRaisesRegex(ValidationError, "Say why"):
            shortage.with_user(self.ov_manager).action_resolve("  ")
        with self.assertRaisesRegex(ValidationError, "future"):
            shortage.with_user(self.ov_user).action_snooze(fields.Datetime.now() - timedelta(hours=1), "later")
        for not_a_date in ("soon", {"days": 1}, ["2030-01-01"]):
            with self.assertRaisesRegex(ValidationError, "future"):
                shortage.with_user(self.ov_user).action_snooze(not_a_date, "later")
        # A snooze is bounded (Settings, 14 days by default): longer, it would be a resolve without a manager.
        for persona in (self.ov_user, self.ov_manager):
            with self.assertRaisesRegex(ValidationError, "14 days at most"):
                shortage.with_user(persona).action_snooze(fields.Datetime.now() + timedelta(days=15), "next year")
        self.env["ir.config_parameter"].set_param("order_visibility.max_snooze_days", 30)
        with self.assertRaisesRegex(ValidationError, "30 days at most"):
            shortage.with_user(self.ov_user).action_snooze(fields.Datetime.now() + timedelta(days=365), "later")
        self.assertEqual(shortage.state, "open", "refused actions change nothing")
        until = fields.Datetime.now() + timedelta(hours=4)
        shortage.with_user(self.ov_user).action_snooze(until, "Vendor confirmed a truck at noon")
        self.assertEqual((shortage.state, shortage.snoozed_until), ("snoozed", until))
        self.run_cron("order_visibility.ir_cron_escalation", until + timedelta(minutes=1))
        self.assertEqual(shortage.state, "open", "woken up when the snooze ends")
        wizard = (
            self.env["order.visibility.exception.wizard"]
            .with_user(self.ov_manager)
            .create({"exception_ids": [Command.set(shortage.ids)], "mode": "resolve", "reason": "Substituted"})
        )
        wizard.action_confirm()
        self.assertEqual(shortage.state, "resolved")
        self.assertEqual(shortage.resolved_by, self.ov_manager)
        self.assertIn("Substituted", shortage.resolution)

    def test_user_filters(self):
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        shortage = self.exceptions(order, "stock_shortage")
        as_buyer = self.Exception.with_user(self.buyer)
        self.assertIn(shortage, as_buyer.search([("owner_id", "=", self.buyer.id)]))
        self.assertIn(shortage, as_buyer.search([("is_my_team", "=", True)]))
        self.assertNotIn(shortage, self.Exception.with_user(self.ov_user).search([("is_my_team", "=", True)]))
        with freeze_time(fields.Datetime.now() + timedelta(hours=30)):
            self.assertIn(shortage, self.Exception.search([("is_overdue", "=", True)]))
            self.assertNotIn(shortage, self.Exception.search([("is_overdue", "!=", True)]))
        as_user = self.Exception.with_user(self.ov_user)
        self.assertIn(shortage, as_user.search([("is_my_team", "=", False)]))
        self.assertIn(shortage, as_user.search([("is_my_team", "!=", True)]))
        # Computed per user: the same record, read by two users in one transaction.
        self.assertTrue(shortage.with_user(self.buyer).is_my_team)
        self.assertFalse(shortage.with_user(self.ov_user).is_my_team)

    def test_boolean_filters_split_the_records_in_two(self):
        """Odoo 19's search contract: =, != and in on the computed booleans
        each give one side of a partition of the records."""
        self.set_stock(self.goods, 1)
        late = self.create_order([(self.goods, 3)], commitment_date=fields.Datetime.now() - timedelta(days=3))
        late.action_confirm()
        self.create_order([(self.goods, 1)]).action_confirm()
        self.flush()
        with freeze_time(fields.Datetime.now() + timedelta(hours=30)):
            for model, field in (
                ("order.visibility.exception", "is_overdue"),
                ("order.visibility.exception", "is_my_team"),
                ("order.visibility", "is_at_risk"),
                ("order.visibility", "is_late"),
            ):
                Model = self.env[model].with_user(self.buyer)
                every = Model.search([])
                yes, no = Model.search([(field, "=", True)]), Model.search([(field, "=", False)])
                with self.subTest(field=field):
                    self.assertTrue(yes, "the scenario has records on the True side")
                    self.assertFalse(yes & no)
                    self.assertEqual(yes | no, every)
                    self.assertEqual(Model.search([(field, "!=", True)]), no)
                    self.assertEqual(Model.search([(field, "in", [True, False])]), every)
                    self.assertEqual(yes, every.filtered(field))

    # -- scenario 9: reconciliation ---------------------------------------

    def test_reconciliation_repairs_and_reports_drift(self):
        self.set_stock(self.goods, 2)
        order = self.create_order([(self.goods, 2)])
        order.action_confirm()
        visibility = self.assertStage(order, "ready_to_ship")
        # Drift: a stage changed behind the ORM's back.
        self.env.cr.execute("UPDATE order_visibility SET stage = 'paid' WHERE id = %s", [visibility.id])
        visibility.invalidate_recordset()
        self.run_cron("order_visibility.ir_cron_reconcile")
        self.assertEqual(visibility.stage, "ready_to_ship")
        self.assertEqual(self.env["ir.config_parameter"].get_param("order_visibility.last_drift"), "1")
        self.assertEqual(visibility.last_transition_id.cause, "reconciliation")
        self.run_cron("order_visibility.ir_cron_reconcile")
        self.assertEqual(self.env["ir.config_parameter"].get_param("order_visibility.last_drift"), "0")

    def test_the_owners_to_do_quotes_the_detail_as_text(self):
        """A detail can quote a sender's words (a carrier's reason): never HTML in the owner's to-do."""
        self.set_stock(self.goods, 1)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        visibility = self.visibility(order)
        Exception_ = self.env["order.visibility.exception"]
        forged = '<img src=x onerror="alert(1)">Truck <b>late</b>'
        Exception_._sync(
            "delivery_exception",
            {(visibility.id, "sale.order", order.id): {"detail": forged, "owner_id": self.ov_user.id}},
            visibility,
        )
        opened = self.exceptions(order, "delivery_exception")
        self.assertEqual(opened.detail, forged, "the plain text field keeps the text as it came")
        note = opened.activity_ids.note
        self.assertIn("&lt;img src=x onerror=", note)
        self.assertNotIn("<img", note)
        self.assertNotIn("<b>", note)
