# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Order Visibility Webhooks",
    "summary": "Signed outbound webhooks with an outbox, inbound signed milestones",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/order-visibility/order-visibility",
    "author": "Order Visibility contributors",
    "license": "LGPL-3",
    "depends": ["order_visibility"],
    "data": [
        "security/ir.model.access.csv",
        "security/order_visibility_inbound_security.xml",
        "views/res_config_settings_views.xml",
        "views/order_visibility_milestone_views.xml",
        "views/order_visibility_webhook_source_views.xml",
    ],
}
