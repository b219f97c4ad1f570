# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.addons.order_visibility.tests.common import OrderVisibilityCommon
from odoo.fields import Command

USER = "order_visibility.group_order_visibility_user"


class ControlTowerCommon(OrderVisibilityCommon):
    """Two companies for the control tower's tests: company A (the test's)
    and ``company_b`` with its ``warehouse_b``; goods whose vendor needs 10
    days."""

    @classmethod
    def setup_tower_companies(cls, prefix):
        """The second company ("OV <Prefix> B") and two Order Visibility
        users: of company A (``ov_<prefix>_user``) and of both
        (``ov_<prefix>_user_ab``)."""
        cls.env["product.supplierinfo"].create(
            {"partner_id": cls.partner_a.id, "product_tmpl_id": cls.goods.product_tmpl_id.id, "delay": 10}
        )
        company_b = cls.setup_second_company(name=f"OV {prefix.capitalize()} B")
        cls.company_b, cls.warehouse_b = company_b["company"], company_b["warehouse"]
        return (
            cls.new_user(f"ov_{prefix}_user", USER),
            cls.new_user(f"ov_{prefix}_user_ab", USER, cls.company | cls.company_b),
        )

    def order_b(self, quantity=2, product=None, **values):
        """A quotation of company B for ``quantity`` of ``product`` (the goods)."""
        line = {"product_id": (product or self.goods).id, "product_uom_qty": quantity}
        return (
            self.env["sale.order"]
            .with_company(self.company_b)
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company_b.id,
                    "warehouse_id": self.warehouse_b.id,
                    "order_line": [Command.create(line)],
                    **values,
                }
            )
        )
