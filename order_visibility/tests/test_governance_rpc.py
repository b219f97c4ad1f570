# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""An integration confirming orders over Odoo's external JSON API (the
example of docs/user/approvals.md): with an approval rule on, it cannot
mistake a quotation left waiting for a confirmed order."""

import json
from datetime import datetime, timedelta

from odoo.fields import Command
from odoo.tests import HttpCase, get_db_name, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestGovernanceOverRpc(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ICP = cls.env["ir.config_parameter"]
        ICP.set_param("order_visibility.approve_high_value", True)
        ICP.set_param("order_visibility.high_value_amount", 1000)
        cls.integration = new_test_user(
            cls.env, "ov_integration", groups="sales_team.group_sale_salesman_all_leads,stock.group_stock_user"
        )
        key = (
            cls.env["res.users.apikeys"]
            .with_user(cls.integration)
            ._generate(scope="rpc", name="integration", expiration_date=datetime.now() + timedelta(days=1))
        )
        cls.key = key
        cls.headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {key}",
            "X-Odoo-Database": get_db_name(),
        }
        product = cls.env["product.product"].create(
            {"name": "Pallet of flour", "type": "consu", "list_price": 600.0, "standard_price": 400.0}
        )
        customer = cls.env["res.partner"].create({"name": "Integration Customer"})
        cls.order = cls.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "user_id": cls.integration.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 3})],  # 1,800
            }
        )

    def call(self, model, method, **params):
        response = self.url_open(f"/json/2/{model}/{method}", data=json.dumps(params), headers=self.headers)
        return response.status_code, response.json()

    def test_confirm_over_rpc_is_refused_with_the_reason(self):
        status, body = self.call("sale.order", "action_confirm", ids=self.order.ids)
        self.assertEqual(status, 422)
        self.assertEqual(body["name"], "odoo.exceptions.UserError")
        self.assertIn("cannot be confirmed without an approval", body["message"])
        status, orders = self.call("sale.order", "read", ids=self.order.ids, fields=["state", "visibility_stage"])
        self.assertEqual(status, 200)
        self.assertEqual((orders[0]["state"], orders[0]["visibility_stage"]), ("draft", "draft"))

    def test_confirm_over_rpc_can_request_the_approval(self):
        status, result = self.call(
            "sale.order",
            "action_confirm",
            ids=self.order.ids,
            context={"order_visibility_approval": "request"},
        )
        self.assertEqual(status, 200)
        self.assertEqual(result["params"]["title"], "Approval required")
        status, orders = self.call("sale.order", "read", ids=self.order.ids, fields=["state", "visibility_stage"])
        self.assertEqual((orders[0]["state"], orders[0]["visibility_stage"]), ("draft", "pending_approval"))

    def test_classic_jsonrpc_execute_kw(self):
        def execute_kw(*args, **kwargs):
            payload = {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {
                    "service": "object",
                    "method": "execute_kw",
                    "args": [get_db_name(), self.integration.id, self.key, "sale.order", *args, kwargs],
                },
            }
            headers = {"Content-Type": "application/json"}
            return self.url_open("/jsonrpc", data=json.dumps(payload), headers=headers).json()

        refused = execute_kw("action_confirm", [self.order.ids])
        self.assertEqual(refused["error"]["data"]["name"], "odoo.exceptions.UserError")
        self.assertIn("cannot be confirmed without an approval", refused["error"]["data"]["message"])
        requested = execute_kw("action_confirm", [self.order.ids], context={"order_visibility_approval": "request"})
        self.assertEqual(requested["result"]["params"]["title"], "Approval required")
        [order] = execute_kw("read", [self.order.ids], fields=["state", "visibility_stage"])["result"]
        self.assertEqual((order["state"], order["visibility_stage"]), ("draft", "pending_approval"))
