# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import uuid
from datetime import datetime, timedelta

from odoo.addons.order_visibility.tests.common import OrderVisibilityCommon
from odoo.tests import HttpCase

SOURCE_SECRET = "whsec_" + "a" * 32  # the carrier's secret (write-only on the source)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class PortalCommon(OrderVisibilityCommon, HttpCase):
    """A customer with a portal user, and its orders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = cls.new_user("ov_portal_buyer", "base.group_portal", name="Harbor Buyer")
        cls.portal_user.partner_id.parent_id = cls.customer
        cls.other_customer = cls.env["res.partner"].create({"name": "Dune Bakery"})
        cls.other_portal_user = cls.new_user("ov_portal_other", "base.group_portal", name="Dune Buyer")
        cls.other_portal_user.partner_id.parent_id = cls.other_customer
        cls.source = cls.env["order.visibility.webhook.source"].create(
            {
                "name": "Northwind Logistics",
                "code": "northwind",
                "secret": SOURCE_SECRET,
                "company_id": cls.company.id,
            }
        )

    def shipped_order(self, partner=None):
        order = self.create_order([(self.goods, 2)], partner=partner)
        self.set_stock(self.goods, 2)
        order.action_confirm()
        self.deliver(order.picking_ids)
        self.assertStage(order, "shipped")
        return order

    def add_milestone(self, order, milestone, proof=False, **values):
        """A carrier milestone of ``order``, recorded as the inbound controller does."""
        visibility = self.visibility(order)
        picking = order.picking_ids[:1]
        attachment = self.env["ir.attachment"].sudo()
        if proof:
            attachment = attachment.create(
                {"name": "pod.png", "raw": PNG, "res_model": "stock.picking", "res_id": picking.id}
            )
        milestone = (
            self.env["order.visibility.milestone"]
            .sudo()
            .create(
                {
                    "source_id": self.source.id,
                    "webhook_id": f"msg_{uuid.uuid4().hex}",
                    "visibility_id": visibility.id,
                    "milestone": milestone,
                    "occurred_at": values.pop("occurred_at", datetime.now() - timedelta(hours=1)),
                    "picking_id": picking.id,
                    "attachment_id": attachment.id,
                    **values,
                }
            )
        )
        self.flush()
        return milestone
