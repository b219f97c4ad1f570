# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Fulfilment reassignment: serve the short lines of an order from another
warehouse of its company that holds the goods now (see docs/user/exceptions.md,
"Fulfilment reassignment")."""

from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare

# Exceptions that a full cover from another warehouse clears.
CLEARED_BY_FULL_COVER = ("stock_shortage",)


class OrderVisibility(models.Model):
    _inherit = "order.visibility"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Reading the options
    # ------------------------------------------------------------------

    def _fulfilment_needs(self):
        """{sale.order.line: quantity short (product unit)} of the open
        deliveries of this order that wait for goods its warehouse lacks.

        Only the moves bound for the customer count (the delivery, or the
        first step of a multi-step route): they carry the sales line whose
        procurement is reassigned.
        """
        self.ensure_one()
        if not self._has_goods_to_ship():
            return {}
        order = self.sale_order_id.sudo()
        open_moves = self.sudo()._stage_facts()[order.id].open_moves
        needs = defaultdict(float)
        for move in self._short_moves(open_moves):
            # The first step of a pick-then-ship route already goes to the customer in the end.
            if not move.sale_line_id or (move.location_final_id or move.location_dest_id).usage != "customer":
                continue
            missing = move.product_uom._compute_quantity(move.product_uom_qty - move.quantity, move.product_id.uom_id)
            if float_compare(missing, 0.0, precision_rounding=move.product_id.uom_id.rounding) > 0:
                needs[move.sale_line_id] += missing
        return dict(needs)

    @api.model
    def _fulfilment_lead_days(self, warehouse):
        """Days the warehouse's delivery route adds before goods leave (its rules' lead times)."""
        return sum(warehouse.delivery_route_id.rule_ids.mapped("delay"))

    def get_fulfilment_options(self):
        """Warehouses of the company that can serve the short lines from free stock now.

        Returns a list of ``{"warehouse_id", "covers_all", "lines":
        [{"product_id", "quantity"}], "promised_date", "risk_score"}``, best
        first (full cover first, then the customer's priority, then the lead
        time of the warehouse's delivery route); an empty list when nothing
        helps. ``promised_date`` is the promise once the option is applied
        (unchanged when the goods leave in time); ``risk_score`` the score the
        order would have. Free stock is Odoo's own ``free_qty``, read once
        per warehouse for all short products.
        """
        self.ensure_one()
        self.check_access("read")
        needs = self._fulfilment_needs()
        if not needs:
            return []
        self = self.sudo()  # the engine reads stock: Order Visibility users may have no Inventory rights
        order = self.sale_order_id
        short_by_product = defaultdict(float)
        for line, quantity in needs.items():
            short_by_product[line.product_id] += quantity
        products = self.env["product.product"].browse([p.id for p in short_by_product])
        warehouses = self.env["stock.warehouse"].search(
            [("company_id", "=", order.company_id.id), ("id", "!=", order.warehouse_id.id)]
        )
        now = fields.Datetime.now()
        priority = int(self.customer_priority or 0)
        ranked = []
        for warehouse in warehouses:
            free = {
                row["id"]: row["free_qty"]
                for row in products.with_context(warehouse_id=warehouse.id).read(["free_qty"])
            }
            lines, covers_all, covered = [], True, 0.0
            for product, quantity in short_by_product.items():
                available = max(free.get(product.id, 0.0), 0.0)
                take = min(quantity, available)
                if float_compare(take, quantity, precision_rounding=product.uom_id.rounding) < 0:
                    covers_all = False
                if float_compare(take, 0.0, precision_rounding=product.uom_id.rounding) > 0:
                    lines.append({"product_id": product.id, "quantity": take})
                    covered += take
            if not lines:
                continue
            lead_days = self._fulfilment_lead_days(warehouse)
            ship_date = now + timedelta(days=lead_days)
            if not covers_all:
                # The rest still waits for its goods.
                ship_date = max(ship_date, self._expected_ship_date(now, self._stage_facts()[order.id].open_moves))
            promised = max(self.promised_date, ship_date) if self.promised_date else ship_date
            option = {
                "warehouse_id": warehouse.id,
                "covers_all": covers_all,
                "lines": lines,
                "promised_date": fields.Datetime.to_string(promised),
                "risk_score": self._fulfilment_risk(ship_date, covers_all),
            }
            ranked.append(((not covers_all, -priority, lead_days, -covered, warehouse.id), option))
        return [option for _key, option in sorted(ranked, key=lambda item: item[0])]

    def _fulfilment_risk(self, ship_date, covers_all):
        """The risk score the order would have if its goods left on ``ship_date``
        (``_risk_factors``, the score's own rule; a full cover clears the shortage)."""
        self.ensure_one()
        cleared = CLEARED_BY_FULL_COVER if covers_all else ()
        factors = self._risk_factors(ship_dates={self.id: ship_date}, cleared_codes=cleared)
        return self._risk_score(factors[self.id])

    # ------------------------------------------------------------------
    # Applying one
    # ------------------------------------------------------------------

    def _check_can_reassign(self):
        """Managers may reassign; Users when the order's margin stays above the minimum."""
        self.ensure_one()
        user = self.env.user
        if user.has_group("order_visibility.group_order_visibility_manager"):
            return
        minimum = self._param("order_visibility.min_margin_percent")
        if not user.has_group("order_visibility.group_order_visibility_user") or self.margin_percent < minimum:
            raise AccessError(
                self.env._(
                    "Only Order Visibility managers can reassign the fulfilment of %(order)s: its margin "
                    "(%(margin).1f %%) is below the %(minimum).1f %% minimum.",
                    order=self.display_name,
                    margin=self.margin_percent,
                    minimum=minimum,
                )
            )

    def _fulfilment_snapshot(self):
        self.ensure_one()
        return {
            "stage": self._stage_label(),
            "warehouses": ", ".join(
                self.sale_order_id.sudo()
                .picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
                .picking_type_id.warehouse_id.mapped("name")
            ),
            "promised": fields.Datetime.to_string(self.promised_date) if self.promised_date else "-",
            "risk": self.risk_score,
        }

    def apply_fulfilment_option(self, warehouse_id):
        """Serve the short lines from ``warehouse_id`` (one of ``get_fulfilment_options``).

        The short part of the original deliveries is taken back and procured
        from the chosen warehouse through Odoo's procurement flow (a negative
        procurement merged into the short moves, as when a sales line is
        reduced, and a procurement on the warehouse's delivery route): a new
        delivery from that warehouse, never an edit of quants or done moves.
        The stage engine, the exceptions and the timeline follow; the order's
        chatter records the before and after.
        """
        self.ensure_one()
        self.check_access("read")
        order = self.sale_order_id.sudo()
        if not self._has_goods_to_ship():
            raise UserError(
                self.env._(
                    "%(order)s is %(stage)s: only a confirmed order with goods still to ship can be "
                    "served from another warehouse.",
                    order=order.name,
                    stage=self._stage_label(),
                )
            )
        self._check_can_reassign()
        warehouse_id = warehouse_id.id if isinstance(warehouse_id, models.BaseModel) else int(warehouse_id or 0)
        option = next((o for o in self.get_fulfilment_options() if o["warehouse_id"] == warehouse_id), None)
        if not option:
            raise UserError(
                self.env._(
                    "This warehouse cannot serve the short lines of %(order)s from its free stock now.",
                    order=order.name,
                )
            )
        engine = self.sudo()
        warehouse = self.env["stock.warehouse"].sudo().browse(warehouse_id)
        before = engine._fulfilment_snapshot()
        remaining = {line["product_id"]: line["quantity"] for line in option["lines"]}
        Rule = self.env["stock.rule"].sudo().with_company(order.company_id)
        procurements, moved = [], []
        for short_line, missing in engine._fulfilment_needs().items():
            line = short_line.with_company(order.company_id)
            take = min(missing, remaining.get(line.product_id.id, 0.0))
            if float_compare(take, 0.0, precision_rounding=line.product_id.uom_id.rounding) <= 0:
                continue
            remaining[line.product_id.id] -= take
            values = line._prepare_procurement_values()
            location = line._get_location_final()
            uom = line.product_id.uom_id
            # Taken back from the original delivery (merged into its short move)...
            procurements.append(
                Rule.Procurement(
                    line.product_id, -take, uom, location, line.product_id.display_name, order.name,
                    order.company_id, dict(values),
                )
            )  # fmt: skip
            # ...and procured from the chosen warehouse, on its delivery route.
            procurements.append(
                Rule.Procurement(
                    line.product_id, take, uom, location, line.product_id.display_name, order.name,
                    order.company_id, dict(values, warehouse_id=warehouse, route_ids=warehouse.delivery_route_id),
                )
            )  # fmt: skip
            moved.append(f"{take:g} {uom.name} {line.product_id.display_name}")
        Rule.run(procurements)
        order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel", "draft")).action_assign()
        self.env["order.visibility"]._schedule_recompute(order, "fulfilment_reassigned")
        # Bring the record up to date now, for the after picture.
        self.env.flush_all()
        self.env["order.visibility"].sudo()._run_scheduled_recompute()
        self.invalidate_recordset()
        after = engine._fulfilment_snapshot()
        body = Markup("<br/>").join(
            [
                self.env._(
                    "Fulfilment reassigned by %(user)s: %(lines)s from %(warehouse)s.",
                    user=self.env.user.name,
                    lines=", ".join(moved),
                    warehouse=warehouse.name,
                ),
                self.env._(
                    "Before: %(stage)s, shipping from %(warehouses)s, promised %(promised)s, risk %(risk)s/100.",
                    **before,
                ),
                self.env._(
                    "After: %(stage)s, shipping from %(warehouses)s, promised %(promised)s, risk %(risk)s/100.",
                    **after,
                ),
            ]
        )
        engine.message_post(body=body, subtype_xmlid="mail.mt_note", author_id=self.env.user.partner_id.id)
        order.message_post(body=body, subtype_xmlid="mail.mt_note", author_id=self.env.user.partner_id.id)
        return True

    def action_open_fulfilment_wizard(self):
        """The options of this order in a wizard (server action, buttons)."""
        if len(self) != 1:
            raise UserError(self.env._("Select one order to reassign its fulfilment."))
        self.check_access("read")
        wizard = self.env["order.visibility.fulfilment.wizard"].create({"visibility_id": self.id})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reassign Fulfilment"),
            "res_model": "order.visibility.fulfilment.wizard",
            "res_id": wizard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }
