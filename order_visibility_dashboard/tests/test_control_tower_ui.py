# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.addons.web.tests.test_js import unit_test_error_checker
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestControlTowerUnit(HttpCase):
    def test_hoot_control_tower(self):
        """The HOOT unit tests of the control tower's components (and only those:
        they carry the ``ov_control_tower`` tag)."""
        self.browser_js(
            "/web/tests?headless&loglevel=2&preset=desktop&timeout=15000&tag=ov_control_tower",
            "",
            "",
            login="admin",
            timeout=600,
            success_signal="[HOOT] Test suite succeeded",
            error_checker=unit_test_error_checker,
        )


@tagged("post_install", "-at_install")
class TestControlTowerTour(HttpCase):
    def test_control_tower_tour(self):
        """In a real browser, on the demo data: the tiles match the server, a
        warehouse filter goes to the URL, an exception is acknowledged from a
        drill-down, and the dashboard comes back with the figure updated."""
        if not self.env["ir.module.module"].search_count(
            [("name", "=", "order_visibility_demo"), ("state", "=", "installed")]
        ):
            self.fail("the tour runs on the demo data: install order_visibility_demo (./ov test does)")
        exceptions = self.env["order.visibility.exception"]
        unacknowledged = exceptions.search_count([("state", "=", "open")])
        self.start_tour("/odoo/control-tower", "order_visibility_control_tower_tour", login="admin")
        self.assertEqual(exceptions.search_count([("state", "=", "open")]), unacknowledged - 1)
