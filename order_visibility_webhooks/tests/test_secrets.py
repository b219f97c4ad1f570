# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""One secret behaviour for webhook endpoints and inbound sources.

The same assertions run on both models (``SecretBehaviourCases``): a secret
generated at creation is shown once, a typed one never; an invalid one is
refused with one translated message and nothing is written; an empty one is
ignored; only administrators of the record's company read, reveal or write
it. Then the migration that gave sources this behaviour.
"""

from pathlib import Path

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.modules.migration import load_script
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import SQL, sql

from ..tools.signing import generate_secret, secret_key
from .common import WebhookCommon

GOOD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the specification's example, 24 bytes
INVALID_MESSAGE = "The signing secret is not valid: it must be whsec_ followed by the base64 of 24 to 64 bytes."
INVALID_MESSAGE_NL = (
    "Het ondertekeningsgeheim is ongeldig: het moet whsec_ zijn, gevolgd door de base64 van 24 tot 64 bytes."
)
MIGRATION = Path(__file__).resolve().parent.parent / "migrations" / "19.0.1.1.0" / "pre-migrate.py"


class SecretBehaviourCases:
    """The shared assertions; a concrete class names its model and how to
    make a record of it (``record_values``)."""

    model = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="OV Secrets B")["company"]
        only_a = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        admin = "order_visibility.group_order_visibility_admin"
        cls.admin = new_test_user(cls.env, f"ov_secret_admin_{cls.suffix}", groups=admin, **only_a)
        cls.manager = new_test_user(
            cls.env,
            f"ov_secret_manager_{cls.suffix}",
            groups="order_visibility.group_order_visibility_manager",
            **only_a,
        )
        cls.admin_b = new_test_user(
            cls.env,
            f"ov_secret_admin_b_{cls.suffix}",
            groups=admin,
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.env["res.lang"]._activate_lang("nl_NL")
        cls.env["ir.module.module"]._load_module_terms(["order_visibility_webhooks"], ["nl_NL"], overwrite=True)
        cls.dutch_admin = new_test_user(
            cls.env, f"ov_secret_admin_nl_{cls.suffix}", groups=admin, lang="nl_NL", **only_a
        )

    def new_record(self, user=None, **values):
        Model = self.env[self.model]
        if user:
            Model = Model.with_user(user)
        return Model.create(dict(self.record_values(), **values))

    def stored(self, record):
        return record.sudo().secret

    def reveal(self, record, user):
        """What the administrator sees in the dialog of the reveal action."""
        action = record.with_user(user).action_show_secret()
        return Form(self.env[action["res_model"]].with_user(user).with_context(**action["context"])).secret

    # -- the tests ------------------------------------------------------

    def test_a_generated_secret_is_shown_once(self):
        record = self.new_record(self.admin)
        generated = self.stored(record)
        self.assertEqual(len(secret_key(generated)), 32, "a whsec_ secret of 32 random bytes")
        self.assertFalse(record.secret_shown)
        self.assertEqual(record.secret_hint, f"whsec_…{generated[-4:]}")
        self.assertEqual(self.reveal(record, self.admin), generated)
        self.assertTrue(record.secret_shown)
        with self.assertRaisesRegex(UserError, "already shown once"):
            record.with_user(self.admin).action_show_secret()
        self.assertFalse(record.with_user(self.admin).read(["new_secret"])[0]["new_secret"], "write-only")
        self.assertFalse(
            self.env["mail.message"].search_count([("body", "ilike", generated[6:20])]),
            "the secret itself is in no message",
        )

    def test_a_typed_secret_is_kept_and_never_shown(self):
        for field in ("new_secret", "secret"):
            with self.subTest(field):
                record = self.new_record(self.admin, **{field: GOOD_SECRET})
                self.assertEqual(self.stored(record), GOOD_SECRET)
                self.assertTrue(record.secret_shown, "typed by the admin: nothing to show")
                with self.assertRaises(UserError):
                    record.with_user(self.admin).action_show_secret()

    def test_an_invalid_secret_is_refused_and_nothing_is_written(self):
        record = self.new_record(self.admin)
        before = self.stored(record)
        messages = len(record.message_ids)
        for field in ("new_secret", "secret"):
            with self.subTest(field):
                with self.assertRaises(ValidationError) as caught:
                    record.with_user(self.admin).write({field: "whsec_not-base64!", "name": "Renamed"})
                self.assertEqual(str(caught.exception), INVALID_MESSAGE)
                self.assertNotIn("not-base64", str(caught.exception), "the value is never echoed")
                self.assertNotEqual(record.name, "Renamed")
                with self.assertRaises(ValidationError):
                    self.new_record(self.admin, **{field: "whsec_" + "A" * 8})
        self.assertEqual(self.stored(record), before)
        self.assertEqual(len(record.message_ids), messages)

    def test_a_dutch_administrator_reads_the_error_in_dutch(self):
        record = self.new_record(self.admin)
        with self.assertRaises(ValidationError) as caught:
            record.with_user(self.dutch_admin).with_context(lang="nl_NL").write({"new_secret": "whsec_nope"})
        self.assertEqual(str(caught.exception), INVALID_MESSAGE_NL)
        as_dutch = record.with_user(self.dutch_admin).with_context(lang="nl_NL")
        as_dutch.action_show_secret()
        with self.assertRaises(UserError) as caught:
            as_dutch.action_show_secret()
        self.assertEqual(
            str(caught.exception), "Dit geheim is al eenmaal getoond; vervang het om een nieuw geheim te krijgen."
        )

    def test_an_empty_secret_is_ignored(self):
        record = self.new_record(self.admin)
        before = self.stored(record)
        for empty in (False, ""):
            for field in ("new_secret", "secret"):
                with self.subTest(field=field, value=empty):
                    record.with_user(self.admin).write({field: empty})
                    self.assertEqual(self.stored(record), before, "never emptied nor regenerated")
                    self.assertFalse(record.secret_shown, "still to be shown once")

    def test_replacing_the_secret_is_noted_never_shown(self):
        record = self.new_record(self.admin)
        other = generate_secret()
        record.with_user(self.admin).write({"new_secret": other})
        self.assertEqual(self.stored(record), other)
        self.assertTrue(record.secret_shown)
        self.assertIn("Signing secret replaced by", record.message_ids[0].body)
        self.assertNotIn(other[6:], str(record.message_ids.mapped("body")))

    def test_only_administrators_read_reveal_or_write_it(self):
        record = self.new_record(self.admin)
        before = self.stored(record)
        for user in (self.manager, self.admin_b):
            as_user = record.with_user(user)
            for name, call in {
                "read the value": lambda as_user=as_user: as_user.read(["secret"]),
                "read the hint": lambda as_user=as_user: as_user.read(["secret_hint"]),
                "reveal it": as_user.action_show_secret,
                "write it": lambda as_user=as_user: as_user.write({"new_secret": GOOD_SECRET}),
                "write it directly": lambda as_user=as_user: as_user.write({"secret": GOOD_SECRET}),
                "mark it shown": lambda as_user=as_user: as_user.write({"secret_shown": True}),
            }.items():
                with self.subTest(user=user.login, call=name), self.assertRaises(AccessError):
                    call()
        self.assertEqual(self.stored(record), before)
        self.assertFalse(record.secret_shown, "nothing was shown")
        as_admin = record.with_user(self.admin)
        with self.assertRaises(AccessError):
            as_admin.read(["secret"])  # write-only, administrators included
        self.assertNotIn("secret", as_admin.fields_get())
        with self.assertRaises(AccessError):
            as_admin.write({"secret_shown": True})  # kept by the server
        with self.assertRaises(AccessError):
            self.new_record(self.admin, secret_shown=True)


@tagged("post_install", "-at_install")
class TestEndpointSecret(SecretBehaviourCases, WebhookCommon):
    model = "order.visibility.webhook.endpoint"
    suffix = "endpoint"

    def record_values(self):
        return {"name": "Receiver", "url": self.receiver.url, "company_id": self.company.id}


@tagged("post_install", "-at_install")
class TestSourceSecret(SecretBehaviourCases, WebhookCommon):
    model = "order.visibility.webhook.source"
    suffix = "source"

    def record_values(self):
        self.count = getattr(self, "count", 0) + 1
        return {"name": "Carrier", "code": f"carrier-{self.count}", "company_id": self.company.id}

    def test_a_new_secret_replaces_the_old_one_at_once_and_is_shown_once(self):
        record = self.new_record(self.admin)
        old = self.stored(record)
        self.reveal(record, self.admin)
        action = record.with_user(self.admin).action_generate_secret()
        new = self.stored(record)
        self.assertNotEqual(new, old)
        self.assertEqual(action["context"]["default_secret"], new, "shown once, in the returned dialog")
        self.assertTrue(record.secret_shown)
        self.assertIn("Signing secret replaced by", record.message_ids[0].body)
        with self.assertRaises(AccessError):
            record.with_user(self.admin_b).action_generate_secret()


@tagged("post_install", "-at_install")
class TestSourceSecretMigration(WebhookCommon):
    """19.0.1.1.0: the source's former columns move to the mixin's."""

    def test_the_former_columns_move_and_nothing_is_lost(self):
        Source = self.env["order.visibility.webhook.source"]
        hidden, readable, typed = (
            Source.create({"name": name, "code": name, "company_id": self.company.id})
            for name in ("hidden", "readable", "typed")
        )
        secrets = {hidden: generate_secret(), readable: generate_secret(), typed: GOOD_SECRET}
        self.env.flush_all()
        cr, table = self.env.cr, SQL.identifier(Source._table)
        # The table as version 19.0.1.0.0 left it.
        cr.execute(SQL("ALTER TABLE %s RENAME COLUMN secret TO stored_secret", table))
        cr.execute(SQL("ALTER TABLE %s RENAME COLUMN secret_shown TO secret_revealed", table))
        for source, revealed in ((hidden, True), (readable, False), (typed, None)):
            cr.execute(
                SQL(
                    "UPDATE %s SET stored_secret = %s, secret_revealed = %s WHERE id = %s",
                    table,
                    secrets[source],
                    revealed,
                    source.id,
                )
            )
        load_script(str(MIGRATION), "pre-migrate").migrate(cr, "19.0.1.0.0")
        self.env.invalidate_all()
        for column, exists in (("stored_secret", False), ("secret_revealed", False), ("secret", True)):
            self.assertEqual(sql.column_exists(cr, Source._table, column), exists, column)
        for source, secret in secrets.items():
            self.assertEqual(source.sudo().secret, secret, "no secret lost or regenerated")
        self.assertTrue(hidden.secret_shown, "a hidden secret stays hidden")
        self.assertFalse(readable.secret_shown, "a readable secret can be shown once more")
        self.assertFalse(typed.secret_shown)
        self.assertEqual(self.reveal_as_superuser(readable), secrets[readable], "the reveal reads the moved value")

    def test_a_value_left_in_both_columns_keeps_the_newer(self):
        Source = self.env["order.visibility.webhook.source"]
        source = Source.create({"name": "both", "code": "both", "company_id": self.company.id})
        newer = generate_secret()
        self.env.flush_all()
        cr, table = self.env.cr, SQL.identifier(Source._table)
        cr.execute(SQL("ALTER TABLE %s ADD COLUMN stored_secret varchar", table))
        cr.execute(SQL("UPDATE %s SET stored_secret = %s WHERE id = %s", table, newer, source.id))
        load_script(str(MIGRATION), "pre-migrate").migrate(cr, "19.0.1.0.0")
        self.env.invalidate_all()
        self.assertFalse(sql.column_exists(cr, Source._table, "stored_secret"))
        self.assertEqual(source.sudo().secret, newer)

    def reveal_as_superuser(self, source):
        return source.action_show_secret()["context"]["default_secret"]
