# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The stage is logged in the order's chatter: a confirmation in the same
message as Odoo's new status, each later change in a message of its own, in
the language of who made the change (as Odoo logs its own status)."""

from odoo.tests import tagged

from .common import OrderVisibilityCommon


@tagged("post_install", "-at_install")
class TestStageTracking(OrderVisibilityCommon):
    @classmethod
    def default_env_context(cls):
        return {}  # the chatter's tracking on, as in the web client

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_dutch()
        cls.dutch_salesman = cls.new_user("ov_nl_salesman", "sales_team.group_sale_salesman_all_leads", lang="nl_NL")

    def tracked(self, messages):
        """[{field name: (old label, new label)}] of the tracking ``messages``, oldest first."""
        return [
            {value.field_id.name: (value.old_value_char, value.new_value_char) for value in message.tracking_value_ids}
            for message in messages.filtered("tracking_value_ids").sorted("id")
        ]

    def test_a_confirmation_logs_its_stage_with_odoos_new_status(self):
        self.set_stock(self.goods, 5)
        order = self.create_order([(self.goods, 2)])
        self.flush()
        before = order.message_ids
        order.action_confirm()
        visibility = self.assertStage(order, "ready_to_ship")
        [logged] = self.tracked(order.message_ids - before)
        self.assertEqual(logged["state"], ("Quotation", "Sales Order"))
        self.assertEqual(logged["visibility_stage"], ("Quotation", "Ready to Ship"))
        self.assertFalse(visibility.message_ids.tracking_value_ids, "the visibility record logs no stage of its own")

        before = order.message_ids
        self.deliver(order.picking_ids)
        self.assertStage(order, "shipped")
        self.assertEqual(self.tracked(order.message_ids - before), [{"visibility_stage": ("Ready to Ship", "Shipped")}])

    def test_the_stage_is_logged_in_the_language_of_who_confirms(self):
        self.set_stock(self.goods, 5)
        order = self.create_order([(self.goods, 2)], user_id=self.dutch_salesman.id)
        self.flush()
        before = order.message_ids
        # The web client sends the user's language in the context.
        self.confirm_in_form(order.with_context(lang="nl_NL"), user=self.dutch_salesman)
        self.assertStage(order, "ready_to_ship")
        [logged] = self.tracked(order.message_ids - before)
        self.assertEqual(logged["visibility_stage"][1], "Klaar voor verzending")
        self.assertEqual(order.message_ids.filtered("tracking_value_ids")[:1].author_id, self.dutch_salesman.partner_id)
