# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound sources keep their secret as webhook endpoints do (the secret mixin).

Before: the value in ``stored_secret``, readable by administrators through a
computed ``secret`` until ``secret_revealed`` (set by *Hide Secret*). After:
the value in ``secret`` (read by nobody), shown once unless ``secret_shown``.
Run before the models are loaded, so that the ORM finds the columns under
their new names: no secret is lost or regenerated, a hidden secret stays
hidden (``secret_shown``) and one still readable can be shown once more.

The secret dialog now names any record (``res_model``/``res_id``) instead of
an endpoint: its transient rows (which keep no secret) go, and its
company rule (``noupdate``) reads the dialog's own company.
"""

from odoo.tools import SQL, sql

SOURCE_TABLE = "order_visibility_webhook_source"
WIZARD_TABLE = "order_visibility_webhook_secret_wizard"


def _move_column(cr, table, old, new):
    """Give ``table``'s column ``old`` the name ``new``; where both exist
    (``new`` left by an earlier version), the values of ``old`` win."""
    if not sql.column_exists(cr, table, old):
        return
    if not sql.column_exists(cr, table, new):
        sql.rename_column(cr, table, old, new)
        return
    cr.execute(
        SQL(
            "UPDATE %(table)s SET %(new)s = %(old)s WHERE %(old)s IS NOT NULL",
            table=SQL.identifier(table),
            new=SQL.identifier(new),
            old=SQL.identifier(old),
        )
    )
    cr.execute(SQL("ALTER TABLE %s DROP COLUMN %s", SQL.identifier(table), SQL.identifier(old)))


def migrate_source_secrets(cr):
    if not sql.table_exists(cr, SOURCE_TABLE):
        return
    _move_column(cr, SOURCE_TABLE, "stored_secret", "secret")
    _move_column(cr, SOURCE_TABLE, "secret_revealed", "secret_shown")


def migrate_secret_wizard(cr):
    if sql.table_exists(cr, WIZARD_TABLE) and sql.column_exists(cr, WIZARD_TABLE, "endpoint_id"):
        cr.execute(SQL("DELETE FROM %s", SQL.identifier(WIZARD_TABLE)))
        cr.execute(SQL("ALTER TABLE %s DROP COLUMN endpoint_id", SQL.identifier(WIZARD_TABLE)))
    cr.execute(
        SQL(
            """UPDATE ir_rule SET domain_force = %s
                WHERE id IN (SELECT res_id FROM ir_model_data
                              WHERE module = 'order_visibility_webhooks'
                                AND name = 'webhook_secret_wizard_rule_company'
                                AND model = 'ir.rule')""",
            "[('company_id', 'in', company_ids)]",
        )
    )


def migrate(cr, version):
    if not version:
        return
    migrate_source_secrets(cr)
    migrate_secret_wizard(cr)
