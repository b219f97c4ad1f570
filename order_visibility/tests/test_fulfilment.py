# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Fulfilment reassignment: an order short in its warehouse is served from
another warehouse of its company through Odoo's procurement flow."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestFulfilmentReassignment(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Warehouse = cls.env["stock.warehouse"]
        cls.warehouse_rtm = Warehouse.create({"name": "Rotterdam DC", "code": "RTM", "company_id": cls.company.id})
        cls.warehouse_ant = Warehouse.create({"name": "Antwerp DC", "code": "ANT", "company_id": cls.company.id})
        cls.ov_user = cls.new_user("ov_ff_user", "order_visibility.group_order_visibility_user")
        cls.ov_manager = cls.new_user("ov_ff_manager", "order_visibility.group_order_visibility_manager")

    def short_order(self, quantity=5, **values):
        """A confirmed order of the main warehouse, which holds none of the goods."""
        order = self.create_order(
            [(self.goods, quantity)], commitment_date=fields.Datetime.now() + timedelta(days=4), **values
        )
        order.action_confirm()
        self.assertStage(order, "awaiting_stock")
        return order

    def open_exceptions(self, order, code):
        return self.visibility(order).exception_ids.filtered(lambda e: e.code == code and e.state != "resolved")

    # -- options ----------------------------------------------------------

    def test_options_rank_full_cover_first(self):
        self.set_stock(self.goods, 3, self.warehouse_ant.lot_stock_id)
        self.set_stock(self.goods, 10, self.warehouse_rtm.lot_stock_id)
        visibility = self.visibility(self.short_order())
        options = visibility.with_user(self.ov_user).get_fulfilment_options()
        self.assertEqual([o["warehouse_id"] for o in options], [self.warehouse_rtm.id, self.warehouse_ant.id])
        full, partial = options
        self.assertTrue(full["covers_all"])
        self.assertEqual(full["lines"], [{"product_id": self.goods.id, "quantity": 5.0}])
        self.assertFalse(partial["covers_all"])
        self.assertEqual(partial["lines"], [{"product_id": self.goods.id, "quantity": 3.0}])
        self.assertEqual(
            full["promised_date"], fields.Datetime.to_string(visibility.promised_date), "ships in time: promise kept"
        )
        self.assertLess(full["risk_score"], visibility.risk_score, "the shortage exception clears")
        self.assertEqual(set(full), {"warehouse_id", "covers_all", "lines", "promised_date", "risk_score"})

    def test_options_rank_shorter_route_first_among_full_covers(self):
        self.set_stock(self.goods, 10, self.warehouse_ant.lot_stock_id)
        self.set_stock(self.goods, 10, self.warehouse_rtm.lot_stock_id)
        self.warehouse_rtm.delivery_route_id.rule_ids.write({"delay": 2})
        options = self.visibility(self.short_order()).get_fulfilment_options()
        self.assertEqual([o["warehouse_id"] for o in options], [self.warehouse_ant.id, self.warehouse_rtm.id])

    def test_no_option_when_no_other_warehouse_has_stock(self):
        visibility = self.visibility(self.short_order())
        self.assertEqual(visibility.get_fulfilment_options(), [])
        with self.assertRaisesRegex(UserError, "cannot serve the short lines"):
            visibility.with_user(self.ov_manager).apply_fulfilment_option(self.warehouse_rtm.id)

    def test_the_search_across_warehouses_does_not_grow_with_orders(self):
        self.set_stock(self.goods, 50, self.warehouse_rtm.lot_stock_id)
        visibility = self.visibility(self.short_order())

        def assert_search_queries():
            visibility.get_fulfilment_options()  # warm-up: parameters, access rules, xml ids
            self.env.invalidate_all()
            # With mrp (installed in the test database by the demo), reading
            # free_qty looks up kits once per warehouse: two more queries.
            with self.assertQueryCount(26 if "mrp.bom" in self.env else 24):
                visibility.get_fulfilment_options()

        assert_search_queries()
        for _i in range(5):
            self.short_order(quantity=2)
        self.env.invalidate_all()
        assert_search_queries()

    # -- applying -----------------------------------------------------------

    def test_apply_serves_the_order_from_the_other_warehouse(self):
        self.set_stock(self.goods, 10, self.warehouse_rtm.lot_stock_id)
        order = self.short_order()
        original = order.picking_ids
        self.assertEqual(len(self.open_exceptions(order, "stock_shortage")), 1)
        quants_before = self.env["stock.quant"].search_fetch(
            [("product_id", "=", self.goods.id)], ["location_id", "quantity"]
        )
        before = {(q.location_id.id, q.quantity) for q in quants_before}

        visibility = self.visibility(order)
        visibility.with_user(self.ov_manager).apply_fulfilment_option(self.warehouse_rtm.id)

        visibility = self.assertStage(order, "ready_to_ship")
        self.assertEqual(original.state, "cancel", "the short delivery of the main warehouse is taken back")
        new = order.picking_ids - original
        self.assertEqual(len(new), 1)
        self.assertEqual(new.picking_type_id.warehouse_id, self.warehouse_rtm)
        self.assertEqual(new.sale_id, order)
        self.assertEqual(new.state, "assigned")
        self.assertEqual(new.move_ids.product_uom_qty, 5.0)
        self.assertEqual(new.move_ids.sale_line_id, order.order_line)
        self.assertEqual(
            {(q.location_id.id, q.quantity) for q in quants_before}, before, "quants are never edited by hand"
        )
        self.assertFalse(self.open_exceptions(order, "stock_shortage"), "the shortage resolves by itself")
        transition = visibility.transition_ids.sorted("id")[-1]
        self.assertEqual((transition.to_stage, transition.cause), ("ready_to_ship", "fulfilment_reassigned"))
        log = order.message_ids.filtered(lambda m: "Fulfilment reassigned" in (m.body or ""))
        self.assertEqual(len(log), 1)
        self.assertIn("Before: Awaiting Stock", log.body)
        self.assertIn("After: Ready to Ship", log.body)
        self.assertIn("Rotterdam DC", log.body)
        # Odoo's own delivery flow finishes it.
        self.deliver(new)
        self.assertStage(order, "shipped")
        self.assertEqual(order.order_line.qty_delivered, 5.0)

    def test_partial_cover_moves_only_what_the_warehouse_holds(self):
        self.set_stock(self.goods, 2, self.stock_location)
        self.set_stock(self.goods, 1, self.warehouse_ant.lot_stock_id)
        order = self.short_order(quantity=5)
        original = order.picking_ids
        self.visibility(order).apply_fulfilment_option(self.warehouse_ant.id)
        self.flush()
        self.assertEqual(original.move_ids.product_uom_qty, 4.0, "2 reserved + 2 still short stay at the main DC")
        new = order.picking_ids - original
        self.assertEqual(new.move_ids.product_uom_qty, 1.0)
        self.assertEqual(
            sum(order.order_line.move_ids.filtered(lambda m: m.state != "cancel").mapped("product_uom_qty")), 5.0
        )
        self.assertStage(order, "awaiting_stock")

    def assertForecastIsTheScoreAfterApplying(self, order, warehouse):
        """One rule (``_risk_factors``): the risk an option forecasts is the score the record gets."""
        visibility = self.assertStage(order, "awaiting_stock")
        option = next(o for o in visibility.get_fulfilment_options() if o["warehouse_id"] == warehouse.id)
        visibility.with_user(self.ov_manager).apply_fulfilment_option(warehouse.id)
        self.flush()
        visibility.invalidate_recordset()
        self.assertGreater(visibility.risk_score, 0, "a score worth comparing")
        self.assertEqual(option["risk_score"], visibility.risk_score)

    def test_full_cover_forecasts_the_score_it_gives(self):
        self.set_stock(self.goods, 10, self.warehouse_rtm.lot_stock_id)
        order = self.create_order([(self.goods, 5)], commitment_date=fields.Datetime.now() + timedelta(days=2))
        order.action_confirm()
        # Two days of slack once the shortage clears, and an important customer.
        self.assertForecastIsTheScoreAfterApplying(order, self.warehouse_rtm)
        self.assertStage(order, "ready_to_ship")

    def test_partial_cover_forecasts_the_score_it_gives(self):
        self.set_stock(self.goods, 2, self.stock_location)
        self.set_stock(self.goods, 1, self.warehouse_ant.lot_stock_id)
        order = self.short_order(quantity=5)
        # The rest still waits for goods: the shortage stays open.
        self.assertForecastIsTheScoreAfterApplying(order, self.warehouse_ant)
        self.assertStage(order, "awaiting_stock")

    def test_an_origin_that_picks_then_ships_gives_back_its_short_part(self):
        self.warehouse.delivery_steps = "pick_ship"
        self.set_stock(self.goods, 2, self.stock_location)
        self.set_stock(self.goods, 10, self.warehouse_rtm.lot_stock_id)
        order = self.create_order([(self.goods, 5)])
        order.action_confirm()
        pick = order.picking_ids
        self.assertStage(order, "awaiting_stock")
        self.visibility(order).apply_fulfilment_option(self.warehouse_rtm.id)
        self.assertStage(order, "ready_to_ship")
        self.assertEqual((pick.move_ids.product_uom_qty, pick.state), (2.0, "assigned"), "only what it holds")
        new = order.picking_ids - pick
        self.assertEqual((new.picking_type_id.warehouse_id, new.move_ids.product_uom_qty), (self.warehouse_rtm, 3.0))
        # Both warehouses ship their part through Odoo's own steps.
        for _step in range(3):
            ready = order.picking_ids.filtered(lambda p: p.state == "assigned")
            for picking in ready:
                self.deliver(picking)
        self.assertStage(order, "shipped")
        self.assertEqual(order.order_line.qty_delivered, 5.0)

    def test_users_apply_only_when_the_margin_stays_above_minimum(self):
        self.set_stock(self.goods, 10, self.warehouse_rtm.lot_stock_id)
        order = self.short_order()
        visibility = self.visibility(order)
        self.env["ir.config_parameter"].set_param("order_visibility.min_margin_percent", 50.0)
        pickings = order.picking_ids
        with self.assertRaisesRegex(AccessError, "Only Order Visibility managers"):
            visibility.with_user(self.ov_user).apply_fulfilment_option(self.warehouse_rtm.id)
        self.assertEqual(order.picking_ids, pickings, "nothing changed")
        self.env["ir.config_parameter"].set_param("order_visibility.min_margin_percent", 10.0)
        visibility.with_user(self.ov_user).apply_fulfilment_option(self.warehouse_rtm.id)
        self.assertStage(order, "ready_to_ship")

    def test_refused_for_an_order_already_shipped(self):
        self.set_stock(self.goods, 5, self.stock_location)
        self.set_stock(self.goods, 10, self.warehouse_rtm.lot_stock_id)
        order = self.create_order([(self.goods, 5)])
        order.action_confirm()
        self.deliver(order.picking_ids)
        visibility = self.assertStage(order, "shipped")
        pickings, transitions = order.picking_ids, visibility.transition_ids
        self.assertEqual(visibility.get_fulfilment_options(), [])
        with self.assertRaisesRegex(UserError, "is Shipped: only a confirmed order with goods still to ship"):
            visibility.with_user(self.ov_manager).apply_fulfilment_option(self.warehouse_rtm.id)
        self.assertEqual(order.picking_ids, pickings)
        self.assertEqual(visibility.transition_ids, transitions)

    def test_other_companies_warehouses_are_never_offered(self):
        warehouse_b = self.setup_second_company(name="OV Company B FF")["warehouse"]
        self.set_stock(self.goods, 10, warehouse_b.lot_stock_id)
        visibility = self.visibility(self.short_order())
        self.assertEqual(visibility.get_fulfilment_options(), [])
        with self.assertRaises(UserError):
            visibility.with_user(self.ov_manager).apply_fulfilment_option(warehouse_b.id)

    def test_wizard_lists_the_options_and_applies_one(self):
        self.set_stock(self.goods, 10, self.warehouse_rtm.lot_stock_id)
        order = self.short_order()
        shortage = self.open_exceptions(order, "stock_shortage")
        action = shortage.with_user(self.ov_manager).action_open_fulfilment_wizard()
        wizard = self.env[action["res_model"]].with_user(self.ov_manager).browse(action["res_id"])
        self.assertEqual(wizard.option_ids.warehouse_id, self.warehouse_rtm)
        self.assertEqual(wizard.option_ids.lines_summary, "5 Olive Oil 5 L")
        wizard.option_ids.action_apply()
        self.assertStage(order, "ready_to_ship")

    def test_server_action_opens_the_wizard(self):
        self.set_stock(self.goods, 10, self.warehouse_rtm.lot_stock_id)
        visibility = self.visibility(self.short_order())
        server_action = self.env.ref("order_visibility.action_server_visibility_reassign_fulfilment")
        result = (
            server_action.with_user(self.ov_user)
            .with_context(active_model="order.visibility", active_id=visibility.id, active_ids=visibility.ids)
            .run()
        )
        self.assertEqual(result["res_model"], "order.visibility.fulfilment.wizard")

    # -- scheduled review ---------------------------------------------------

    def test_review_flags_transfers_waiting_too_long_once(self):
        order = self.short_order()
        picking = order.picking_ids
        self.sweep()
        self.assertFalse(self.open_exceptions(order, "fulfilment_review"), "not waiting long enough yet")
        later = picking.scheduled_date + timedelta(hours=37)
        self.sweep(at=later)
        self.sweep(at=later + timedelta(hours=1))
        review = self.open_exceptions(order, "fulfilment_review")
        self.assertEqual(len(review), 1, "opened once, however often the sweep runs")
        self.assertEqual(review.related_record, picking)
        # Served from elsewhere and shipped: nothing waits any more, the review resolves.
        self.set_stock(self.goods, 10, self.warehouse_rtm.lot_stock_id)
        self.visibility(order).apply_fulfilment_option(self.warehouse_rtm.id)
        self.deliver(order.picking_ids - picking)
        self.sweep(at=later + timedelta(hours=2))
        self.assertFalse(self.open_exceptions(order, "fulfilment_review"))
        self.assertEqual(review.state, "resolved")

    def test_review_flags_unresolved_credit_holds(self):
        self.switch_on_governance("use_credit_limit")
        self.customer.credit_limit = 10.0
        self.set_stock(self.goods, 3)
        order = self.create_order([(self.goods, 3)])
        order.action_confirm()
        self.assertStage(order, "credit_hold")
        self.sweep(at=fields.Datetime.now() + timedelta(hours=37))
        reviews = self.open_exceptions(order, "fulfilment_review")
        # The hold itself, and its delivery, which cannot leave while held.
        hold = reviews.filtered(lambda e: not e.res_model)
        self.assertEqual(len(hold), 1)
        self.assertIn("Credit hold unresolved since", hold.detail)
        self.assertEqual((reviews - hold).related_record, order.picking_ids)
