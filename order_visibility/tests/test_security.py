# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestOrderVisibilitySecurity(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group_user = cls.env.ref("order_visibility.group_order_visibility_user")
        cls.group_manager = cls.env.ref("order_visibility.group_order_visibility_manager")
        cls.group_admin = cls.env.ref("order_visibility.group_order_visibility_admin")

    def test_groups_form_a_ladder(self):
        self.assertIn(self.group_user, self.group_manager.all_implied_ids)
        self.assertIn(self.group_manager, self.group_admin.all_implied_ids)
        self.assertIn(self.env.ref("base.group_user"), self.group_user.all_implied_ids)
        self.assertEqual(
            (self.group_user | self.group_manager | self.group_admin).privilege_id,
            self.env.ref("order_visibility.res_groups_privilege_order_visibility"),
        )

    def test_admin_is_order_visibility_administrator(self):
        self.assertIn(self.group_admin, self.env.ref("base.user_admin").all_group_ids)

    def test_menu_visibility_follows_groups(self):
        root = self.env.ref("order_visibility.menu_order_visibility_root")
        settings = self.env.ref("order_visibility.menu_order_visibility_settings")
        admin = self.env.ref("base.user_admin")
        manager = new_test_user(self.env, "ov_manager", groups="order_visibility.group_order_visibility_manager")
        outsider = new_test_user(self.env, "ov_outsider", groups="base.group_user")

        def visible(user):
            return self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()

        self.assertIn(root.id, visible(admin))
        self.assertIn(settings.id, visible(admin))
        self.assertNotIn(settings.id, visible(manager))
        self.assertNotIn(root.id, visible(outsider))
