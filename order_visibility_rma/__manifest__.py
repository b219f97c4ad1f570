# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Order Visibility RMA",
    "summary": "OCA RMAs in the order's return lifecycle, approvals and exceptions",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/order-visibility/order-visibility",
    "author": "Order Visibility contributors",
    "license": "LGPL-3",
    "depends": ["order_visibility", "rma"],
    "auto_install": True,
    "post_init_hook": "post_init_hook",
}
