# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Order Visibility Webhooks",
    "summary": "Signed outbound webhooks with an outbox, inbound signed milestones",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/order-visibility/order-visibility",
    "author": "Order Visibility contributors",
    "license": "LGPL-3",
    "depends": ["order_visibility", "mail"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/order_visibility_webhooks_security.xml",
        "data/order_visibility_webhook_event_type_data.xml",
        "data/ir_cron_data.xml",
        "views/order_visibility_webhook_wizard_views.xml",
        "views/order_visibility_webhook_endpoint_views.xml",
        "views/order_visibility_webhook_delivery_views.xml",
        "views/order_visibility_webhooks_menus.xml",
        "views/res_config_settings_views.xml",
    ],
}
