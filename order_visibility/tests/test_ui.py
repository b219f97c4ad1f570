# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, tagged


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
