# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestOrderVisibilityUi(HttpCase):
    def test_settings_tour(self):
        """In a real browser: the app is in the menu, its Settings section
        opens, and an out-of-range margin is refused with a clear message."""
        self.start_tour("/odoo", "order_visibility_settings_tour", login="admin")
        self.assertNotEqual(
            self.env["ir.config_parameter"].get_param("order_visibility.min_margin_percent"),
            "150.0",
            "the refused value was not saved",
        )


@tagged("post_install", "-at_install")
class TestOrdersKanbanUi(OrderVisibilityCommon, HttpCase):
    def test_kanban_shows_risk_blocking_and_late_promises(self):
        """In a real browser: a card says at a glance whether the order is
        at risk (score out of 100, explained on hover), what blocks it and
        whether its promise is late; the form shows the score out of 100."""
        self.env["product.supplierinfo"].create(
            {"partner_id": self.partner_a.id, "product_tmpl_id": self.goods.product_tmpl_id.id, "delay": 10}
        )
        late_customer = self.env["res.partner"].create({"name": "OV Kanban Late"})
        on_track_customer = self.env["res.partner"].create({"name": "OV Kanban On Track"})
        late = self.create_order(
            [(self.goods, 5)],
            partner=late_customer,
            commitment_date=fields.Datetime.now() - timedelta(days=2),
        )
        late.action_confirm()  # nothing in stock: waits 10 days for the vendor
        self.set_stock(self.goods_b, 5)
        on_track = self.create_order(
            [(self.goods_b, 5)],
            partner=on_track_customer,
            commitment_date=fields.Datetime.now() + timedelta(days=10),
        )
        on_track.action_confirm()
        late_visibility = self.assertStage(late, "awaiting_stock")
        self.assertTrue(late_visibility.is_at_risk and late_visibility.is_late)
        self.assertEqual(late_visibility.worst_severity, "high")
        self.assertEqual(self.assertStage(on_track, "ready_to_ship").risk_score, 0)
        self.start_tour(
            "/odoo/action-order_visibility.action_order_visibility",
            "order_visibility_kanban_tour",
            login=self.env.user.login,
        )
