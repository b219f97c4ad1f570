# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The demo scenario: real Odoo flows that put sales orders in every stage.

Partners, products, vendor prices and the second warehouse are XML data
(``data/*.xml``). This hook adds what only real documents can express: the
initial inventory, open purchase orders, and sales orders taken through
quotation, approval requests and decisions, confirmation, the credit
policy, reservation, make-to-order purchasing, dropship, delivery (with a
backorder), invoicing, payment, a return refunded and cancellation. The Order Visibility
engine derives every stage from those documents and opens the exceptions;
nothing here writes a stage or an exception. What the hook does adjust is
*when* things happened (see ``DemoScenario.backdate_timeline``), then it
runs the exception sweep once so that the queue is filled at installation.
"""

import json
import logging
import time
from datetime import datetime, timedelta

from odoo import fields
from odoo.addons.order_visibility.tools import flows
from odoo.addons.order_visibility_webhooks.tools import signing
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
        # Rotterdam DC can cover the sunflower oil the main warehouse lacks
        # (Order Visibility > Reassign Fulfilment on the Harbor order).
        "product_sunflower_oil": 30,
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
#   confirm  confirmation asked: a threshold may require an approval (the
#            order stays a quotation, approval pending), the credit policy
#            may hold it, else stock reservation decides awaiting stock /
#            ready to ship
#   approve  confirmation asked, then the approval granted: confirmed
#   release  confirmed and held by the credit policy, then a release of the
#            hold requested (pending approval)
#   partial  confirmed, what is reserved is delivered, the rest backordered
#   ship     confirmed and delivered (every step of the warehouse's route)
#   invoice  delivered, invoiced and posted
#   pay      delivered, invoiced, posted and paid
#   refund   paid, then part of the goods returned (the return wizard),
#            credited (the credit note wizard) and the refund paid
#   cancel   confirmed, then cancelled
# ``lines``: (product, quantity) or (product, quantity, discount %).
# ``salesperson``: xml id of the order's salesperson, who also asks for its
# confirmation (default: the administrator). ``ordered``: order date, days
# ago. ``promised``: commitment date in days from now (negative: in the
# past, so an open order is late). ``decided``: date of the approval or of
# the release request, days ago; ``note``: its reason. ``invoiced``: invoice
# date, days ago. ``vendor_date``: for make-to-order goods, the receipt date
# the vendor confirmed, days from now (make-to-order or dropship).
# ``returned``: (product, quantity, (days ago the return was requested, the
# goods were back, the credit note was posted, the refund was paid)), with
# ``note`` the reason on the credit note.
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
        "salesperson": "user_account_manager",
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
    # Promised the day after the order, shipped the day after that: late,
    # under Iberia's OTIF target (data/service_level_data.xml).
    {
        "xmlid": "sale_order_iberia_shipped_late",
        "customer": "customer_iberia_hospitality",
        "ref": "IHS-PO-2026-0342",
        "lines": [("product_peeled_tomatoes", 36), ("product_euro_pallet", 10)],
        "flow": "ship",
        "ordered": 30,
        "promised": -29,
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
        # The carrier's signed messages, received through the inbound route's
        # own code path: (milestone, hours ago, note). The failed delivery
        # opens a delivery exception.
        "milestones": [
            ("picked_up", 40, ""),
            ("in_transit", 30, ""),
            ("failed_delivery", 3, "Dock closed at the customer's warehouse, second attempt tomorrow"),
        ],
    },
    # Invoiced flows in the order of their invoice dates, so that invoice
    # numbers follow the dates. Unpaid 35 days after its due date: the
    # credit policy holds this customer's next orders (below).
    {
        "xmlid": "sale_order_costa_verde_overdue_invoice",
        "customer": "customer_costa_verde_catering",
        "salesperson": "user_account_manager",
        "ref": "CVC-ENC-0088",
        "lines": [("product_penne_rigate", 40), ("product_peeled_tomatoes", 96)],
        "flow": "invoice",
        "ordered": 54,
        "promised": -50,
        # 15-day terms: due 35 days ago, beyond the 30-day overdue threshold.
        "invoiced": 50,
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
    # Returned and refunded: four cans arrived dented and leaking; the bakery
    # sent them back, was credited for them and refunded. The return is a
    # lifecycle beside the stage: the order stays paid.
    {
        "xmlid": "sale_order_boulangerie_refunded",
        "customer": "customer_boulangerie_centrale",
        "ref": "BCL-CMD-1152",
        "lines": [("product_olive_oil", 12), ("product_peeled_tomatoes", 48)],
        "flow": "refund",
        "ordered": 28,
        "promised": -25,
        "invoiced": 24,
        "returned": ("product_olive_oil", 4, (10, 8, 7, 5)),
        "note": "4 cans of olive oil arrived dented and leaking",
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
    # Governance: thresholds gate the confirmation (docs/dev/architecture.md, Governing).
    {
        "xmlid": "sale_order_harbor_tender_pending_approval",
        "customer": "customer_harbor_fresh",
        "salesperson": "user_account_manager",
        "ref": "HFF-TND-2026-07",
        # 51,000 untaxed: reaches the high-value amount (50,000).
        "lines": [("product_olive_oil", 1200)],
        "flow": "confirm",
        "ordered": 2,
        "promised": 21,
    },
    {
        "xmlid": "sale_order_iberia_low_margin_pending_approval",
        "customer": "customer_iberia_hospitality",
        "salesperson": "user_account_manager",
        "ref": "IHS-PO-2026-0431",
        # 40 % off for a hotel group's winter menu promotion: 4 % margin.
        "lines": [("product_penne_rigate", 80, 40)],
        "flow": "confirm",
        "ordered": 1,
        "promised": 9,
    },
    {
        "xmlid": "sale_order_ferretti_low_margin_approved",
        "customer": "customer_ferretti_industrial",
        "salesperson": "user_account_manager",
        "ref": "FFI-OA-88240",
        # Pallets priced against a competitor: 8 % margin, approved anyway.
        "lines": [("product_euro_pallet", 200, 30)],
        "flow": "approve",
        "ordered": 3,
        "decided": 2,
        "note": "Price matched to keep the pallet pooling account; margin reviewed at the contract renewal.",
        "promised": 4,
    },
    # Credit: the unpaid invoice above holds the customer's next orders.
    {
        "xmlid": "sale_order_costa_verde_credit_hold",
        "customer": "customer_costa_verde_catering",
        "salesperson": "user_account_manager",
        "ref": "CVC-ENC-0117",
        "lines": [("product_olive_oil", 12), ("product_basmati_rice", 20)],
        "flow": "confirm",
        "ordered": 3,
        "promised": 2,
    },
    {
        "xmlid": "sale_order_costa_verde_release_requested",
        "customer": "customer_costa_verde_catering",
        "salesperson": "user_account_manager",
        "ref": "CVC-ENC-0121",
        "lines": [("product_peeled_tomatoes", 48), ("product_durum_flour", 10)],
        "flow": "release",
        "ordered": 2,
        "decided": 1,
        "note": "The customer announced a transfer covering the overdue invoice this week.",
        "promised": 5,
    },
    # Make-to-order: printed boxes bought for this order; the vendor's print
    # run lands after the date promised to the customer.
    {
        "xmlid": "sale_order_vlaamse_supply_delay",
        "customer": "customer_vlaamse_horeca",
        "ref": "VHG-2026-1071",
        "lines": [("product_printed_pizza_box", 40)],
        "flow": "confirm",
        "ordered": 4,
        "promised": 5,
        "vendor_date": 9,
    },
    # Dropship: the producer in Bari ships the drums straight to the
    # customer; the order waits on the purchase the buyer confirmed.
    {
        "xmlid": "sale_order_alpen_dropship",
        "customer": "customer_alpen_gastro",
        "ref": "AGG-B-40577",
        "lines": [("product_olive_oil_drum", 3)],
        "flow": "confirm",
        "ordered": 2,
        "promised": 9,
        "vendor_date": 6,
    },
]


def _post_init_demo_scenario(env):
    """Run the demo scenario once, when the addon is installed."""
    admin = env.ref("base.user_admin")
    rdc = env.ref(f"{MODULE}.warehouse_rotterdam_dc")
    company = rdc.company_id
    # Documents belong to the administrator (salesperson, buyer, approver)
    # unless an order names its salesperson, in the company of the demo
    # warehouses; access rights are not the point here.
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
        self.dated_transition_ids = set()
        self.dated_return_step_ids = set()

    def ref(self, name):
        return self.env.ref(f"{MODULE}.{name}")

    def product(self, name):
        return self.ref(name).product_variant_id

    def days_ago(self, days):
        return self.now - timedelta(days=days)

    def as_salesperson(self, records, spec):
        """``records`` as the order's salesperson would act (still superuser)."""
        if not spec.get("salesperson"):
            return records
        return records.with_user(self.ref(spec["salesperson"])).sudo()

    def register_xmlid(self, record, name):
        self.env["ir.model.data"].create(
            {"module": MODULE, "name": name, "model": record._name, "res_id": record.id, "noupdate": True}
        )

    def commit_point(self, order=None, at=None):
        """What a commit does (flush, pre-commit hooks), so that every step
        of a flow leaves its own transition on the order timeline; the
        step happened at ``at`` in the story of ``order``."""
        self.env.cr.flush()
        # New quotations get their record right after a commit: here, now.
        self.env["order.visibility"]._recompute_new_quotations()
        self.env.cr.flush()
        if order is not None:
            self.backdate_timeline(order, at)

    def backdate_timeline(self, order, at):
        """Date the stage changes the last step of ``order`` caused at ``at``.

        The engine stamps a transition and ``stage_since`` with the time it
        sees the change: the installation. The story happened over the last
        weeks, so the new transitions (``changed_at`` and the hours spent in
        the stage they leave) and the order's ``stage_since`` are moved to
        the step's date. Without it the timelines, stage aging and the
        exceptions that measure time in a stage (stale quotation, stale
        order, invoice blocked) could not show the story. This is demo data
        only: the engine itself never rewrites history.
        """
        at = min(at, self.now)
        visibility = order.visibility_ids
        transitions = self.env["order.visibility.transition"].search(
            [("visibility_id", "=", visibility.id), ("id", "not in", list(self.dated_transition_ids))], order="id"
        )
        since = None
        for transition in transitions:
            if since is None:  # when the previous stage began, as the engine measured it
                since = transition.changed_at - timedelta(hours=transition.duration_hours)
            hours = max((at - since).total_seconds(), 0.0) / 3600.0
            transition.write({"changed_at": at, "duration_hours": round(hours, 4)})
            since = at
        self.dated_transition_ids.update(transitions.ids)
        if transitions or not visibility.last_transition_id:
            visibility.stage_since = at
        # Likewise the steps of the returns lifecycle.
        steps = self.env["order.visibility.return.step"].search(
            [("visibility_id", "=", visibility.id), ("id", "not in", list(self.dated_return_step_ids))]
        )
        if steps:
            steps.write({"changed_at": at})
            visibility.return_state_since = at
            self.dated_return_step_ids.update(steps.ids)

    # ------------------------------------------------------------------

    def run(self):
        self.switch_on_governance()
        self.ensure_chart_of_accounts()
        self.set_product_taxes()
        self.enable_make_to_order()
        self.load_initial_stock()
        self.create_purchases()
        self.create_inbound_source()
        orders = self.env["sale.order"]
        for spec in ORDERS:
            orders |= self.create_order(spec)
        _logger.info("Order Visibility demo scenario: %d sales orders created", len(orders))
        self.act_on_exceptions()
        self.run_exception_sweep()

    def switch_on_governance(self):
        """The approval and credit rules are off after installing the suite;
        the distributor of the demo has switched them on in Settings."""
        params = self.env["ir.config_parameter"]
        for key in (
            "order_visibility.approve_high_value",
            "order_visibility.approve_low_margin",
            "order_visibility.hold_overdue",
        ):
            params.set_param(key, True)

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

    def enable_make_to_order(self):
        """What Inventory's setting *Replenish on Order (MTO)* does: the
        route of the printed pizza boxes (make-to-order + buy) applies."""
        self.env.ref("stock.route_warehouse0_mto").active = True

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
        salesperson = self.ref(spec["salesperson"]) if spec.get("salesperson") else self.env.user
        order = self.env["sale.order"].create(
            {
                "partner_id": self.ref(spec["customer"]).id,
                "user_id": salesperson.id,
                "client_order_ref": spec["ref"],
                "warehouse_id": self.warehouses[spec.get("warehouse", "main")].id,
                "date_order": ordered_at,
                "commitment_date": self.now + timedelta(days=promised) if promised is not None else False,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product(name).id,
                            "product_uom_qty": quantity,
                            "discount": discount[0] if discount else 0.0,
                        }
                    )
                    for name, quantity, *discount in spec["lines"]
                ],
            }
        )
        self.register_xmlid(order, spec["xmlid"])
        self.commit_point(order, ordered_at)
        flow = spec["flow"]
        if flow == "sent":
            order.action_quotation_sent()
        elif flow != "draft":
            # As the order form's Confirm button does: a rule may request an approval.
            self.as_salesperson(order, spec).with_context(order_visibility_approval="request").action_confirm()
            # Confirmation stamps the order date with today: keep the story's.
            order.date_order = ordered_at
        self.commit_point(order, ordered_at)
        if spec.get("vendor_date"):
            self.confirm_purchases(order, ordered_at, self.now + timedelta(days=spec["vendor_date"]))
        if flow == "approve":
            self.approve(order, spec, ordered_at)
        elif flow == "release":
            self.request_credit_release(order, spec)
        elif flow == "partial":
            self.deliver(order, ordered_at, backorder=True)
        elif flow in ("ship", "invoice", "pay", "refund"):
            self.deliver(order, ordered_at)
        if spec.get("milestones"):
            self.receive_milestones(order, spec["milestones"])
        if flow in ("invoice", "pay", "refund"):
            invoices = self.invoice(order, self.days_ago(spec["invoiced"]))
            if flow in ("pay", "refund"):
                self.pay(order, invoices)
            if flow == "refund":
                self.return_and_refund(order, invoices, spec)
        elif flow == "cancel":
            order.action_cancel()
            order.message_post(
                body=self.env._("Cancelled at the customer's request: the bakery sourced flour locally this month."),
                subtype_xmlid="mail.mt_note",
            )
            self.commit_point(order, ordered_at + timedelta(days=1))
        return order

    def confirm_purchases(self, order, ordered_at, vendor_date):
        """The buyer confirms the requests for quotation that make-to-order
        or dropship lines of ``order`` created, with the date the vendor gave."""
        lines = self.env["purchase.order.line"].search([("move_dest_ids", "in", order.order_line.move_ids.ids)])
        lines |= order.order_line.purchase_line_ids  # dropship: no move before the purchase is confirmed
        purchases = lines.order_id.filtered(lambda po: po.state in ("draft", "sent"))
        purchases.button_confirm()
        purchases.order_line.date_planned = vendor_date
        self.commit_point(order, ordered_at)

    def approve(self, order, spec, ordered_at):
        """An approver (the administrator: neither the requester nor the
        salesperson) approves the pending requests: the order is confirmed."""
        approvals = order.visibility_ids.approval_ids.filtered(lambda a: a.state == "pending")
        if not approvals:
            raise UserError(self.env._("Demo scenario: %(order)s has no approval to decide.", order=order.name))
        approvals.action_approve(note=spec["note"])
        if order.state != "sale":
            raise UserError(self.env._("Demo scenario: %(order)s was not confirmed.", order=order.name))
        order.date_order = ordered_at
        self.commit_point(order, self.days_ago(spec["decided"]))

    def request_credit_release(self, order, spec):
        """The salesperson asks for the hold to be released, with a reason."""
        visibility = order.visibility_ids
        if not visibility.credit_hold:
            raise UserError(self.env._("Demo scenario: %(order)s is not on credit hold.", order=order.name))
        self.as_salesperson(visibility, spec).action_request_credit_release()
        self.as_salesperson(order, spec).message_post(
            body=self.env._("Credit release requested: %(reason)s", reason=spec["note"]),
            subtype_xmlid="mail.mt_note",
        )
        self.commit_point(order, self.days_ago(spec["decided"]))

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
                self.commit_point(order, shipped_at)

    def validate(self, picking, done_at, backorder=False):
        flows.validate_transfer(picking, backorder=backorder)
        if picking.state != "done":
            raise UserError(self.env._("Demo scenario: transfer %(name)s could not be validated.", name=picking.name))
        # The story happened on ``done_at``, not during the installation.
        picking.date_done = done_at
        picking.move_ids.filtered(lambda m: m.state == "done").write({"date": done_at})
        picking.move_line_ids.write({"date": done_at})

    def invoice(self, order, invoiced_at):
        invoices = flows.invoice_orders(order, invoiced_at.date())
        self.commit_point(order, invoiced_at)
        return invoices

    def pay(self, order, invoices):
        paid_on = min(invoices[0].invoice_date + timedelta(days=12), fields.Date.context_today(invoices[0]))
        flows.register_payment(invoices, paid_on)
        self.commit_point(order, datetime.combine(paid_on, self.now.time()))

    def return_and_refund(self, order, invoices, spec):
        """Part of a paid order comes back: the return wizard on its
        delivery, the goods received, a credit note for them through the
        invoice's credit note wizard, and the refund paid (Register Payment)."""
        product_name, quantity, (asked, back, credited, refunded) = spec["returned"]
        product = self.product(product_name)
        delivery = order.picking_ids.filtered(lambda p: p.state == "done" and p.picking_type_code == "outgoing")
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=delivery.id, active_ids=delivery.ids, active_model="stock.picking")
            .create({})
        )
        for line in wizard.product_return_moves:
            line.quantity = quantity if line.product_id == product else 0
        returned = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        self.commit_point(order, self.days_ago(asked))
        self.validate(returned, self.days_ago(back))
        self.commit_point(order, self.days_ago(back))
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create(
                {"journal_id": invoices.journal_id.id, "reason": spec["note"], "date": self.days_ago(credited).date()}
            )
        )
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        others = refund.invoice_line_ids.filtered(lambda line: line.product_id and line.product_id != product)
        refund.write({"invoice_line_ids": [Command.delete(line.id) for line in others]})
        refund.invoice_line_ids.filtered("product_id").quantity = quantity
        refund.action_post()
        self.commit_point(order, self.days_ago(credited))
        flows.register_payment(refund, self.days_ago(refunded).date())
        self.commit_point(order, self.days_ago(refunded))
        if order.visibility_ids.return_state != "refunded":
            raise UserError(self.env._("Demo scenario: %(order)s was not refunded.", order=order.name))

    def create_inbound_source(self):
        """The carrier that posts signed delivery milestones (its secret is
        generated by the server, as for any new source, and shown once: the
        carrier's copy is ``inbound_secret``, as the administrator who set it
        up would have given it; nobody reads it back from the source)."""
        self.inbound_source = self.env["order.visibility.webhook.source"].create(
            {"name": "Northwind Logistics", "code": "northwind-logistics", "company_id": self.company.id}
        )
        self.inbound_secret = self.inbound_source.action_show_secret()["context"]["default_secret"]
        self.register_xmlid(self.inbound_source, "inbound_source_northwind")

    def receive_milestones(self, order, milestones):
        """The carrier's messages about ``order``, signed with the source's
        secret and received as the route receives them (signature, schema,
        replay protection, effects)."""
        source = self.inbound_source
        carrier = "Northwind Logistics"
        for index, (milestone, hours_ago, note) in enumerate(milestones):
            occurred_at = self.now - timedelta(hours=hours_ago)
            data = {
                "order": order.name,
                "milestone": milestone,
                "occurred_at": occurred_at.isoformat() + "Z",
                "carrier": carrier,
                "tracking_ref": f"NWL{order.id:06d}",
            }
            if note:
                data["note"] = note
            body = json.dumps(
                {"type": f"milestone.{milestone}", "timestamp": self.now.isoformat() + "Z", "data": data}
            ).encode()
            msg_id = f"msg_demo_{order.id}_{index}"
            timestamp = int(time.time())
            headers = {
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signing.sign(self.inbound_secret, msg_id, timestamp, body),
            }
            status, answer = source._receive_message(source.code, headers, body)
            if status != 200:
                raise UserError(
                    self.env._(
                        "Demo scenario: milestone %(milestone)s refused: %(answer)s", milestone=milestone, answer=answer
                    )
                )

    # ------------------------------------------------------------------

    def act_on_exceptions(self):
        """What the team did about two of the open orders (the third, Harbor's
        shortage, is left for the user: Rotterdam DC can cover it)."""
        # The key account manager asks for expedited freight for the rest of
        # Nordic's order; it waits for an approver.
        nordic = self.ref("sale_order_nordic_partially_shipped").visibility_ids
        manager = self.ref("user_account_manager")
        nordic.with_user(manager).sudo().action_request_expedite(
            180.0, self.env._("Nordic's cold-chain audit needs the rest of the containers this week.")
        )
        # Customer service told Ferretti about the delay, from the template.
        ferretti = self.ref("sale_order_ferretti_awaiting_stock").visibility_ids
        ferretti._send_customer_update()
        self.env.cr.flush()

    def run_exception_sweep(self):
        """Fill the exception queue now, as the scheduled sweep will.

        ``order.visibility._cron_exception_sweep`` reports its progress with
        ``ir.cron._commit_progress``, which commits the transaction when it
        runs outside a scheduled job; a post-init hook must not commit (the
        installation commits once the addon is installed, or rolls it all
        back). So this runs what the sweep runs, without the commits: the
        detection of each time-based exception type (``_detect_<code>``),
        the synchronisation of the open exceptions with it, then the risk
        scores, which count the open exceptions.
        """
        Visibility = self.env["order.visibility"]
        OrderException = self.env["order.visibility.exception"]
        now = fields.Datetime.now()
        for code in self.env["order.visibility.exception.type"].search([]).mapped("code"):
            detect = getattr(OrderException, f"_detect_{code}", None)
            if detect is not None:
                OrderException._sync(code, detect(now), None)
        Visibility.search([("company_id", "=", self.company.id)])._update_risk()
        self.env.cr.flush()
