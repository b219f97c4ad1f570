# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Order Visibility Customer Portal",
    "summary": "Where is my order: the customer's stage, promise and carrier milestones in the portal, a tracking API",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/order-visibility/order-visibility",
    "author": "Order Visibility contributors",
    "license": "LGPL-3",
    "depends": ["order_visibility_webhooks", "sale", "portal"],
    "data": [
        "views/sale_portal_templates.xml",
    ],
}
