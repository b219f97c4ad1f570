# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Access rights matrix of docs/dev/architecture.md (Security), group by group, on real records.

Personas (all internal users of company A only, unless said otherwise):

- ``internal``: base.group_user, no Order Visibility group;
- ``salesman``: sales_team.group_sale_salesman (+ stock user), no Order
  Visibility group: confirms orders, never sees the addon's records;
- ``ov_user`` / ``ov_manager`` / ``ov_admin``: the three Order Visibility
  groups, nothing else;
- ``ov_admin_settings``: Order Visibility Administrator who also has Odoo's
  Settings access (base.group_system), which the Settings screen needs.
"""

from contextlib import contextmanager
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .common import OrderVisibilityCommon

OV = "order_visibility.group_order_visibility"
PERSONA_GROUPS = {
    "internal": "base.group_user",
    "salesman": "sales_team.group_sale_salesman,stock.group_stock_user",
    "ov_user": f"{OV}_user",
    "ov_manager": f"{OV}_manager",
    "ov_admin": f"{OV}_admin",
    "ov_admin_settings": f"{OV}_admin,base.group_system",
}
PERSONAS = tuple(PERSONA_GROUPS)
OPERATIONS = {"r": "read", "w": "write", "c": "create", "u": "unlink"}

# Expected model-level rights (ir.model.access), one string per persona in
# PERSONAS order: r = read, w = write, c = create, u = unlink.
# fmt: off
ACCESS_MATRIX = {
    #                                     internal salesman ov_user ov_manager ov_admin ov_admin_settings
    "order.visibility":                  ("",      "",      "r",    "r",       "r",     "r"),
    "order.visibility.transition":       ("",      "",      "r",    "r",       "r",     "r"),
    "order.visibility.promise.change":   ("",      "",      "r",    "r",       "r",     "r"),
    "order.visibility.return.step":      ("",      "",      "r",    "r",       "r",     "r"),
    "order.visibility.exception":        ("",      "",      "r",    "rw",      "rw",    "rw"),
    "order.visibility.exception.type":   ("",      "",      "r",    "rwcu",    "rwcu",  "rwcu"),
    "order.visibility.approval":         ("",      "",      "r",    "r",       "r",     "r"),
    "order.visibility.settings.log":     ("",      "",      "",     "",        "r",     "r"),
    "order.visibility.exception.wizard": ("",      "",      "rwc",  "rwc",     "rwc",   "rwc"),
    # Users decide expedite requests up to the Settings amount (the approval's own rules apply).
    "order.visibility.approval.wizard":  ("",      "",      "rwc",  "rwc",     "rwc",   "rwc"),
    "order.visibility.customer.update":  ("",      "",      "r",    "r",       "r",     "r"),
    "order.visibility.fulfilment.wizard": ("",     "",      "rwc",  "rwc",     "rwc",   "rwc"),
    "order.visibility.fulfilment.wizard.option": ("", "",   "rwc",  "rwc",     "rwc",   "rwc"),
    "order.visibility.expedite.wizard":  ("",      "",      "rwc",  "rwc",     "rwc",   "rwc"),
    "order.visibility.service.report":   ("",      "",      "r",    "r",       "r",     "r"),
    "order.visibility.promise.wizard":   ("",      "",      "rwc",  "rwc",     "rwc",   "rwc"),
}
# fmt: on

# Models of the addon without a company: why they need no multi-company rule.
NO_COMPANY_RULE = {
    "order.visibility.settings.log": "history of ir.config_parameter values, which are global",
    "order.visibility.exception.wizard": "transient; acts on exceptions, whose rule applies",
    "order.visibility.approval.wizard": "transient; acts on approvals, whose rule applies",
    "order.visibility.fulfilment.wizard": "transient; acts on an order visibility record, whose rule applies",
    "order.visibility.fulfilment.wizard.option": "transient; line of the fulfilment wizard",
    "order.visibility.expedite.wizard": "transient; acts on an order visibility record, whose rule applies",
    "order.visibility.promise.wizard": "transient; writes the order as the user, whose rules apply",
}

OV_READERS = {"ov_user", "ov_manager", "ov_admin", "ov_admin_settings"}
OV_MANAGERS = {"ov_manager", "ov_admin", "ov_admin_settings"}
OV_ADMINS = {"ov_admin", "ov_admin_settings"}

# Every menu of the addon and exactly who sees it.
MENU_VISIBILITY = {
    "menu_order_visibility_root": OV_READERS,
    "menu_order_visibility_orders": OV_READERS,
    "menu_order_visibility_exceptions": OV_READERS,
    "menu_order_visibility_approvals": OV_READERS,
    "menu_order_visibility_reporting": OV_READERS,
    "menu_order_visibility_stage_aging": OV_READERS,
    "menu_order_visibility_service_report": OV_READERS,
    "menu_order_visibility_exception_analysis": OV_READERS,
    "menu_order_visibility_config": OV_MANAGERS,
    "menu_order_visibility_exception_types": OV_MANAGERS,
    "menu_order_visibility_settings": {"ov_admin_settings"},
    "menu_order_visibility_settings_log": OV_ADMINS,
}

# Every server action of the addon offered in an Action menu, and who may run it.
BOUND_SERVER_ACTIONS = {
    "action_server_exception_acknowledge": OV_READERS,
    "action_server_exception_escalate": OV_MANAGERS,
    "action_server_visibility_recompute": OV_MANAGERS,
    "action_server_sale_order_recompute": OV_MANAGERS,
    "action_server_visibility_request_release": OV_READERS,
    "action_server_visibility_reassign_fulfilment": OV_READERS,
    "action_server_visibility_draft_customer_update": OV_READERS,
}


@tagged("post_install", "-at_install")
class TestAccessMatrix(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP = cls.env["ir.config_parameter"]
        cls.ICP.set_param("order_visibility.high_value_amount", 1000)
        cls.ICP.set_param("order_visibility.use_credit_limit", True)
        cls.switch_on_governance("approve_high_value", "use_credit_limit")
        company_b = cls.setup_second_company()
        cls.company_b, cls.warehouse_b = company_b["company"], company_b["warehouse"]

        # Users of company A only.
        cls.users = {name: cls.new_user(f"ovm_{name}", groups) for name, groups in PERSONA_GROUPS.items()}
        # Sells and requests approvals in company A; never decides them.
        cls.seller = cls.new_user(
            "ovm_seller", f"sales_team.group_sale_salesman_all_leads,stock.group_stock_user,{OV}_user"
        )
        cls.manager_ab = cls.new_user("ovm_manager_ab", f"{OV}_manager", cls.company | cls.company_b)

        # An e-mail address: the Draft Customer Update action is run on its held order.
        cls.tight_customer = cls.env["res.partner"].create(
            {"name": "Tight Credit Ltd", "email": "ap@tight.example.com"}
        )
        cls.tight_customer.with_company(cls.company).credit_limit = 100.0

        # Company A: a high-value quotation pending approval, an order short
        # of stock (shortage exception, timeline), an order on credit hold.
        cls.order_a_approval = cls._order(cls.company, cls.warehouse, [(cls.goods, 30)], user=cls.seller)
        cls.order_a_short = cls._order(cls.company, cls.warehouse, [(cls.goods_b, 5)], user=cls.seller)
        cls.order_a_held = cls._order(
            cls.company, cls.warehouse, [(cls.goods, 5)], user=cls.seller, partner=cls.tight_customer
        )
        # Confirmed as the order form's Confirm button does (see confirm_in_form).
        request = {"order_visibility_approval": "request"}
        for order in cls.order_a_approval | cls.order_a_short | cls.order_a_held:
            order.with_user(cls.seller).with_context(**request).action_confirm()
        # Company B: the same kinds of records, made by the test's own user.
        cls.order_b_approval = cls._order(cls.company_b, cls.warehouse_b, [(cls.goods, 30)])
        cls.order_b_short = cls._order(cls.company_b, cls.warehouse_b, [(cls.goods_b, 5)])
        (cls.order_b_approval | cls.order_b_short).with_company(cls.company_b).with_context(**request).action_confirm()
        cls.env.flush_all()
        cls.env.cr.flush()

        cls.type_shortage = cls.env.ref("order_visibility.exception_type_stock_shortage")
        cls.type_b_only = cls.env["order.visibility.exception.type"].create(
            {"code": "b_only", "name": "Company B only", "company_id": cls.company_b.id}
        )
        cls.records_a = cls._records_of(cls.order_a_approval | cls.order_a_short)
        cls.records_b = cls._records_of(cls.order_b_approval | cls.order_b_short)
        cls.exception_a = cls.records_a["order.visibility.exception"].filtered(lambda e: e.code == "stock_shortage")
        cls.approval_a = cls.records_a["order.visibility.approval"]
        cls.visibility_held = cls.env["order.visibility"].search([("sale_order_id", "=", cls.order_a_held.id)])

    @classmethod
    def _order(cls, company, warehouse, lines, user=None, partner=None):
        values = {
            "partner_id": (partner or cls.customer).id,
            "company_id": company.id,
            "warehouse_id": warehouse.id,
            "order_line": [Command.create({"product_id": p.id, "product_uom_qty": qty}) for p, qty in lines],
        }
        if user:
            values["user_id"] = user.id
        return cls.env["sale.order"].with_company(company).create(values)

    @classmethod
    def _records_of(cls, orders):
        visibilities = cls.env["order.visibility"].search([("sale_order_id", "in", orders.ids)])
        return {
            "order.visibility": visibilities,
            "order.visibility.transition": visibilities.transition_ids,
            "order.visibility.exception": visibilities.exception_ids,
            "order.visibility.approval": visibilities.approval_ids,
        }

    def setUp(self):
        super().setUp()
        # Fixtures the other tests rely on: fail here, not in a subtest.
        self.assertEqual(self.order_a_approval.visibility_stage, "pending_approval")
        self.assertEqual(self.order_a_short.visibility_stage, "awaiting_stock")
        self.assertEqual(self.order_a_held.visibility_stage, "credit_hold")
        self.assertEqual(self.order_b_approval.visibility_stage, "pending_approval")
        self.assertEqual(self.order_b_short.visibility_stage, "awaiting_stock")
        self.assertEqual(len(self.exception_a), 1)
        self.assertEqual(len(self.approval_a), 1)
        for model, records in (*self.records_a.items(), *self.records_b.items()):
            self.assertTrue(records, f"no {model} record to test")
        self.assertEqual(self.records_a["order.visibility"].company_id, self.company)
        self.assertEqual(self.records_b["order.visibility"].company_id, self.company_b)

    # -- helpers ---------------------------------------------------------

    @contextmanager
    def rolled_back(self):
        """Run the block as if committed (pre-commit pass included), then undo it."""
        savepoint = self.env.cr.savepoint()
        try:
            yield
            self.flush()
        finally:
            savepoint.close(rollback=True)

    def as_user(self, records, persona):
        """``records`` as ``persona`` would get them from an RPC: nothing cached."""
        self.env.invalidate_all()
        user = persona if not isinstance(persona, str) else self.users[persona]
        return records.with_user(user)

    def expected_ops(self, model, persona):
        rights = ACCESS_MATRIX[model][PERSONAS.index(persona)]
        return {OPERATIONS[letter] for letter in rights}

    # -- 1. CRUD matrix ----------------------------------------------------

    def test_matrix_covers_every_model_of_the_addon(self):
        addon_models = {
            name for name, model in self.env.registry.items() if model._original_module == "order_visibility"
        }
        self.assertEqual(set(ACCESS_MATRIX), addon_models, "ACCESS_MATRIX must list every model of the addon")

    def test_crud_matrix(self):
        for model, rights in ACCESS_MATRIX.items():
            self.assertEqual(len(rights), len(PERSONAS), model)
            for persona, user in self.users.items():
                expected = self.expected_ops(model, persona)
                for operation in OPERATIONS.values():
                    with self.subTest(model=model, persona=persona, operation=operation):
                        allowed = self.env[model].with_user(user).browse().has_access(operation)
                        self.assertEqual(
                            allowed,
                            operation in expected,
                            f"{persona} {'may' if allowed else 'may not'} {operation} {model}; "
                            f"the access matrix expects {'yes' if operation in expected else 'no'}",
                        )
                        if operation in expected:
                            self.env[model].with_user(user).browse().check_access(operation)
                        else:
                            with self.assertRaises(AccessError):
                                self.env[model].with_user(user).browse().check_access(operation)

    def test_crud_matrix_on_records(self):
        """Record level: the readers read company A's records; nobody writes audit records."""
        records = {**self.records_a, "order.visibility.exception.type": self.type_shortage}
        for model, record in records.items():
            for persona in PERSONAS:
                expected = self.expected_ops(model, persona)
                for operation in ("read", "write", "unlink"):
                    with self.subTest(model=model, persona=persona, operation=operation):
                        self.assertEqual(
                            self.as_user(record, persona).has_access(operation),
                            operation in expected,
                            f"{persona} on {len(record)} {model} record(s) of company A, {operation}",
                        )
        settings_log = self.env["order.visibility.settings.log"].sudo().create({"key": "order_visibility.overdue_days"})
        for persona in PERSONAS:
            with self.subTest(model="order.visibility.settings.log", persona=persona):
                self.assertEqual(self.as_user(settings_log, persona).has_access("read"), persona in OV_ADMINS, persona)

    def test_audit_records_are_read_only_for_everyone(self):
        audit = {
            "order.visibility.transition": (self.records_a["order.visibility.transition"][:1], {"cause": "manual"}),
            "order.visibility.approval": (self.approval_a, {"note": "forged"}),
            "order.visibility.settings.log": (
                self.env["order.visibility.settings.log"].sudo().create({"key": "order_visibility.overdue_days"}),
                {"new_value": "forged"},
            ),
            "order.visibility": (self.records_a["order.visibility"][:1], {"credit_hold": True}),
            "order.visibility.promise.change": (
                self.env["order.visibility.promise.change"]
                .sudo()
                .create({"visibility_id": self.records_a["order.visibility"][:1].id}),
                {"cause": "other"},
            ),
        }
        for model, (record, values) in audit.items():
            for persona in PERSONAS:
                with self.subTest(model=model, persona=persona):
                    with self.rolled_back(), self.assertRaises(AccessError):
                        self.as_user(record, persona).write(values)
                    with self.rolled_back(), self.assertRaises(AccessError):
                        self.as_user(record, persona).unlink()
                    with self.rolled_back(), self.assertRaises(AccessError):
                        self.as_user(self.env[model], persona).create({})

    def test_exception_lifecycle_is_written_only_by_its_actions(self):
        """Managers may reassign and re-rate an exception, never rewrite its lifecycle."""
        forged = {
            "state": "resolved",
            "resolution": "forged",
            "resolved_by": self.users["ov_manager"].id,
            "resolved_at": fields.Datetime.now(),
            "acknowledged_by": self.users["ov_manager"].id,
            "opened_at": fields.Datetime.now() - timedelta(days=30),
            "snoozed_until": fields.Datetime.now() + timedelta(days=30),
            "escalation_count": 0,
            "detail": "forged",
            "hours_to_resolve": 1.0,
        }
        for persona in OV_MANAGERS:
            for field_name, value in forged.items():
                with self.subTest(persona=persona, field=field_name):
                    with self.rolled_back(), self.assertRaises(AccessError):
                        self.as_user(self.exception_a, persona).write({field_name: value})
            with self.subTest(persona=persona, field="owner_id, severity"), self.rolled_back():
                exception = self.as_user(self.exception_a, persona)
                exception.write({"owner_id": self.users["ov_user"].id, "severity": "critical"})
                self.assertEqual((exception.owner_id, exception.severity), (self.users["ov_user"], "critical"))
        with self.rolled_back(), self.assertRaises(AccessError):
            self.as_user(self.exception_a, "ov_user").write({"owner_id": self.users["ov_user"].id})

    # -- 2. actions per group, for real -------------------------------------

    def test_acknowledge_and_comment(self):
        for record in (self.exception_a, self.approval_a, self.records_a["order.visibility"][:1]):
            for persona in PERSONAS:
                with self.subTest(model=record._name, persona=persona, action="comment"), self.rolled_back():
                    as_persona = self.as_user(record, persona)
                    if persona in OV_READERS:
                        message = as_persona.message_post(
                            body="Called the carrier", message_type="comment", subtype_xmlid="mail.mt_comment"
                        )
                        self.assertEqual(message.author_id, self.users[persona].partner_id)
                    else:
                        with self.assertRaises(AccessError):
                            as_persona.message_post(
                                body="Called the carrier", message_type="comment", subtype_xmlid="mail.mt_comment"
                            )
        for persona in PERSONAS:
            with self.subTest(persona=persona, action="acknowledge"), self.rolled_back():
                exception = self.as_user(self.exception_a, persona)
                if persona in OV_READERS:
                    exception.action_acknowledge()
                    self.assertEqual(self.exception_a.state, "acknowledged")
                    self.assertEqual(self.exception_a.acknowledged_by, self.users[persona])
                else:
                    with self.assertRaises(AccessError):
                        exception.action_acknowledge()

    def test_snooze(self):
        until = fields.Datetime.now() + timedelta(days=1)
        for persona in PERSONAS:
            with self.subTest(persona=persona, action="snooze"), self.rolled_back():
                exception = self.as_user(self.exception_a, persona)
                if persona in OV_READERS:
                    exception.action_snooze(until, "Truck booked for tomorrow")
                    self.assertEqual(self.exception_a.state, "snoozed")
                else:
                    with self.assertRaises(AccessError):
                        exception.action_snooze(until, "Truck booked for tomorrow")
            with self.subTest(persona=persona, action="snooze (wizard)"), self.rolled_back():
                Wizard = self.as_user(self.env["order.visibility.exception.wizard"], persona)
                values = {
                    "exception_ids": [Command.set(self.exception_a.ids)],
                    "mode": "snooze",
                    "reason": "Truck booked for tomorrow",
                    "snooze_until": until,
                }
                if persona in OV_READERS:
                    Wizard.create(values).action_confirm()
                    self.assertEqual(self.exception_a.state, "snoozed")
                else:
                    with self.assertRaises(AccessError):
                        Wizard.create(values).action_confirm()

    def test_resolve_and_escalate_are_for_managers(self):
        for persona in PERSONAS:
            allowed = persona in OV_MANAGERS
            with self.subTest(persona=persona, action="resolve"), self.rolled_back():
                exception = self.as_user(self.exception_a, persona)
                if allowed:
                    exception.action_resolve("Stock found in the overflow aisle")
                    self.assertEqual(self.exception_a.state, "resolved")
                    self.assertEqual(self.exception_a.resolved_by, self.users[persona])
                else:
                    with self.assertRaises(AccessError):
                        exception.action_resolve("Stock found in the overflow aisle")
            with self.subTest(persona=persona, action="resolve (wizard)"), self.rolled_back():
                Wizard = self.as_user(self.env["order.visibility.exception.wizard"], persona)
                values = {"exception_ids": [Command.set(self.exception_a.ids)], "mode": "resolve", "reason": "Found"}
                if allowed:
                    Wizard.create(values).action_confirm()
                    self.assertEqual(self.exception_a.state, "resolved")
                else:
                    with self.assertRaises(AccessError):
                        Wizard.create(values).action_confirm()
            with self.subTest(persona=persona, action="escalate"), self.rolled_back():
                exception = self.as_user(self.exception_a, persona)
                severity = self.exception_a.severity
                if allowed:
                    exception.action_escalate()
                    self.assertEqual(self.exception_a.escalation_count, 1)
                    self.assertNotEqual(self.exception_a.severity, severity)
                else:
                    with self.assertRaises(AccessError):
                        exception.action_escalate()

    def test_recompute_is_for_managers(self):
        visibility = self.records_a["order.visibility"][:1]
        for persona in PERSONAS:
            with self.subTest(persona=persona, action="recompute"), self.rolled_back():
                if persona in OV_MANAGERS:
                    self.assertIs(self.as_user(visibility, persona).action_recompute(), True)
                else:
                    with self.assertRaises(AccessError):
                        self.as_user(visibility, persona).action_recompute()

    def test_decide_approvals_is_for_managers(self):
        for persona in PERSONAS:
            allowed = persona in OV_MANAGERS
            with self.subTest(persona=persona, action="approve"), self.rolled_back():
                approval = self.as_user(self.approval_a, persona)
                if allowed:
                    approval.action_approve("Key account")
                    self.assertEqual(self.approval_a.state, "approved")
                    self.assertEqual(self.approval_a.decided_by, self.users[persona])
                    self.assertEqual(self.order_a_approval.state, "sale", "approving confirms the order")
                else:
                    with self.assertRaises(AccessError):
                        approval.action_approve("Key account")
            with self.subTest(persona=persona, action="reject"), self.rolled_back():
                approval = self.as_user(self.approval_a, persona)
                if allowed:
                    approval.action_reject("Price below floor")
                    self.assertEqual(self.approval_a.state, "rejected")
                    self.assertEqual(self.order_a_approval.state, "draft")
                else:
                    with self.assertRaises(AccessError):
                        approval.action_reject("Price below floor")
            with self.subTest(persona=persona, action="decide (wizard)"), self.rolled_back():
                Wizard = self.as_user(self.env["order.visibility.approval.wizard"], persona)
                values = {"approval_id": self.approval_a.id, "decision": "approve", "note": "Key account"}
                if allowed:
                    Wizard.create(values).action_confirm()
                    self.assertEqual(self.approval_a.state, "approved")
                else:
                    with self.assertRaises(AccessError):
                        Wizard.create(values).action_confirm()

    def test_segregation_of_duties(self):
        # The requester, who is also the salesperson, may not decide.
        self.assertEqual(self.approval_a.requested_by, self.seller)
        with self.assertRaises(AccessError):
            self.as_user(self.approval_a, self.seller).action_approve()
        # A manager who is the salesperson of the order may not decide either.
        order = self._order(self.company, self.warehouse, [(self.goods, 30)], user=self.users["ov_manager"])
        self.confirm_in_form(order, self.seller)
        self.flush()
        approval = order.visibility_ids.approval_ids
        self.assertEqual((approval.state, approval.requested_by), ("pending", self.seller))
        for persona in ("ov_manager",):
            with self.subTest(persona=persona, role="salesperson"), self.assertRaises(AccessError):
                self.as_user(approval, persona).action_approve()
        self.assertFalse(self.as_user(approval, "ov_manager").can_decide)
        self.assertTrue(self.as_user(approval, "ov_admin").can_decide)
        # A manager who requested a credit release may not grant it.
        self.as_user(self.visibility_held, "ov_manager").action_request_credit_release()
        self.flush()
        release = self.visibility_held.approval_ids.filtered(lambda a: a.reason == "credit_release")
        self.assertEqual((release.state, release.requested_by), ("pending", self.users["ov_manager"]))
        with self.assertRaises(AccessError):
            self.as_user(release, "ov_manager").action_approve("Paid upfront")
        self.as_user(release, "ov_admin").action_approve("Paid upfront")
        self.assertEqual(release.decided_by, self.users["ov_admin"])
        self.assertFalse(self.visibility_held.credit_hold)

    def test_exception_types_are_configured_by_managers(self):
        for persona in PERSONAS:
            allowed = persona in OV_MANAGERS
            with self.subTest(persona=persona, action="configure types"), self.rolled_back():
                Types = self.as_user(self.env["order.visibility.exception.type"], persona)
                shortage = self.as_user(self.type_shortage, persona)
                if allowed:
                    shortage.write({"escalation_hours": 4, "severity": "high"})
                    created = Types.create({"code": "customs_hold", "name": "Customs hold"})
                    created.active = False
                    created.unlink()
                    self.assertEqual(self.type_shortage.escalation_hours, 4)
                else:
                    with self.assertRaises(AccessError):
                        shortage.write({"escalation_hours": 4})
                    with self.assertRaises(AccessError):
                        Types.create({"code": "customs_hold", "name": "Customs hold"})

    def test_settings_are_for_order_visibility_administrators(self):
        for persona in PERSONAS:
            with self.subTest(persona=persona, action="save settings"), self.rolled_back():
                Settings = self.as_user(self.env["res.config.settings"], persona)
                if persona == "ov_admin_settings":
                    Settings.create({"ov_stale_order_days": 9}).execute()
                    self.assertEqual(self.ICP.get_param("order_visibility.stale_order_days"), "9")
                    log = self.env["order.visibility.settings.log"].search(
                        [("key", "=", "order_visibility.stale_order_days")], limit=1
                    )
                    self.assertEqual((log.new_value, log.user_id), ("9", self.users[persona]))
                else:
                    with self.assertRaises(AccessError):
                        Settings.create({"ov_stale_order_days": 9}).execute()
                    self.assertNotEqual(self.ICP.get_param("order_visibility.stale_order_days"), "9")
        with self.rolled_back():
            self.as_user(self.env["res.config.settings"], "ov_admin_settings").create(
                {"ov_at_risk_threshold": 70}
            ).execute()
            for persona in PERSONAS:
                with self.subTest(persona=persona, action="read settings history"):
                    History = self.as_user(self.env["order.visibility.settings.log"], persona)
                    if persona in OV_ADMINS:
                        self.assertIn("order_visibility.at_risk_threshold", History.search([]).mapped("key"))
                    else:
                        with self.assertRaises(AccessError):
                            History.search([])

    def test_invalid_settings_are_refused_even_for_administrators(self):
        Settings = self.as_user(self.env["res.config.settings"], "ov_admin_settings")
        with self.rolled_back(), self.assertRaises(ValidationError):
            Settings.create({"ov_at_risk_threshold": 101}).execute()

    def test_salesman_without_order_visibility_group_still_sells(self):
        salesman = self.users["salesman"]
        normal = self._order(self.company, self.warehouse, [(self.goods_b, 2)], user=salesman)
        high_value = self._order(self.company, self.warehouse, [(self.goods, 30)], user=salesman)
        self.flush()
        # As from the web client: nothing of the order in cache.
        self.as_user(normal, salesman).action_confirm()
        self.flush()
        self.confirm_in_form(self.as_user(high_value, salesman))
        self.flush()
        self.assertEqual(normal.state, "sale")
        self.assertEqual(high_value.state, "draft", "needs an approval first")
        self.assertEqual(high_value.with_user(salesman).visibility_stage, "pending_approval")
        approval = high_value.visibility_ids.approval_ids
        self.assertEqual(approval.requested_by, salesman)
        # The same person, as a warehouse user, ships without any Order Visibility group.
        self.set_stock(self.goods_b, 2)
        picking = self.as_user(normal.picking_ids, salesman)
        picking.action_assign()
        picking.move_ids.picked = True
        picking.button_validate()
        self.flush()
        self.assertEqual(normal.visibility_stage, "shipped")
        with self.assertRaises(AccessError):
            self.as_user(approval, salesman).action_approve()
        # The stage mirror is on the sales order; the addon's records stay out of reach.
        with self.assertRaises(AccessError):
            self.as_user(self.env["order.visibility.transition"], salesman).search([])
        arch = normal.with_user(salesman).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("action_view_visibility_timeline", arch, "no Timeline button for who cannot read it")
        arch = normal.with_user(self.seller).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("action_view_visibility_timeline", arch)

    def test_margins_and_costs_are_for_order_visibility_users(self):
        """Margins and costs on the suite's records: Order Visibility users and up, nobody else."""
        portal = new_test_user(self.env, "ovm_portal", groups="base.group_portal", company_id=self.company.id)
        fields_of = {
            self.records_a["order.visibility"][:1]: ["margin_percent"],
            self.approval_a: ["amount_company", "margin_approved", "expedite_cost", "margin_before", "margin_after"],
        }
        for persona, user in {**self.users, "portal": portal}.items():
            for record, field_names in fields_of.items():
                with self.subTest(persona=persona, model=record._name):
                    if persona in OV_READERS:
                        self.as_user(record, user).read(field_names)
                    else:
                        with self.assertRaises(AccessError):
                            self.as_user(record, user).read(field_names)

    def test_wizards_are_read_by_their_creator_only(self):
        """Wizards hold what a user typed (reasons, notes, costs): nobody else reads them."""
        other_user = self.new_user("ovm_other_user", f"{OV}_manager")
        wizards = {
            "order.visibility.exception.wizard": {
                "exception_ids": [Command.set(self.exception_a.ids)],
                "mode": "resolve",
                "reason": "Found it",
            },
            "order.visibility.approval.wizard": {"approval_id": self.approval_a.id, "note": "Private note"},
        }
        for model, values in wizards.items():
            with self.subTest(model=model):
                mine = self.as_user(self.env[model], "ov_manager").create(values)
                self.assertEqual(self.as_user(self.env[model], other_user).search([("id", "=", mine.id)]).ids, [])
                with self.assertRaises(AccessError):
                    self.as_user(mine, other_user).read(["create_uid"])
                self.assertEqual(self.as_user(self.env[model], "ov_manager").search([("id", "=", mine.id)]), mine)

    # -- menus, window actions and Action-menu entries ----------------------

    def test_every_menu_is_visible_exactly_to_its_groups(self):
        menus = self.env["ir.model.data"].search([("module", "=", "order_visibility"), ("model", "=", "ir.ui.menu")])
        self.assertEqual(set(menus.mapped("name")), set(MENU_VISIBILITY), "MENU_VISIBILITY must list every menu")
        for persona, user in self.users.items():
            visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
            for xmlid, expected in MENU_VISIBILITY.items():
                menu = self.env.ref(f"order_visibility.{xmlid}")
                with self.subTest(menu=xmlid, persona=persona):
                    self.assertEqual(
                        menu.id in visible,
                        persona in expected,
                        f"menu {xmlid} {'shown' if menu.id in visible else 'hidden'} to {persona}",
                    )
                if menu.id in visible and menu.action and menu.action._name == "ir.actions.act_window":
                    with self.subTest(menu=xmlid, persona=persona, model=menu.action.res_model):
                        self.assertTrue(
                            self.env[menu.action.res_model].with_user(user).has_access("read"),
                            f"{persona} sees {xmlid} but cannot read {menu.action.res_model}",
                        )

    def test_every_window_action_model_is_readable_where_offered(self):
        """Actions opened from menus or bound to a model's Action menu."""
        actions = self.env["ir.actions.act_window"].browse(
            self.env["ir.model.data"]
            .search([("module", "=", "order_visibility"), ("model", "=", "ir.actions.act_window")])
            .mapped("res_id")
        )
        for action in actions:
            menus = self.env["ir.ui.menu"].search([("action", "=", f"ir.actions.act_window,{action.id}")])
            for persona, user in self.users.items():
                visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
                offered = any(menu.id in visible for menu in menus)
                if action.binding_model_id:
                    bindings = (
                        self.env["ir.actions.actions"].with_user(user).get_bindings(action.binding_model_id.model)
                    )
                    offered |= action.id in [a["id"] for a in bindings.get("action", [])]
                if offered:
                    with self.subTest(action=action.name, persona=persona):
                        self.assertTrue(
                            self.env[action.res_model].with_user(user).has_access("read"),
                            f"{persona} is offered {action.name} but cannot read {action.res_model}",
                        )

    def test_action_menu_server_actions_run_for_their_groups(self):
        data = self.env["ir.model.data"].search(
            [("module", "=", "order_visibility"), ("model", "=", "ir.actions.server")]
        )
        bound = self.env["ir.actions.server"].browse(data.mapped("res_id")).filtered("binding_model_id")
        self.assertEqual(
            {action.get_external_id()[action.id].split(".")[1] for action in bound},
            set(BOUND_SERVER_ACTIONS),
            "BOUND_SERVER_ACTIONS must list every server action of the Action menus",
        )
        targets = {
            "order.visibility.exception": self.exception_a,
            "order.visibility": self.visibility_held,
            "sale.order": self.order_a_short,
        }
        for xmlid, expected in BOUND_SERVER_ACTIONS.items():
            action = self.env.ref(f"order_visibility.{xmlid}")
            record = targets[action.model_id.model]
            for persona, user in self.users.items():
                bindings = self.env["ir.actions.actions"].with_user(user).get_bindings(action.model_id.model)
                offered = action.id in [a["id"] for a in bindings.get("action", [])]
                with self.subTest(action=xmlid, persona=persona):
                    if record.with_user(user).has_access("read"):
                        self.assertEqual(offered, persona in expected, f"{xmlid} offered to {persona}")
                    with self.rolled_back():
                        run = action.with_user(user).with_context(
                            active_model=record._name, active_id=record.id, active_ids=record.ids
                        )
                        if persona in expected:
                            run.run()
                        else:
                            with self.assertRaises(AccessError):
                                run.run()

    # -- 3. multi-company ------------------------------------------------------

    def test_every_company_model_has_a_global_company_rule(self):
        for model in ACCESS_MATRIX:
            with self.subTest(model=model):
                if model in NO_COMPANY_RULE:
                    self.assertNotIn("company_id", self.env[model]._fields, NO_COMPANY_RULE[model])
                    continue
                self.assertIn("company_id", self.env[model]._fields)
                rules = self.env["ir.rule"].search([("model_id.model", "=", model), ("global", "=", True)])
                self.assertTrue(
                    any("company_ids" in rule.domain_force and rule.perm_read for rule in rules),
                    f"{model} has no multi-company record rule",
                )

    def test_single_company_user_never_sees_the_other_company(self):
        for persona in ("ov_user", "ov_manager", "ov_admin", "ov_admin_settings"):
            with self.subTest(persona=persona):
                self._check_never_sees_the_other_company(self.users[persona])

    def _check_never_sees_the_other_company(self, user_a):
        for model, records_b in self.records_b.items():
            records_a = self.records_a[model]
            with self.subTest(model=model):
                found = self.as_user(self.env[model], user_a).search([("id", "in", (records_a | records_b).ids)])
                self.assertEqual(set(found.ids), set(records_a.ids))
                self.assertFalse(self.as_user(records_b, user_a).has_access("read"))
                with self.assertRaises(AccessError):
                    self.as_user(records_b, user_a).read(["company_id"])
        types = self.as_user(self.env["order.visibility.exception.type"], user_a).search([])
        self.assertNotIn(self.type_b_only.id, types.ids)
        self.assertIn(self.type_shortage.id, types.ids, "types without company are shared")
        self.assertFalse(self.as_user(self.type_b_only, user_a).has_access("read"))

    def test_single_company_user_cannot_act_on_the_other_company(self):
        for persona in ("ov_manager", "ov_admin_settings"):
            with self.subTest(persona=persona):
                self._check_cannot_act_on_the_other_company(self.users[persona])

    def _check_cannot_act_on_the_other_company(self, user_a):
        exception_b = self.records_b["order.visibility.exception"][:1]
        approval_b = self.records_b["order.visibility.approval"]
        until = fields.Datetime.now() + timedelta(days=1)
        attempts = {
            "acknowledge": lambda: self.as_user(exception_b, user_a).action_acknowledge(),
            "snooze": lambda: self.as_user(exception_b, user_a).action_snooze(until, "later"),
            "resolve": lambda: self.as_user(exception_b, user_a).action_resolve("done"),
            "escalate": lambda: self.as_user(exception_b, user_a).action_escalate(),
            "comment": lambda: self.as_user(exception_b, user_a).message_post(body="hi", message_type="comment"),
            "approve": lambda: self.as_user(approval_b, user_a).action_approve("ok"),
            "reject": lambda: self.as_user(approval_b, user_a).action_reject("no"),
            "resolve (wizard)": lambda: (
                self.as_user(self.env["order.visibility.exception.wizard"], user_a)
                .create({"exception_ids": [Command.set(exception_b.ids)], "mode": "resolve", "reason": "done"})
                .action_confirm()
            ),
            "approve (wizard)": lambda: (
                self.as_user(self.env["order.visibility.approval.wizard"], user_a)
                .create({"approval_id": approval_b.id, "decision": "approve"})
                .action_confirm()
            ),
            "recompute": lambda: self.as_user(self.records_b["order.visibility"], user_a).action_recompute(),
        }
        for name, attempt in attempts.items():
            with self.subTest(action=name), self.rolled_back(), self.assertRaises(AccessError):
                attempt()
        self.assertEqual(approval_b.state, "pending")
        self.assertNotEqual(exception_b.state, "resolved")

    def test_exception_types_stay_in_the_companies_of_their_author(self):
        manager_a = self.users["ov_manager"]
        with self.rolled_back(), self.assertRaisesRegex(ValidationError, "you do not work in that company"):
            self.as_user(self.env["order.visibility.exception.type"], manager_a).create(
                {"code": "customs_hold", "name": "Customs hold", "company_id": self.company_b.id}
            )
        with self.rolled_back():
            type_a = self.as_user(self.env["order.visibility.exception.type"], manager_a).create(
                {"code": "customs_hold", "name": "Customs hold", "company_id": self.company.id}
            )
            with self.assertRaisesRegex(ValidationError, "you do not work in that company"):
                type_a.write({"company_id": self.company_b.id})
                type_a.flush_recordset()
        with self.rolled_back():
            moved = self.as_user(self.type_b_only, self.manager_ab)
            moved.write({"company_id": self.company.id})
            self.assertEqual(self.type_b_only.company_id, self.company, "a manager of both companies may")

    def test_multi_company_user_sees_allowed_companies(self):
        for model, records_b in self.records_b.items():
            both = self.records_a[model] | records_b
            with self.subTest(model=model, companies="A and B"):
                found = self.as_user(self.env[model], self.manager_ab).search([("id", "in", both.ids)])
                self.assertEqual(set(found.ids), set(both.ids))
                self.assertTrue(self.as_user(both, self.manager_ab).has_access("read"))
            with self.subTest(model=model, companies="A selected"):
                in_a = (
                    self.as_user(self.env[model], self.manager_ab)
                    .with_context(allowed_company_ids=self.company.ids)
                    .search([("id", "in", both.ids)])
                )
                self.assertEqual(set(in_a.ids), set(self.records_a[model].ids))
        # ... and acts on both.
        approval_b = self.records_b["order.visibility.approval"]
        with self.rolled_back():
            self.as_user(approval_b, self.manager_ab).with_company(self.company_b).action_approve("Agreed")
            self.assertEqual(approval_b.state, "approved")
        exception_b = self.records_b["order.visibility.exception"][:1]
        with self.rolled_back():
            self.as_user(exception_b, self.manager_ab).action_acknowledge()
            self.assertEqual(exception_b.state, "acknowledged")
