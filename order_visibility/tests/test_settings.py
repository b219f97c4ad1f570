# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestOrderVisibilitySettings(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP = cls.env["ir.config_parameter"]
        cls.Settings = cls.env["res.config.settings"]

    def test_settings_are_stored_as_config_parameters(self):
        self.Settings.create(
            {
                "ov_high_value_amount": 75000,
                "ov_min_margin_percent": 12.5,
                "ov_overdue_days": 45,
                "ov_late_grace_hours": 6,
                "ov_stale_quotation_days": 21,
                "ov_stale_order_days": 5,
                "ov_invoice_lag_days": 2,
                "ov_at_risk_threshold": 70,
                "ov_use_credit_limit": True,
            }
        ).execute()
        self.assertEqual(self.ICP.get_param("order_visibility.high_value_amount"), "75000.0")
        self.assertEqual(self.ICP.get_param("order_visibility.min_margin_percent"), "12.5")
        self.assertEqual(self.ICP.get_param("order_visibility.overdue_days"), "45")
        self.assertEqual(self.ICP.get_param("order_visibility.late_grace_hours"), "6")
        self.assertEqual(self.ICP.get_param("order_visibility.stale_quotation_days"), "21")
        self.assertEqual(self.ICP.get_param("order_visibility.stale_order_days"), "5")
        self.assertEqual(self.ICP.get_param("order_visibility.invoice_lag_days"), "2")
        self.assertEqual(self.ICP.get_param("order_visibility.at_risk_threshold"), "70")
        self.assertEqual(self.Settings._get_visibility_param("order_visibility.at_risk_threshold"), 70)
        self.assertIs(self.Settings._get_visibility_param("order_visibility.use_credit_limit"), True)
        self.assertEqual(self.Settings.default_get(["ov_stale_order_days"])["ov_stale_order_days"], 5)

    def test_invalid_values_are_refused_and_nothing_is_written(self):
        self.ICP.set_param("order_visibility.min_margin_percent", "10.0")
        invalid = [
            ({"ov_high_value_amount": -1}, "cannot be negative"),
            ({"ov_min_margin_percent": 150}, "between 0 and 100"),
            ({"ov_min_margin_percent": -5}, "between 0 and 100"),
            ({"ov_overdue_days": -3}, "cannot be negative"),
            ({"ov_late_grace_hours": -1}, "cannot be negative"),
            ({"ov_stale_quotation_days": 0}, "at least 1 day"),
            ({"ov_stale_order_days": 0}, "at least 1 day"),
            ({"ov_at_risk_threshold": 101}, "between 0 and 100"),
            ({"ov_transfer_wait_hours": -1}, "cannot be negative"),
            ({"ov_expedite_manager_amount": -50}, "cannot be negative"),
            ({"ov_max_snooze_days": 0}, "at least 1 day"),
            ({"ov_max_snooze_days": -2}, "at least 1 day"),
        ]
        for values, message in invalid:
            with self.subTest(values=values), self.assertRaisesRegex(ValidationError, message):
                self.Settings.create({"ov_min_margin_percent": 33, **values}).execute()
            self.assertEqual(self.ICP.get_param("order_visibility.min_margin_percent"), "10.0")

    def test_changes_are_audited_and_sweep_interval_drives_the_cron(self):
        self.ICP.set_param("order_visibility.late_grace_hours", "24")
        self.Settings.create({"ov_late_grace_hours": 48, "ov_sweep_interval_minutes": 5}).execute()
        log = self.env["order.visibility.settings.log"].search(
            [("key", "=", "order_visibility.late_grace_hours")], order="id desc", limit=1
        )
        self.assertEqual((log.old_value, log.new_value, log.user_id), ("24", "48", self.env.user))
        cron = self.env.ref("order_visibility.ir_cron_exception_sweep")
        self.assertEqual((cron.interval_number, cron.interval_type), (5, "minutes"))
        with self.assertRaisesRegex(ValidationError, "at least 1 minute"):
            self.Settings.create({"ov_sweep_interval_minutes": 0}).execute()
        self.assertEqual(cron.interval_number, 5)

    def test_missing_or_garbage_parameter_falls_back_to_default(self):
        self.ICP.set_param("order_visibility.stale_order_days", "not a number")
        self.assertEqual(self.Settings._get_visibility_param("order_visibility.stale_order_days"), 7)
        self.ICP.set_param("order_visibility.late_grace_hours", False)
        self.assertEqual(self.Settings._get_visibility_param("order_visibility.late_grace_hours"), 24)

    def test_automatic_customer_updates_are_switched_per_company(self):
        company_b = self.env["res.company"].create({"name": "OV Settings Company B"})
        self.assertFalse(self.env.company.ov_auto_customer_updates, "off after installation")
        self.Settings.create({"ov_auto_customer_updates": True}).execute()
        self.assertTrue(self.env.company.ov_auto_customer_updates)
        self.assertFalse(company_b.ov_auto_customer_updates, "the other company keeps its own switch")
