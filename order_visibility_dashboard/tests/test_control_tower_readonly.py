# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The control tower's call can be served by a read-only cursor.

``get_control_tower_data`` is ``@api.readonly``: with ``db_replica_host``
Odoo 19 runs it on a hot standby, where any write fails (Odoo then runs it
again on the primary, logging a warning). Here it runs inside a read-only
subtransaction of the test (``SET TRANSACTION READ ONLY`` after a savepoint,
rolled back after), on a data set with every kind of figure: a write
anywhere in it would raise. ``tests/test_replica.py`` shows the same against
a real standby.
"""

from datetime import timedelta

from psycopg2.errors import ReadOnlySqlTransaction

from odoo import fields
from odoo.addons.order_visibility.tests.common import OrderVisibilityCommon
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestControlTowerReadOnly(OrderVisibilityCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["product.supplierinfo"].create(
            {"partner_id": cls.partner_a.id, "product_tmpl_id": cls.goods.product_tmpl_id.id, "delay": 10}
        )
        cls.ov_user = cls.new_user("ov_readonly_user", "order_visibility.group_order_visibility_user")

    def read_only(self, call):
        """``call()`` in a read-only subtransaction; pending writes flushed first."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute("SAVEPOINT ov_read_only")
        try:
            cr.execute("SET TRANSACTION READ ONLY")
            result = call()
            self.env.flush_all()  # anything left to write would be a write
        finally:
            cr.execute("ROLLBACK TO SAVEPOINT ov_read_only")
        return result

    def test_marked_readonly(self):
        method = type(self.env["order.visibility"]).get_control_tower_data
        self.assertTrue(getattr(method, "_readonly", False), "Odoo 19 routes only @api.readonly calls to the replica")

    def test_the_subtransaction_refuses_writes(self):
        with self.assertRaises(ReadOnlySqlTransaction):
            self.read_only(lambda: self.env.cr.execute("UPDATE res_partner SET name = name WHERE id = %s", [1]))
        self.env.cr.execute("UPDATE res_partner SET name = name WHERE id = %s", [1])  # read-write again

    def test_control_tower_writes_nothing(self):
        self.set_stock(self.goods_b, 8)
        ready = self.create_order([(self.goods_b, 5)], commitment_date=fields.Datetime.now() + timedelta(days=10))
        ready.action_confirm()
        late = self.create_order([(self.goods, 5)], commitment_date=fields.Datetime.now() - timedelta(days=2))
        late.action_confirm()
        shipped = self.create_order([(self.goods_b, 3)])
        shipped.action_confirm()
        self.flush()
        self.deliver(shipped.picking_ids)
        self.flush()
        self.assertTrue(late.visibility_ids.exception_ids, "the data set has an open exception")
        model = self.env["order.visibility"].with_user(self.ov_user)
        for filters in ({}, {"period": 30, "queue_order": "opened_at"}, {"warehouse_id": self.warehouse.id}):
            with self.subTest(filters=filters):
                self.env.invalidate_all()
                data = self.read_only(lambda filters=filters: model.get_control_tower_data(filters))
                self.assertEqual(data["tiles"]["late"]["count"], 1)
                self.assertTrue(data["tiles"]["open_exceptions"]["count"])
                self.assertIn("measures", data["service_levels"])
