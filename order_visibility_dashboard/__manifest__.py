# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Order Visibility Control Tower",
    "summary": "Live OWL dashboard of order stages, exceptions, risk, automation and webhook health",
    "version": "19.0.1.3.0",
    "category": "Sales/Sales",
    "website": "https://github.com/order-visibility/order-visibility",
    "author": "Order Visibility contributors",
    "license": "LGPL-3",
    "depends": ["order_visibility", "web", "bus"],
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/order_visibility_cron_run_views.xml",
        "views/order_visibility_dashboard_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "order_visibility_dashboard/static/src/**/*",
        ],
        "web.assets_unit_tests": [
            "order_visibility_dashboard/static/tests/**/*.test.js",
        ],
        "web.assets_tests": [
            "order_visibility_dashboard/static/tests/tours/**/*",
        ],
    },
    "uninstall_hook": "uninstall_hook",
}
