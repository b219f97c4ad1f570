# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Order Visibility Customer Portal",
    "summary": "Where is my order: the customer's stage, promise and carrier milestones in the portal, a tracking API",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/order-visibility/order-visibility",
    "author": "Order Visibility contributors",
    "license": "LGPL-3",
    "depends": ["order_visibility_webhooks", "sale", "portal", "bus"],
    "data": [
        "views/sale_portal_templates.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "order_visibility_portal/static/src/interactions/**/*",
            "order_visibility_portal/static/src/scss/**/*",
        ],
        "web.assets_tests": [
            "order_visibility_portal/static/tests/tours/**/*",
        ],
    },
}
