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
