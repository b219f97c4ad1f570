# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Names shared by the addon's models."""

ADMIN_GROUP = "order_visibility.group_order_visibility_admin"
TEST_EVENT_TYPE = "webhook.test"
