# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The service level breach detector: customers whose rolling 90-day OTIF
is under their target, run by the exception sweep (see
docs/user/service-levels.md)."""

from datetime import timedelta

from odoo import api, models

from ..tools.constants import OTIF_WINDOW_DAYS

BREACH = "service_level_breach"


class OrderVisibilityException(models.Model):
    _inherit = "order.visibility.exception"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _detect_service_level_breach(self, now):
        """{(order, "res.partner", customer): detail} for each company and
        customer (commercial partner) with an OTIF target whose OTIF over
        the measured orders of the last 90 days is under the target, with
        at least the Settings' minimum of measured orders.

        Rates are per company: each company measures what it shipped. One
        grouped read over the measured orders of the customers with a
        target; the breach is anchored on the customer's latest order that
        missed OTIF, and stays on the order it opened on while it is open
        (one breach per customer and company).
        """
        Visibility = self.env["order.visibility"]
        customers = (
            self.env["res.partner"]
            .with_context(active_test=False)
            .search_fetch([("ov_otif_target", ">", 0)], ["ov_otif_target", "commercial_partner_id", "user_id"])
            .filtered(lambda partner: partner.commercial_partner_id == partner)
        )
        if not customers:
            return {}
        minimum = max(Visibility._param("order_visibility.otif_breach_min_orders"), 1)
        window = [
            ("is_measured", "=", True),
            ("fully_shipped_date", ">=", now - timedelta(days=OTIF_WINDOW_DAYS)),
            ("fully_shipped_date", "<=", now),
            ("partner_id.commercial_partner_id", "in", customers.ids),
        ]
        counts = {}  # (company id, customer id): [measured, otif]
        for company, customer, is_otif, count in Visibility._read_group(
            window, ["company_id", "partner_id.commercial_partner_id", "is_otif"], ["__count"]
        ):
            figures = counts.setdefault((company.id, customer.id), [0, 0])
            figures[0] += count
            figures[1] += count if is_otif else 0
        target_of = {customer.id: customer.ov_otif_target for customer in customers}
        breached = {
            key: (measured, otif)
            for key, (measured, otif) in counts.items()
            if measured >= minimum and 100.0 * otif / measured < target_of[key[1]]
        }
        if not breached:
            return {}
        # An open breach stays on its order; a new one takes the latest miss.
        anchors = {
            (e.company_id.id, e.res_id): e.visibility_id.id
            for e in self.search_fetch(
                [("code", "=", BREACH), ("state", "!=", "resolved"), ("res_model", "=", "res.partner")],
                ["company_id", "res_id", "visibility_id"],
            )
        }
        if any(key not in anchors for key in breached):
            for missed in Visibility.search_fetch(
                [*window, ("is_otif", "=", False)],
                ["company_id", "partner_id"],
                order="fully_shipped_date desc, id desc",
            ):
                anchors.setdefault((missed.company_id.id, missed.partner_id.commercial_partner_id.id), missed.id)
        companies = self.env["res.company"].browse({company_id for company_id, _customer in breached})
        lang_of = {company.id: company.partner_id.lang or "en_US" for company in companies}
        detected = {}
        for (company_id, customer_id), (measured, otif) in breached.items():
            env_l = self.with_context(lang=lang_of[company_id]).env
            customer = customers.browse(customer_id)
            detected[(anchors[company_id, customer_id], "res.partner", customer_id)] = {
                "detail": env_l._(
                    "%(customer)s: OTIF %(rate).1f %% over the last %(days)s days (%(otif)s of %(orders)s orders "
                    "on time and in full), under the %(target).1f %% target",
                    customer=customer.display_name,
                    rate=100.0 * otif / measured,
                    days=OTIF_WINDOW_DAYS,
                    otif=otif,
                    orders=measured,
                    target=customer.ov_otif_target,
                ),
                "owner_id": customer.user_id.id,
            }
        return detected

    @api.model
    def _related_models(self):
        return [*super()._related_models(), "res.partner"]
