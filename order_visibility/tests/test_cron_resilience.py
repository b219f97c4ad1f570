# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Scheduled passes survive a bad order, and resume when their time is up.

The bad order is made bad for real: a PostgreSQL trigger (created in the
test's transaction, rolled back with it) refuses any update of its
visibility row, as a corrupt row or a lock timeout would.
"""

import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.addons.order_visibility.models import order_visibility_sweep as sweeps
from odoo.tests import tagged
from odoo.tools import SQL

from .common import OrderVisibilityCommon

LOGGER = "odoo.addons.order_visibility.models.order_visibility_sweep"


@tagged("post_install", "-at_install")
class TestCronResilience(OrderVisibilityCommon):
    def confirmed_orders(self, count, **values):
        self.set_stock(self.goods, count)
        orders = self.env["sale.order"]
        for __ in range(count):
            orders |= self.create_order([(self.goods, 1)], **values)
        orders.action_confirm()
        self.flush()
        return orders

    def poison(self, table, event, condition):
        """From now on, ``event`` on the rows of ``table`` matching
        ``condition`` fails in PostgreSQL (all SQL given as SQL objects)."""
        self.env.cr.execute(
            SQL(
                """CREATE FUNCTION ov_test_poison() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN RAISE EXCEPTION 'poisoned row'; END $$;
                   CREATE TRIGGER ov_test_poison BEFORE %s ON %s
                   FOR EACH ROW WHEN (%s) EXECUTE FUNCTION ov_test_poison()""",
                event,
                SQL.identifier(table),
                condition,
            )
        )

    def drift(self, orders, stage="draft"):
        """Store a wrong stage on ``orders``, behind the engine's back."""
        self.env.cr.execute("UPDATE order_visibility SET stage = %s WHERE sale_order_id = ANY(%s)", [stage, orders.ids])
        self.env.invalidate_all()

    def param(self, key):
        return self.env["ir.config_parameter"].get_param(key)

    def test_reconciliation_skips_a_poisoned_order_and_does_the_others(self):
        orders = self.confirmed_orders(7)
        poisoned = orders[3]
        self.drift(orders)
        visibility_id = SQL(str(int(self.visibility(poisoned).id)))
        self.poison("order_visibility", SQL("UPDATE OF stage"), SQL("OLD.id = %s", visibility_id))
        with patch.object(sweeps, "BATCH_SIZE", 3), self.assertLogs(LOGGER, "ERROR") as logs:
            self.run_cron("order_visibility.ir_cron_reconcile")
        self.assertIn(f"reconciliation failed on {poisoned.name}", "\n".join(logs.output))
        for order in orders - poisoned:
            self.assertStage(order, "ready_to_ship")
        self.assertEqual(self.visibility(poisoned).stage, "draft", "its batch-mates were not held back by it")
        self.assertEqual(self.param("order_visibility.last_drift"), "6")
        self.assertEqual(self.param("order_visibility.last_reconcile_failures"), "1")
        self.assertFalse(self.param(sweeps.RECONCILE_PROGRESS_KEY), "a finished pass leaves no progress behind")

    def test_reconciliation_resumes_after_the_last_order_done(self):
        orders = self.confirmed_orders(4)
        self.drift(orders)
        done_before, todo = orders[:2], orders[2:]
        # A previous run stopped (its time was up) after the first two orders.
        self.env["ir.config_parameter"].set_param(
            sweeps.RECONCILE_PROGRESS_KEY,
            json.dumps({"last_id": done_before[-1].id, "checked": 40, "drift": 3, "failed": 0}),
        )
        self.run_cron("order_visibility.ir_cron_reconcile")
        for order in todo:
            self.assertStage(order, "ready_to_ship")
        for order in done_before:
            self.assertEqual(self.visibility(order).stage, "draft", "not redone by the resumed pass")
        self.assertEqual(self.param("order_visibility.last_drift"), "5", "3 before the interruption, 2 after")

    def test_reconciliation_stops_when_the_scheduler_says_time_is_up(self):
        orders = self.confirmed_orders(5)
        self.drift(orders)
        cron = self.env.ref("order_visibility.ir_cron_reconcile")
        self.flush()
        with self.enter_registry_test_mode(), self.registry.cursor() as cr:
            env = self.env(cr=cr)
            progress = env["ir.cron.progress"].create({"cron_id": cron.id, "remaining": 0, "done": 0})
            with patch.object(sweeps, "BATCH_SIZE", 2):
                env["order.visibility"].with_context(
                    ir_cron_progress_id=progress.id, cron_id=cron.id, cron_end_time=0
                )._cron_reconcile()
            saved = json.loads(env["ir.config_parameter"].get_param(sweeps.RECONCILE_PROGRESS_KEY))
            self.assertEqual(saved["checked"], 2, "one batch, then it stopped")
            self.assertGreater(progress.remaining, 0, "the scheduler knows there is more to do")
        self.env.invalidate_all()
        self.assertEqual(self.visibility(orders[-1]).stage, "draft", "the rest waits for the next run")

    def test_sweep_skips_a_poisoned_order_and_does_the_others(self):
        promised = fields.Datetime.now() - timedelta(days=3)
        orders = self.confirmed_orders(4, commitment_date=promised)
        poisoned = orders[1]
        visibility_id = SQL(str(int(self.visibility(poisoned).id)))
        self.poison("order_visibility_exception", SQL("INSERT"), SQL("NEW.visibility_id = %s", visibility_id))
        with self.assertLogs(LOGGER, "ERROR") as logs:
            self.sweep()
        self.assertIn(f"sweep (late_shipment) failed on {poisoned.name}", "\n".join(logs.output))
        late = self.env["order.visibility.exception"].search(
            [("sale_order_id", "in", orders.ids), ("code", "=", "late_shipment"), ("state", "=", "open")]
        )
        self.assertEqual(late.sale_order_id, orders - poisoned)
        self.assertEqual(self.param("order_visibility.last_sweep_failures"), "1")
