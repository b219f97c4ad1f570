# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Every public method of the suite is in the access matrix.

Every model method without a leading underscore is callable over RPC, with
whatever records and arguments the caller chooses. The table "Public methods
and who may call them" of docs/dev/architecture.md says, for each one, which
kind of user may call it; this test enumerates the methods the suite's
addons define (their own models and their overrides of Odoo's) and, for
each row, calls the method as each kind of user on real records of company
A, and asserts that it is allowed (no error) or refused (AccessError) as the
page says. A public method without a row, or a row without a method, fails.

Kinds of user (columns of the table), all internal users of company A
unless said otherwise:

- ``portal``: a portal user (a customer's buyer);
- ``salesperson``: Sales / User: All Documents and Inventory / User, no
  Order Visibility group;
- ``user``, ``manager``, ``admin``: the same plus Order Visibility User,
  Manager, Administrator (the administrator also has Odoo's Settings access,
  which the Settings screen needs);
- ``other company``: like ``admin``, but of company B only, acting on
  company A's records (or on its own company for model-level methods).

Run with OV_PRINT_MATRIX=1 to print the table observed.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

from odoo import fields
from odoo.addons.order_visibility.tests.common import OrderVisibilityCommon
from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

DOC = Path(__file__).resolve().parent.parent / "docs" / "dev" / "architecture.md"
PERSONAS = ("portal", "salesperson", "user", "manager", "admin", "other company")
OV = "order_visibility.group_order_visibility"
SELLS = "sales_team.group_sale_salesman_all_leads,stock.group_stock_user"
PERSONA_GROUPS = {
    "portal": "base.group_portal",
    "salesperson": SELLS,
    "user": f"{SELLS},{OV}_user",
    "manager": f"{SELLS},{OV}_manager",
    "admin": f"{SELLS},{OV}_admin,base.group_system",
    "other company": f"{SELLS},{OV}_admin,base.group_system",
}
SUITE_MODULES = (
    "order_visibility",
    "order_visibility_webhooks",
    "order_visibility_dashboard",
    "order_visibility_portal",
    "order_visibility_rma",
)
ROW = re.compile(r"^\|\s*`(?P<model>[\w.]+)`\s*\|\s*`(?P<method>\w+)`\s*\|(?P<cells>.*)\|\s*$")


def documented_matrix():
    """{(model, method): {persona: allowed}} from the architecture page."""
    text = DOC.read_text()
    start, end = text.index("<!-- public-methods:start -->"), text.index("<!-- public-methods:end -->")
    matrix = {}
    for line in text[start:end].splitlines():
        if match := ROW.match(line):
            cells = [cell.strip() for cell in match["cells"].split("|")]
            assert len(cells) == len(PERSONAS), f"{line!r}: {len(PERSONAS)} columns expected"
            assert all(cell in ("✓", "—") for cell in cells), f"{line!r}: ✓ or — in each column"
            matrix[match["model"], match["method"]] = dict(zip(PERSONAS, (c == "✓" for c in cells), strict=True))
    return matrix


@tagged("post_install", "-at_install")
class TestPublicMethods(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ICP = cls.env["ir.config_parameter"]
        ICP.set_param("order_visibility.high_value_amount", 1000)
        ICP.set_param("order_visibility_webhooks.allow_private_targets", "True")
        cls.switch_on_governance("approve_high_value", "use_credit_limit")
        cls.company_b = cls.setup_other_company(name="OV Methods B")["company"]
        company_a = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        company_b = {"company_id": cls.company_b.id, "company_ids": [Command.set(cls.company_b.ids)]}
        cls.users = {
            persona: new_test_user(
                cls.env,
                f"ovpm_{persona.replace(' ', '_')}",
                groups=groups,
                **(company_b if persona == "other company" else company_a),
            )
            for persona, groups in PERSONA_GROUPS.items()
        }
        cls.seller = new_test_user(cls.env, "ovpm_seller", groups=f"{SELLS},{OV}_user", **company_a)

        # Company A: a quotation, an order short of stock (exception, timeline,
        # expedite and fulfilment), one pending approval, one on credit hold.
        cls.warehouse_2 = cls.env["stock.warehouse"].create(
            {"name": "Second Warehouse", "code": "WH2", "company_id": cls.company.id}
        )
        cls.set_stock_in(cls.goods_b, 10, cls.warehouse_2.lot_stock_id)
        tight = cls.env["res.partner"].create({"name": "Tight Credit", "email": "ap@tight.example.com"})
        tight.with_company(cls.company).credit_limit = 10.0
        cls.customer.email = "orders@harbor.example.com"
        cls.quotation = cls._order([(cls.goods_b, 1)])
        cls.order_short = cls._order([(cls.goods_b, 5)])
        cls.order_approval = cls._order([(cls.goods, 30)])
        cls.order_held = cls._order([(cls.goods_b, 1)], partner=tight)
        cls.env["stock.quant"]._update_available_quantity(cls.goods, cls.stock_location, 2)
        cls.order_ready = cls._order([(cls.goods, 2)])
        request = {"order_visibility_approval": "request"}
        for order in cls.order_short | cls.order_approval | cls.order_held | cls.order_ready:
            order.with_user(cls.seller).with_context(**request).action_confirm()
        cls.env.flush_all()
        cls.env["order.visibility"]._recompute_new_quotations()
        cls.env.flush_all()
        Visibility = cls.env["order.visibility"]
        cls.visibility_short = Visibility.search([("sale_order_id", "=", cls.order_short.id)])
        cls.visibility_held = Visibility.search([("sale_order_id", "=", cls.order_held.id)])
        cls.exception = cls.visibility_short.exception_ids.filtered(lambda e: e.code == "stock_shortage")
        cls.approval = Visibility.search([("sale_order_id", "=", cls.order_approval.id)]).approval_ids
        cls.exception_type = cls.exception.type_id
        cls.type_a = cls.env["order.visibility.exception.type"].create(
            {"code": "customs_hold", "name": "Customs hold", "company_id": cls.company.id}
        )
        cls.invoice = cls.init_invoice("out_invoice", partner=cls.customer, amounts=[100.0])
        cls.move = cls.order_short.picking_ids.move_ids[:1]
        # OCA rma (order_visibility_rma): a draft RMA of company A.
        cls.rma = (
            cls.env["rma"]
            .sudo()
            .create({"partner_id": cls.customer.id, "product_id": cls.goods.id, "company_id": cls.company.id})
        )

        # Webhooks of company A: an endpoint, a dead delivery, an inbound source.
        cls.endpoint = cls.env["order.visibility.webhook.endpoint"].create(
            {"name": "Receiver A", "url": "http://127.0.0.1:9/hooks", "company_id": cls.company.id}
        )
        cls.delivery = (
            cls.env["order.visibility.webhook.delivery"]
            .sudo()
            .create(
                {
                    "endpoint_id": cls.endpoint.id,
                    "company_id": cls.company.id,
                    "event_id": "msg_matrix",
                    "event_type": "order.status_changed",
                    "payload": "{}",
                    "state": "dead",
                    "attempt_count": 6,
                }
            )
        )
        cls.attempt = (
            cls.env["order.visibility.webhook.attempt"]
            .sudo()
            .create(
                {"delivery_id": cls.delivery.id, "attempted_at": fields.Datetime.now(), "number": 6, "error": "timeout"}
            )
        )
        cls.event_type = cls.env.ref("order_visibility_webhooks.event_type_status_changed")
        cls.source = cls.env["order.visibility.webhook.source"].create(
            {"name": "Carrier A", "code": "carrier-matrix", "company_id": cls.company.id}
        )
        cls.env.flush_all()

    @classmethod
    def set_stock_in(cls, product, quantity, location):
        cls.env["stock.quant"]._update_available_quantity(product, location, quantity)

    @classmethod
    def _order(cls, lines, partner=None):
        return cls.env["sale.order"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "user_id": cls.seller.id,
                "company_id": cls.company.id,
                "warehouse_id": cls.warehouse.id,
                "order_line": [Command.create({"product_id": p.id, "product_uom_qty": qty}) for p, qty in lines],
            }
        )

    # -- how each public method is called ----------------------------------

    def calls(self):
        """{(model, method): call(as_user)}; ``as_user(records)`` gives the
        records as the persona would get them over RPC (nothing cached)."""
        now = fields.Datetime.now()

        def confirm_form(as_user, order):
            return as_user(order).with_context(order_visibility_approval="request").action_confirm()

        def wizard(as_user, model, values):
            return as_user(self.env[model]).create(values)

        def fulfilment_option(as_user):
            created = wizard(as_user, "order.visibility.fulfilment.wizard", {"visibility_id": self.visibility_short.id})
            self.assertTrue(created.option_ids, "the second warehouse can serve the order")
            return created.option_ids[0]

        return {
            # sale.order and Odoo documents the suite overrides
            ("sale.order", "create"): lambda as_user: as_user(self.env["sale.order"]).create(
                {"partner_id": self.customer.id, "order_line": [Command.create({"product_id": self.goods_b.id})]}
            ),
            ("sale.order", "write"): lambda as_user: as_user(self.quotation).write({"client_order_ref": "PO-1"}),
            ("sale.order", "action_confirm"): lambda as_user: confirm_form(as_user, self.quotation),
            ("sale.order", "action_view_visibility_timeline"): lambda as_user: as_user(
                self.order_short
            ).action_view_visibility_timeline(),
            ("stock.picking", "button_validate"): lambda as_user: as_user(
                self.order_ready.picking_ids
            ).button_validate(),
            ("stock.move", "write"): lambda as_user: as_user(self.move).write({"description_picking": "Fragile"}),
            ("account.move", "write"): lambda as_user: as_user(self.invoice).write({"ref": "Matrix"}),
            ("rma", "write"): lambda as_user: as_user(self.rma).write({"origin": "Matrix"}),
            ("rma", "action_confirm"): lambda as_user: as_user(self.rma).action_confirm(),
            ("res.config.settings", "set_values"): lambda as_user: (
                as_user(self.env["res.config.settings"]).create({"ov_stale_order_days": 9}).execute()
            ),
            # order.visibility (engine, expedite, fulfilment, customer updates, control tower)
            ("order.visibility", "action_recompute"): lambda as_user: as_user(self.visibility_short).action_recompute(),
            ("order.visibility", "action_request_credit_release"): lambda as_user: as_user(
                self.visibility_held
            ).action_request_credit_release(),
            ("order.visibility", "message_post"): lambda as_user: as_user(self.visibility_short).message_post(
                body="Called the carrier", message_type="comment", subtype_xmlid="mail.mt_comment"
            ),
            ("order.visibility", "action_open_sale_order"): lambda as_user: as_user(
                self.visibility_short
            ).action_open_sale_order(),
            ("order.visibility", "action_request_expedite"): lambda as_user: as_user(
                self.visibility_short
            ).action_request_expedite(40.0, "Customer line down"),
            ("order.visibility", "action_open_expedite_wizard"): lambda as_user: as_user(
                self.visibility_short
            ).action_open_expedite_wizard(),
            ("order.visibility", "get_fulfilment_options"): lambda as_user: as_user(
                self.visibility_short
            ).get_fulfilment_options(),
            ("order.visibility", "apply_fulfilment_option"): lambda as_user: as_user(
                self.visibility_short
            ).apply_fulfilment_option(self.warehouse_2.id),
            ("order.visibility", "action_open_fulfilment_wizard"): lambda as_user: as_user(
                self.visibility_short
            ).action_open_fulfilment_wizard(),
            ("order.visibility", "action_draft_customer_update"): lambda as_user: as_user(
                self.visibility_short
            ).action_draft_customer_update(),
            ("order.visibility", "get_control_tower_data"): lambda as_user: as_user(
                self.env["order.visibility"]
            ).get_control_tower_data({}),
            # exceptions and their types
            ("order.visibility.exception", "write"): lambda as_user: as_user(self.exception).write(
                {"severity": "critical"}
            ),
            ("order.visibility.exception", "action_acknowledge"): lambda as_user: as_user(
                self.exception
            ).action_acknowledge(),
            ("order.visibility.exception", "action_snooze"): lambda as_user: as_user(self.exception).action_snooze(
                now + timedelta(days=1), "Truck booked"
            ),
            ("order.visibility.exception", "action_resolve"): lambda as_user: as_user(self.exception).action_resolve(
                "Found in the overflow aisle"
            ),
            ("order.visibility.exception", "action_escalate"): lambda as_user: as_user(
                self.exception
            ).action_escalate(),
            ("order.visibility.exception", "action_open_order"): lambda as_user: as_user(
                self.exception
            ).action_open_order(),
            ("order.visibility.exception", "action_open_fulfilment_wizard"): lambda as_user: as_user(
                self.exception
            ).action_open_fulfilment_wizard(),
            ("order.visibility.exception", "action_open_expedite_wizard"): lambda as_user: as_user(
                self.exception
            ).action_open_expedite_wizard(),
            ("order.visibility.exception", "action_draft_customer_update"): lambda as_user: as_user(
                self.exception
            ).action_draft_customer_update(),
            ("order.visibility.exception.type", "create"): lambda as_user: (
                Types := as_user(self.env["order.visibility.exception.type"])
            ).create({"code": "port_strike", "name": "Port strike", "company_id": Types.env.company.id}),
            ("order.visibility.exception.type", "write"): lambda as_user: as_user(self.type_a).write(
                {"escalation_hours": 4}
            ),
            ("order.visibility.exception.type", "action_open_exceptions"): lambda as_user: as_user(
                self.exception_type
            ).action_open_exceptions(),
            # approvals
            ("order.visibility.approval", "action_approve"): lambda as_user: as_user(self.approval).action_approve(
                "Key account"
            ),
            ("order.visibility.approval", "action_reject"): lambda as_user: as_user(self.approval).action_reject(
                "Price below floor"
            ),
            ("order.visibility.approval", "action_open_order"): lambda as_user: as_user(
                self.approval
            ).action_open_order(),
            # wizards
            ("order.visibility.exception.wizard", "default_get"): lambda as_user: (
                as_user(self.env["order.visibility.exception.wizard"])
                .with_context(active_model="order.visibility.exception", active_ids=self.exception.ids)
                .default_get(["exception_ids", "mode"])
            ),
            ("order.visibility.exception.wizard", "action_confirm"): lambda as_user: wizard(
                as_user,
                "order.visibility.exception.wizard",
                {
                    "exception_ids": [Command.set(self.exception.ids)],
                    "mode": "snooze",
                    "reason": "Truck booked",
                    "snooze_until": now + timedelta(days=1),
                },
            ).action_confirm(),
            ("order.visibility.approval.wizard", "default_get"): lambda as_user: (
                as_user(self.env["order.visibility.approval.wizard"])
                .with_context(active_model="order.visibility.approval", active_id=self.approval.id)
                .default_get(["approval_id", "decision"])
            ),
            ("order.visibility.approval.wizard", "action_confirm"): lambda as_user: wizard(
                as_user,
                "order.visibility.approval.wizard",
                {"approval_id": self.approval.id, "decision": "approve", "note": "Key account"},
            ).action_confirm(),
            ("order.visibility.expedite.wizard", "action_confirm"): lambda as_user: wizard(
                as_user,
                "order.visibility.expedite.wizard",
                {"visibility_id": self.visibility_short.id, "cost": 40.0, "currency_id": self.company.currency_id.id},
            ).action_confirm(),
            ("order.visibility.fulfilment.wizard", "create"): lambda as_user: wizard(
                as_user, "order.visibility.fulfilment.wizard", {"visibility_id": self.visibility_short.id}
            ),
            ("order.visibility.fulfilment.wizard.option", "action_apply"): lambda as_user: fulfilment_option(
                as_user
            ).action_apply(),
            ("order.visibility.promise.wizard", "action_confirm"): lambda as_user: wizard(
                as_user,
                "order.visibility.promise.wizard",
                {
                    "visibility_id": self.visibility_short.id,
                    "new_date": now + timedelta(days=30),
                    "cause": "customer_request",
                },
            ).action_confirm(),
            # customers (res.partner): their service level
            ("res.partner", "action_view_ov_measured_orders"): lambda as_user: as_user(
                self.customer
            ).action_view_ov_measured_orders(),
            # webhooks
            ("order.visibility.webhook.endpoint", "create"): lambda as_user: as_user(
                self.env["order.visibility.webhook.endpoint"]
            ).create({"name": "Another receiver", "url": "http://127.0.0.1:9/other"}),
            ("order.visibility.webhook.endpoint", "write"): lambda as_user: as_user(self.endpoint).write(
                {"description": "CRM"}
            ),
            ("order.visibility.webhook.endpoint", "unlink"): lambda as_user: as_user(self.endpoint).unlink(),
            ("order.visibility.webhook.endpoint", "action_rotate_secret"): lambda as_user: as_user(
                self.endpoint
            ).action_rotate_secret(),
            ("order.visibility.webhook.endpoint", "action_show_secret"): lambda as_user: as_user(
                self.endpoint
            ).action_show_secret(),
            ("order.visibility.webhook.endpoint", "action_send_test_event"): lambda as_user: as_user(
                self.endpoint
            ).action_send_test_event(),
            ("order.visibility.webhook.endpoint", "action_view_deliveries"): lambda as_user: as_user(
                self.endpoint
            ).action_view_deliveries(),
            ("order.visibility.webhook.delivery", "action_retry"): lambda as_user: as_user(
                self.delivery
            ).action_retry(),
            ("order.visibility.webhook.delivery", "write"): lambda as_user: as_user(self.delivery).write(
                {"payload": '{"forged": true}'}
            ),
            ("order.visibility.webhook.attempt", "write"): lambda as_user: as_user(self.attempt).write(
                {"error": "forged"}
            ),
            ("order.visibility.webhook.event.type", "write"): lambda as_user: as_user(self.event_type).write(
                {"sequence": 5}
            ),
            ("order.visibility.webhook.secret.wizard", "create"): lambda as_user: wizard(
                as_user,
                "order.visibility.webhook.secret.wizard",
                {
                    "res_model": self.endpoint._name,
                    "res_id": self.endpoint.id,
                    "res_name": self.endpoint.name,
                },
            ),
            ("order.visibility.webhook.replay", "action_replay"): lambda as_user: wizard(
                as_user,
                "order.visibility.webhook.replay",
                {"endpoint_id": self.endpoint.id, "date_from": now - timedelta(days=1), "date_to": now},
            ).action_replay(),
            ("order.visibility.webhook.source", "create"): lambda as_user: as_user(
                self.env["order.visibility.webhook.source"]
            ).create({"name": "Carrier B", "code": "carrier-matrix-new"}),
            ("order.visibility.webhook.source", "write"): lambda as_user: as_user(self.source).write(
                {"name": "Carrier A (renamed)"}
            ),
            ("order.visibility.webhook.source", "action_generate_secret"): lambda as_user: as_user(
                self.source
            ).action_generate_secret(),
            ("order.visibility.webhook.source", "action_show_secret"): lambda as_user: as_user(
                self.source
            ).action_show_secret(),
            ("order.visibility.webhook.source", "action_view_milestones"): lambda as_user: as_user(
                self.source
            ).action_view_milestones(),
        }

    # -- the tests ------------------------------------------------------------

    def public_methods(self):
        """{(model, method)} the suite's addons define, on models a caller can reach."""
        found = set()
        for name in self.env.registry:
            model = self.env[name]
            if model._abstract:
                continue
            for cls in type(model).__mro__:
                module = getattr(cls, "__module__", "") or ""
                if not module.startswith("odoo.addons."):
                    continue
                if module.split(".")[2] not in SUITE_MODULES:
                    continue
                for attr, value in vars(cls).items():
                    if attr.startswith("_") or not callable(value) or isinstance(value, type):
                        continue
                    found.add((name, attr))
        return found

    def test_every_public_method_has_a_row_and_a_call(self):
        documented = documented_matrix()
        found = self.public_methods()
        self.assertEqual(
            sorted(found - set(documented)),
            [],
            "public methods without a row in docs/dev/architecture.md (Public methods and who may call them)",
        )
        self.assertEqual(sorted(set(documented) - found), [], "rows of methods that do not exist")
        self.assertEqual(sorted(set(documented) ^ set(self.calls())), [], "rows and calls of this test differ")

    def test_each_method_is_allowed_or_refused_as_documented(self):
        documented = documented_matrix()
        observed = {}
        for key, call in sorted(self.calls().items()):
            for persona in PERSONAS:
                user = self.users[persona]

                def as_user(records, user=user):
                    self.env.invalidate_all()
                    return records.with_user(user).with_company(user.company_id)

                savepoint = self.env.cr.savepoint()
                error = None
                try:
                    call(as_user)
                    self.env.flush_all()
                except AccessError as refused:
                    error = refused
                except Exception as other:
                    error = other
                finally:
                    savepoint.close(rollback=True)
                    self.env.invalidate_all()
                observed[key, persona] = error
        if os.environ.get("OV_PRINT_MATRIX"):
            for key in sorted(self.calls()):
                marks = [
                    "✓" if observed[key, p] is None else ("—" if isinstance(observed[key, p], AccessError) else "?")
                    for p in PERSONAS
                ]
                print(f"| `{key[0]}` | `{key[1]}` | {' | '.join(marks)} |")
        for (key, persona), error in observed.items():
            expected = documented.get(key, {}).get(persona)
            with self.subTest(model=key[0], method=key[1], persona=persona):
                if expected:
                    self.assertIsNone(error, f"{persona} may call {key[0]}.{key[1]}: {error!r}")
                else:
                    self.assertIsInstance(
                        error, AccessError, f"{persona} must get an AccessError from {key[0]}.{key[1]}: {error!r}"
                    )
