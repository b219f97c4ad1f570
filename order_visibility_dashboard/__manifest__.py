# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Order Visibility Control Tower",
    "summary": "Live OWL dashboard of order stages, exceptions, risk and webhook health",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/order-visibility/order-visibility",
    "author": "Order Visibility contributors",
    "license": "LGPL-3",
    "depends": ["order_visibility", "web", "bus"],
    "data": [
        "security/ir.model.access.csv",
    ],
}
