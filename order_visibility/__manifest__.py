# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Order Visibility",
    "summary": "One canonical order status, exception queues, approvals and sweeps",
    "version": "19.0.1.1.0",
    "category": "Sales/Sales",
    "website": "https://github.com/order-visibility/order-visibility",
    "author": "Order Visibility contributors",
    "license": "LGPL-3",
    "depends": [
        "sale_management",
        "sale_stock",
        "purchase_stock",
        "account",
        "base_automation",
        "mail",
    ],
    "data": [
        "security/order_visibility_security.xml",
        "security/ir.model.access.csv",
        "data/order_visibility_exception_type_data.xml",
        "data/ir_cron_data.xml",
        "views/res_config_settings_views.xml",
        "views/order_visibility_views.xml",
        "views/order_visibility_transition_views.xml",
        "views/order_visibility_exception_views.xml",
        "views/order_visibility_approval_views.xml",
        "views/sale_order_views.xml",
        "views/order_visibility_menus.xml",
        "data/base_automation_data.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "order_visibility/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "_post_init_backfill_visibility",
    "application": True,
}
