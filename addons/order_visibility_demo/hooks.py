# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The demo scenario: real Odoo flows that put sales orders in every stage.

Partners, products, vendor prices and the second warehouse are XML data
(``data/*.xml``). This hook adds what only real documents can express: the
initial inventory, open purchase orders, and sales orders taken through
quotation, confirmation, reservation, delivery (with a backorder),
invoicing, payment and cancellation. The Order Visibility engine derives
every stage from those documents; nothing here writes a stage.
"""

import logging
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.fields import Command

_logger = logging.getLogger(__name__)

MODULE = "order_visibility_demo"

# On hand when the scenario starts, per warehouse: "main" is the company's
# default warehouse, "rdc" is Rotterdam DC. Sunflower oil, food containers
# and degreaser are deliberately short of what the orders below ask for.
INITIAL_STOCK = {
    "main": {
        "product_olive_oil": 120,
        "product_sunflower_oil": 8,
        "product_basmati_rice": 200,
        "product_durum_flour": 60,
        "product_peeled_tomatoes": 400,
        "product_penne_rigate": 150,
        "product_stretch_film": 80,
        "product_euro_pallet": 300,
        "product_food_container": 4,
        "product_nitrile_gloves": 500,
        "product_degreaser": 0,
    },
    "rdc": {
        "product_olive_oil": 40,
        "product_basmati_rice": 50,
        "product_peeled_tomatoes": 100,
        "product_euro_pallet": 100,
        "product_stretch_film": 30,
    },
}
INITIAL_STOCK_DAYS_AGO = 60

# Replenishment ordered from vendors and not received yet:
# (xml id, vendor, product, quantity, receipt expected in N days).
PURCHASES = [
    ("purchase_order_degreaser", "vendor_rhein_industrial", "product_degreaser", 40, 4),
    ("purchase_order_sunflower_oil", "vendor_baltic_grain", "product_sunflower_oil", 60, 12),
]

# Sales orders. ``flow`` is how far the order is taken with real Odoo flows:
#   draft    quotation left as is
#   sent     quotation marked as sent
#   confirm  confirmed; stock reservation decides awaiting stock / ready
#   partial  confirmed, what is reserved is delivered, the rest backordered
#   ship     confirmed and delivered (every step of the warehouse's route)
#   invoice  delivered, invoiced and posted
#   pay      delivered, invoiced, posted and paid
#   cancel   confirmed, then cancelled
# ``ordered``: order date, days ago. ``promised``: commitment date in days
# from now (negative: in the past, so an open order is late).
# ``invoiced``: invoice date, days ago.
ORDERS = [
    {
        "xmlid": "sale_order_iberia_quotation",
        "customer": "customer_iberia_hospitality",
        "ref": "IHS-PO-2026-0412",
        "lines": [("product_penne_rigate", 40), ("product_peeled_tomatoes", 120)],
        "flow": "draft",
        "ordered": 1,
    },
    {
        "xmlid": "sale_order_boulangerie_stale_quotation",
        "customer": "customer_boulangerie_centrale",
        "ref": "BCL-DEV-1187",
        "lines": [("product_durum_flour", 30), ("product_olive_oil", 6)],
        "flow": "draft",
        "ordered": 21,
    },
    {
        "xmlid": "sale_order_nordic_quotation_sent",
        "customer": "customer_nordic_cold_chain",
        "ref": "NCC-RFQ-55120",
        "lines": [("product_food_container", 20), ("product_nitrile_gloves", 40)],
        "flow": "sent",
        "ordered": 3,
        "promised": 10,
    },
    {
        "xmlid": "sale_order_ferretti_awaiting_stock",
        "customer": "customer_ferretti_industrial",
        "ref": "FFI-OA-88213",
        "lines": [("product_degreaser", 12), ("product_nitrile_gloves", 100)],
        "flow": "confirm",
        "ordered": 9,
        "promised": -2,
    },
    {
        "xmlid": "sale_order_harbor_awaiting_stock",
        "customer": "customer_harbor_fresh",
        "ref": "HFF-PO-22871",
        "lines": [("product_sunflower_oil", 20), ("product_olive_oil", 30)],
        "flow": "confirm",
        "ordered": 2,
        "promised": 3,
    },
    {
        "xmlid": "sale_order_alpen_ready_to_ship",
        "customer": "customer_alpen_gastro",
        "ref": "AGG-B-40518",
        "lines": [("product_olive_oil", 24), ("product_basmati_rice", 40)],
        "flow": "confirm",
        "ordered": 5,
        "promised": -1,
    },
    {
        "xmlid": "sale_order_vlaamse_ready_to_ship",
        "customer": "customer_vlaamse_horeca",
        "warehouse": "rdc",
        "ref": "VHG-2026-1093",
        "lines": [("product_euro_pallet", 60), ("product_stretch_film", 10)],
        "flow": "confirm",
        "ordered": 1,
        "promised": 2,
    },
    {
        "xmlid": "sale_order_nordic_partially_shipped",
        "customer": "customer_nordic_cold_chain",
        "ref": "NCC-PO-55098",
        "lines": [("product_food_container", 10), ("product_nitrile_gloves", 60)],
        "flow": "partial",
        "ordered": 6,
        "promised": -1,
    },
    {
        "xmlid": "sale_order_iberia_shipped",
        "customer": "customer_iberia_hospitality",
        "ref": "IHS-PO-2026-0377",
        "lines": [("product_penne_rigate", 30), ("product_euro_pallet", 20)],
        "flow": "ship",
        "ordered": 8,
        "promised": -4,
    },
    {
        "xmlid": "sale_order_harbor_shipped_rdc",
        "customer": "customer_harbor_fresh",
        "warehouse": "rdc",
        "ref": "HFF-PO-22790",
        "lines": [("product_olive_oil", 12), ("product_peeled_tomatoes", 48)],
        "flow": "ship",
        "ordered": 4,
        "promised": -1,
    },
    {
        "xmlid": "sale_order_alpen_invoiced",
        "customer": "customer_alpen_gastro",
        "ref": "AGG-B-40102",
        "lines": [("product_durum_flour", 20), ("product_peeled_tomatoes", 60)],
        "flow": "invoice",
        "ordered": 45,
        "promised": -42,
        "invoiced": 40,
    },
    {
        "xmlid": "sale_order_ferretti_paid",
        "customer": "customer_ferretti_industrial",
        "ref": "FFI-OA-87904",
        "lines": [("product_nitrile_gloves", 200), ("product_stretch_film", 20)],
        "flow": "pay",
        "ordered": 20,
        "promised": -17,
        "invoiced": 15,
    },
    {
        "xmlid": "sale_order_harbor_services",
        "customer": "customer_harbor_fresh",
        "ref": "HFF-SRV-0031",
        "lines": [("product_cold_chain_audit", 1), ("product_haccp_training", 2)],
        "flow": "confirm",
        "ordered": 3,
        "promised": 14,
    },
    {
        "xmlid": "sale_order_boulangerie_cancelled",
        "customer": "customer_boulangerie_centrale",
        "ref": "BCL-CMD-1174",
        "lines": [("product_olive_oil", 10), ("product_durum_flour", 10)],
        "flow": "cancel",
        "ordered": 12,
    },
]


def _post_init_demo_scenario(env):
    """Run the demo scenario once, when the addon is installed."""
    admin = env.ref("base.user_admin")
    rdc = env.ref(f"{MODULE}.warehouse_rotterdam_dc")
    company = rdc.company_id
    # Documents belong to the administrator (salesperson, buyer), in the
    # company of the demo warehouses; access rights are not the point here.
    env = env(user=admin.id, su=True, context=dict(env.context, allowed_company_ids=[company.id]))
    DemoScenario(env, company, rdc).run()


class DemoScenario:
    def __init__(self, env, company, rdc):
        self.env = env
        self.company = company
        self.now = fields.Datetime.now()
        main = env["stock.warehouse"].search(
            [("company_id", "=", company.id), ("id", "!=", rdc.id)], order="sequence, id", limit=1
        )
        self.warehouses = {"main": main, "rdc": rdc}

    def ref(self, name):
        return self.env.ref(f"{MODULE}.{name}")

    def product(self, name):
        return self.ref(name).product_variant_id

    def days_ago(self, days):
        return self.now - timedelta(days=days)

    def register_xmlid(self, record, name):
        self.env["ir.model.data"].create(
            {"module": MODULE, "name": name, "model": record._name, "res_id": record.id, "noupdate": True}
        )

    def commit_point(self):
        """What a commit does (flush, pre-commit hooks), so that every step
        of a flow leaves its own transition on the order timeline."""
        self.env.cr.flush()

    # ------------------------------------------------------------------

    def run(self):
        self.ensure_chart_of_accounts()
        self.set_product_taxes()
        self.load_initial_stock()
        self.create_purchases()
        orders = self.env["sale.order"]
        for spec in ORDERS:
            orders |= self.create_order(spec)
        _logger.info("Order Visibility demo scenario: %d sales orders created", len(orders))

    def ensure_chart_of_accounts(self):
        """Invoices need a chart of accounts on the company.

        When ``account`` is installed in the same run as this addon, Odoo
        loads the company's chart only at the very end of the loading
        (``_register_hook``): run that pending load now instead. Otherwise
        a company without accounting gets the generic chart.
        """
        Journal = self.env["account.journal"]
        has_sale_journal = Journal.search_count(
            [*Journal._check_company_domain(self.company), ("type", "=", "sale")], limit=1
        )
        if self.company.chart_template or has_sale_journal:
            return
        pending = getattr(self.env.registry, "_auto_install_template", None)
        if pending is not None:  # loads the chart Odoo chose for self.env.company
            pending(self.env)
            del self.env.registry._auto_install_template
        if not self.company.chart_template:
            self.env["account.chart.template"].try_loading("generic_coa", self.company, install_demo=False)

    def set_product_taxes(self):
        """Products created before the chart was loaded get its default taxes."""
        templates = self.env["product.template"].browse(
            self.env["ir.model.data"]
            .search([("module", "=", MODULE), ("model", "=", "product.template")])
            .mapped("res_id")
        )
        sale_tax = self.company.account_sale_tax_id
        purchase_tax = self.company.account_purchase_tax_id
        if sale_tax:
            templates.filtered(lambda t: not t.taxes_id).taxes_id = sale_tax
        if purchase_tax:
            templates.filtered(lambda t: t.purchase_ok and not t.supplier_taxes_id).supplier_taxes_id = purchase_tax

    def load_initial_stock(self):
        """A real inventory adjustment (stock moves), dated weeks ago."""
        Quant = self.env["stock.quant"].with_context(inventory_mode=True)
        quants = Quant
        for warehouse_key, quantities in INITIAL_STOCK.items():
            location = self.warehouses[warehouse_key].lot_stock_id
            for product_name, quantity in quantities.items():
                if quantity:
                    quants |= Quant.create(
                        {
                            "product_id": self.product(product_name).id,
                            "location_id": location.id,
                            "inventory_quantity": quantity,
                        }
                    )
        quants.action_apply_inventory(date=self.days_ago(INITIAL_STOCK_DAYS_AGO))

    def create_purchases(self):
        warehouse = self.warehouses["main"]
        for xmlid, vendor, product_name, quantity, days in PURCHASES:
            purchase = self.env["purchase.order"].create(
                {
                    "partner_id": self.ref(vendor).id,
                    "picking_type_id": warehouse.in_type_id.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product(product_name).id,
                                "product_qty": quantity,
                                "date_planned": self.now + timedelta(days=days),
                            }
                        )
                    ],
                }
            )
            purchase.button_confirm()
            self.register_xmlid(purchase, xmlid)

    # ------------------------------------------------------------------

    def create_order(self, spec):
        ordered_at = self.days_ago(spec["ordered"])
        promised = spec.get("promised")
        order = self.env["sale.order"].create(
            {
                "partner_id": self.ref(spec["customer"]).id,
                "client_order_ref": spec["ref"],
                "warehouse_id": self.warehouses[spec.get("warehouse", "main")].id,
                "date_order": ordered_at,
                "commitment_date": self.now + timedelta(days=promised) if promised is not None else False,
                "order_line": [
                    Command.create({"product_id": self.product(name).id, "product_uom_qty": quantity})
                    for name, quantity in spec["lines"]
                ],
            }
        )
        self.register_xmlid(order, spec["xmlid"])
        self.commit_point()
        flow = spec["flow"]
        if flow == "sent":
            order.action_quotation_sent()
        elif flow != "draft":
            order.action_confirm()
            # Confirmation stamps the order date with today: keep the story's.
            order.date_order = ordered_at
        self.commit_point()
        if flow == "partial":
            self.deliver(order, ordered_at, backorder=True)
        elif flow in ("ship", "invoice", "pay"):
            self.deliver(order, ordered_at)
        if flow in ("invoice", "pay"):
            invoices = self.invoice(order, self.days_ago(spec["invoiced"]))
            if flow == "pay":
                self.pay(invoices)
        elif flow == "cancel":
            order.action_cancel()
            order.message_post(
                body=self.env._("Cancelled at the customer's request: the bakery sourced flour locally this month."),
                subtype_xmlid="mail.mt_note",
            )
            self.commit_point()
        return order

    def deliver(self, order, ordered_at, backorder=False):
        """Validate what is reserved, step by step along the warehouse route.

        With ``backorder`` the first transfer that cannot be completed is
        split: the reserved part leaves, the rest stays open as a backorder.
        """
        shipped_at = min(ordered_at + timedelta(days=2), self.now)
        for _step in range(3):  # pick, pack, ship at most
            ready = order.picking_ids.filtered(lambda p: p.state == "assigned")
            if not ready:
                break
            for picking in ready:
                self.validate(picking, shipped_at, backorder=backorder)
                self.commit_point()

    def validate(self, picking, done_at, backorder=False):
        # skip_sms: no SMS to the demo customers, no "send SMS?" wizard.
        picking = picking.with_context(skip_sms=True)
        picking.move_ids.filtered("quantity").picked = True
        result = picking.button_validate()
        if isinstance(result, dict) and result.get("res_model") == "stock.backorder.confirmation":
            wizard = self.env["stock.backorder.confirmation"].with_context(**result["context"])
            wizard = wizard.create({})
            if backorder:
                wizard.process()
            else:
                wizard.process_cancel_backorder()
        if picking.state != "done":
            raise UserError(self.env._("Demo scenario: transfer %(name)s could not be validated.", name=picking.name))
        # The story happened on ``done_at``, not during the installation.
        picking.date_done = done_at
        picking.move_ids.filtered(lambda m: m.state == "done").write({"date": done_at})
        picking.move_line_ids.write({"date": done_at})

    def invoice(self, order, invoiced_at):
        invoices = order._create_invoices()
        invoices.invoice_date = invoiced_at.date()
        invoices.action_post()
        self.commit_point()
        return invoices

    def pay(self, invoices):
        paid_on = min(invoices[0].invoice_date + timedelta(days=12), fields.Date.context_today(invoices[0]))
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=invoices.ids).create(
            {"payment_date": paid_on}
        )._create_payments()
        self.commit_point()
