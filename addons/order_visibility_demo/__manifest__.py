# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Order Visibility Demo Scenario",
    "summary": "A realistic distributor: customers, vendors, warehouses and orders in every stage",
    "version": "19.0.1.1.0",
    "category": "Hidden",
    "website": "https://github.com/order-visibility/order-visibility",
    "author": "Order Visibility contributors",
    "license": "LGPL-3",
    "depends": ["order_visibility", "order_visibility_webhooks", "stock_dropshipping"],
    "data": [
        "data/res_partner_data.xml",
        "data/res_users_data.xml",
        "data/res_users_portal_data.xml",
        "data/product_data.xml",
        "data/stock_warehouse_data.xml",
        "data/service_level_data.xml",
    ],
    "post_init_hook": "_post_init_demo_scenario",
}
