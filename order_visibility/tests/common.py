# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import ast
from datetime import timedelta

from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.order_visibility.tools import flows
from odoo.fields import Command
from odoo.tests import new_test_user


class OrderVisibilityCommon(AccountTestInvoicingCommon):
    """Real sales, stock and accounting documents of one charted company."""

    @classmethod
    def get_default_groups(cls):
        return (
            super().get_default_groups()
            | cls.env.ref("sales_team.group_sale_manager")
            | cls.env.ref("order_visibility.group_order_visibility_admin")
        )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.customer = cls.env["res.partner"].create({"name": "Harbor Foods", "ov_priority": "1"})
        cls.goods = cls._create_product(
            name="Olive Oil 5 L",
            is_storable=True,
            invoice_policy="delivery",
            lst_price=40.0,
            standard_price=25.0,
            taxes_id=False,
        )
        cls.goods_b = cls._create_product(
            name="Basmati Rice 10 kg",
            is_storable=True,
            invoice_policy="delivery",
            lst_price=22.0,
            standard_price=14.0,
            taxes_id=False,
        )
        cls.service = cls._create_product(
            name="Cold-Chain Audit",
            type="service",
            invoice_policy="order",
            lst_price=300.0,
            standard_price=100.0,
            taxes_id=False,
        )

    @classmethod
    def switch_on_governance(cls, *rules):
        """Switch on governance rules, as an admin does in Settings (all by default).

        ``rules``: approve_high_value, approve_low_margin, use_credit_limit,
        hold_overdue. They are off after installation.
        """
        rules = rules or ("approve_high_value", "approve_low_margin", "use_credit_limit", "hold_overdue")
        for rule in rules:
            cls.env["ir.config_parameter"].set_param(f"order_visibility.{rule}", True)

    # -- a second company, a second language ------------------------------

    @classmethod
    def setup_second_company(cls, name="OV Company B"):
        """A second company, with its own chart of accounts and warehouse.

        Returns what ``setup_other_company`` returns (``company``, its
        default accounts, journals and taxes) and its ``warehouse``. Its users
        come from ``new_user``: an admin of that company alone is
        ``new_user(login, groups, company_b)``, a user of both
        ``new_user(login, groups, company | company_b)``.
        """
        data = cls.setup_other_company(name=name)
        data["warehouse"] = cls.env["stock.warehouse"].search([("company_id", "=", data["company"].id)], limit=1)
        return data

    @classmethod
    def new_user(cls, login, groups, companies=None, **values):
        """A user allowed in ``companies`` only (default: the test's company),
        working in the first of them. ``groups``: comma-separated xml ids;
        ``values``: more fields of the user (``lang="nl_NL"``...)."""
        companies = companies or cls.company
        return new_test_user(
            cls.env,
            login,
            groups=groups,
            company_id=companies[0].id,
            company_ids=[Command.set(companies.ids)],
            **values,
        )

    @classmethod
    def setup_dutch(cls, modules=("order_visibility",)):
        """Dutch (nl_NL) installed next to English, with the Dutch terms of
        ``modules`` (their i18n/nl.po) loaded. Its readers come from
        ``new_user(..., lang="nl_NL")``."""
        lang = cls.env["res.lang"]._activate_lang("nl_NL")
        cls.env["ir.module.module"]._load_module_terms(list(modules), ["nl_NL"], overwrite=True)
        return lang

    # -- documents -------------------------------------------------------

    def confirm_in_form(self, order, user=None):
        """Click the order form's Confirm button: call ``action_confirm`` with
        the context the button of the real form view carries."""
        order = order.with_user(user) if user else order
        arch = order.get_views([(False, "form")])["views"]["form"]["arch"]
        buttons = etree.fromstring(arch).xpath("//header/button[@name='action_confirm']")
        self.assertTrue(buttons, "the order form has a Confirm button")
        contexts = {button.get("context") for button in buttons}
        self.assertEqual(len(contexts), 1, "every Confirm button of the form behaves the same")
        return order.with_context(**ast.literal_eval(contexts.pop())).action_confirm()

    def create_order(self, lines, partner=None, warehouse=None, **values):
        """``lines``: iterable of (product, quantity)."""
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "warehouse_id": (warehouse or self.warehouse).id,
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": qty}) for product, qty in lines
                ],
                **values,
            }
        )

    def overdue_invoice(self, partner, amount=500.0, days_overdue=45):
        """A posted customer invoice of ``partner``, due ``days_overdue`` days ago."""
        invoice = self.init_invoice(
            "out_invoice",
            partner=partner,
            invoice_date=fields.Date.today() - timedelta(days=days_overdue + 15),
            amounts=[amount],
            post=True,
        )
        invoice.invoice_date_due = fields.Date.today() - timedelta(days=days_overdue)
        return invoice

    def set_stock(self, product, quantity, location=None):
        self.env["stock.quant"]._update_available_quantity(product, location or self.stock_location, quantity)

    def receive(self, product, quantity, warehouse=None):
        """Validate a real receipt of ``quantity`` units into stock."""
        warehouse = warehouse or self.warehouse
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.in_type_id.id,
                "location_id": self.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": warehouse.lot_stock_id.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "location_id": self.env.ref("stock.stock_location_suppliers").id,
                            "location_dest_id": warehouse.lot_stock_id.id,
                        }
                    )
                ],
            }
        )
        receipt.action_confirm()
        receipt.move_ids.quantity = quantity
        receipt.move_ids.picked = True
        receipt.button_validate()
        return receipt

    def deliver(self, picking, quantities=None, backorder=True):
        """Validate ``picking``, shipping ``quantities`` {product: qty} (all if None)."""
        if quantities is None:
            quantities = {move.product_id: move.product_uom_qty for move in picking.move_ids}
        return flows.validate_transfer(picking, quantities, backorder=backorder)

    def invoice(self, order):
        return flows.invoice_orders(order)

    def pay(self, invoices):
        flows.register_payment(invoices)

    # -- assertions ------------------------------------------------------

    def flush(self):
        """What a commit does: flush the ORM, run the pre-commit hooks, and
        what runs right after it (new quotations get their record)."""
        self.env.flush_all()
        self.env.cr.flush()
        self.env["order.visibility"]._recompute_new_quotations()
        self.env.flush_all()
        self.env.cr.flush()

    def commit(self):
        """What a commit does, all of it: ``flush``, then the post-commit
        steps (the live notices of open pages; their cursors share the
        test's transaction)."""
        self.flush()
        with self.enter_registry_test_mode():
            self.env.cr.postcommit.run()
        self.env.invalidate_all()

    def run_cron(self, xmlid, at=None):
        """Run a scheduled action as the scheduler does, at time ``at``."""
        self.flush()
        # The scheduler opens its own cursors: make them share the test's.
        with self.enter_registry_test_mode(), freeze_time(at or fields.Datetime.now()):
            self.env.ref(xmlid).method_direct_trigger()
        self.env.invalidate_all()

    def sweep(self, at=None):
        self.run_cron("order_visibility.ir_cron_exception_sweep", at)

    def visibility(self, order):
        self.flush()
        return self.env["order.visibility"].search([("sale_order_id", "=", order.id)])

    def assertStage(self, order, stage):
        visibility = self.visibility(order)
        self.assertEqual(len(visibility), 1, "exactly one visibility record per order")
        self.assertEqual(visibility.stage, stage)
        self.assertEqual(order.visibility_stage, stage, "the sale.order mirror follows")
        return visibility

    def stage_path(self, order):
        transitions = self.visibility(order).transition_ids.sorted("id")
        return [(t.from_stage, t.to_stage) for t in transitions]
