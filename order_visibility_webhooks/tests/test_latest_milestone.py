# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Each order keeps its latest carrier milestone, which the risk and the
promise's causes read: kept right whatever order the milestones come in,
filled by one UPDATE when the module is upgraded, and no query for the
milestones of an order without any."""

from datetime import UTC, datetime, timedelta

from odoo.tests import tagged

from .common_inbound import InboundCommon


@tagged("post_install", "-at_install")
class TestLatestMilestone(InboundCommon):
    def receive(self, order, milestone, hours_ago, **values):
        occurred_at = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=hours_ago)
        values = {"milestone": milestone, "occurred_at": occurred_at, "order_id": order.id, **values}
        # As the inbound controller runs it: as superuser, once the message is verified.
        received = (
            self.env["order.visibility.milestone"]
            .sudo()
            ._receive(self.source, f"msg_{order.id}_{milestone}_{hours_ago}", values, order)
        )
        self.flush()
        return received

    def test_the_latest_is_the_last_to_occur_not_the_last_received(self):
        order = self.shipped_order()
        visibility = self.visibility(order)
        self.assertFalse(visibility.latest_milestone_id)
        in_transit = self.receive(order, "in_transit", hours_ago=2)
        self.assertEqual(visibility.latest_milestone_id, in_transit)
        self.receive(order, "picked_up", hours_ago=5)  # late news of an earlier step
        self.assertEqual(visibility.latest_milestone_id, in_transit)
        eta = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=6)
        delayed = self.receive(order, "delayed", hours_ago=1, eta=eta)
        self.assertEqual(visibility.latest_milestone_id, delayed)
        self.assertEqual(visibility._latest_milestones(), {visibility.id: delayed})
        self.assertEqual(visibility.risk_reasons[-1][0], "carrier_delay")

    def test_an_upgrade_fills_the_column_as_the_field_computes_it(self):
        orders = [self.shipped_order() for _n in range(3)]
        self.receive(orders[0], "in_transit", hours_ago=2)
        self.receive(orders[0], "picked_up", hours_ago=5)
        self.receive(orders[1], "picked_up", hours_ago=3)
        visibilities = self.env["order.visibility"].search([("sale_order_id", "in", [o.id for o in orders])])
        computed = {v.id: v.latest_milestone_id.id for v in visibilities}
        self.assertEqual(sum(bool(m) for m in computed.values()), 2)
        self.env.cr.execute("ALTER TABLE order_visibility DROP COLUMN latest_milestone_id")
        self.env["order.visibility"]._add_latest_milestone_column()
        self.env.invalidate_all()
        self.assertEqual({v.id: v.latest_milestone_id.id for v in visibilities}, computed)

    def test_no_query_for_the_milestones_of_an_order_without_any(self):
        visibility = self.visibility(self.shipped_order())
        self.env.invalidate_all()
        visibility.fetch(["latest_milestone_id", "stage", "promised_date"])
        with self.assertQueryCount(0):
            self.assertEqual(visibility._latest_milestones(), {})
            self.assertEqual(visibility._carrier_delays(), {})
