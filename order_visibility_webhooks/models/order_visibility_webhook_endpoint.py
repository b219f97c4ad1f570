# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import ipaddress
import socket
from datetime import timedelta
from urllib.parse import urlsplit

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools import signing

ALLOW_PRIVATE_PARAM = "order_visibility_webhooks.allow_private_targets"
TEST_EVENT_TYPE = "webhook.test"


def _param_int(env, key, default):
    try:
        return int(env["ir.config_parameter"].sudo().get_param(key, default))
    except (TypeError, ValueError):
        return default


class OrderVisibilityWebhookEndpoint(models.Model):
    """A receiver of the suite's signed events, with its secret(s) and health."""

    _name = "order.visibility.webhook.endpoint"
    _description = "Webhook Endpoint"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    url = fields.Char("URL", required=True, tracking=True, help="Where events are POSTed (https).")
    description = fields.Text()
    event_types = fields.Many2many(
        "order.visibility.webhook.event.type",
        "order_visibility_webhook_endpoint_event_type_rel",
        "endpoint_id",
        "event_type_id",
        help="The events this endpoint receives; leave empty to receive every event type.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, tracking=True
    )
    active = fields.Boolean(default=True, tracking=True)
    timeout = fields.Integer(
        default=lambda self: _param_int(self.env, "order_visibility_webhooks.timeout", 10),
        tracking=True,
        help="Seconds the receiver has to answer one delivery.",
    )
    max_attempts = fields.Integer(
        default=lambda self: _param_int(self.env, "order_visibility_webhooks.max_attempts", 7),
        tracking=True,
        help="Attempts (the first try plus retries) before a delivery is dead-lettered.",
    )
    rotation_overlap_hours = fields.Integer(
        "Rotation Overlap (hours)",
        default=24,
        help="After a rotation, the previous secret keeps signing next to the new one for this long.",
    )
    # Secrets: administrators only (field groups), never tracked, never copied.
    secret = fields.Char(
        groups="order_visibility.group_order_visibility_admin",
        copy=False,
        help="whsec_ followed by base64; leave empty to let the server generate one.",
    )
    previous_secret = fields.Char(groups="order_visibility.group_order_visibility_admin", copy=False)
    previous_secret_expires_at = fields.Datetime(readonly=True, copy=False)
    secret_shown = fields.Boolean(readonly=True, copy=False)
    # Health
    last_success_at = fields.Datetime(readonly=True, copy=False)
    consecutive_failures = fields.Integer(readonly=True, copy=False)
    failing_since = fields.Datetime(readonly=True, copy=False)
    disabled_reason = fields.Char(readonly=True, copy=False, tracking=True)
    delivery_ids = fields.One2many("order.visibility.webhook.delivery", "endpoint_id", string="Deliveries")
    pending_count = fields.Integer(compute="_compute_delivery_counts")
    dead_count = fields.Integer(compute="_compute_delivery_counts")

    _timeout_range = models.Constraint(
        "CHECK(timeout BETWEEN 1 AND 120)", "The timeout must be between 1 and 120 seconds."
    )
    _max_attempts_range = models.Constraint(
        "CHECK(max_attempts BETWEEN 1 AND 20)", "Max attempts must be between 1 and 20."
    )
    _overlap_positive = models.Constraint(
        "CHECK(rotation_overlap_hours >= 0)", "The rotation overlap cannot be negative."
    )

    def _compute_delivery_counts(self):
        counts = {
            (endpoint.id, state): count
            for endpoint, state, count in self.env["order.visibility.webhook.delivery"]._read_group(
                [("endpoint_id", "in", self.ids), ("state", "in", ("pending", "sending", "failed", "dead"))],
                ["endpoint_id", "state"],
                ["__count"],
            )
        }
        for endpoint in self:
            endpoint.pending_count = sum(counts.get((endpoint.id, s), 0) for s in ("pending", "sending", "failed"))
            endpoint.dead_count = counts.get((endpoint.id, "dead"), 0)

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------

    @api.model
    def _allow_private_targets(self):
        value = self.env["ir.config_parameter"].sudo().get_param(ALLOW_PRIVATE_PARAM, "")
        return str(value).strip().lower() in ("1", "true", "yes", "on")

    @api.model
    def _check_target_url(self, url):
        """Refuse ``url`` unless it is a safe target; raise a translated UserError saying why.

        https only; every address the host name resolves to must be public,
        unless ``order_visibility_webhooks.allow_private_targets`` is set (then
        private, loopback and link-local targets are accepted, over http too).
        Called at save time and again before each batch is sent (DNS changes).
        """
        try:
            parts = urlsplit((url or "").strip())
            port = parts.port
        except ValueError:
            parts, port = None, None
        if not parts or parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserError(self.env._("The webhook URL %(url)s is not a valid http(s) URL.", url=url or ""))
        if parts.username or parts.password:
            raise UserError(self.env._("The webhook URL must not carry a user name or password."))
        try:
            infos = socket.getaddrinfo(
                parts.hostname, port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP
            )
        except (socket.gaierror, UnicodeError):
            raise UserError(
                self.env._("The host name %(host)s of the webhook URL cannot be resolved.", host=parts.hostname)
            ) from None
        private = []
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            if (
                address.is_private
                or address.is_loopback
                or address.is_link_local
                or address.is_reserved
                or address.is_multicast
                or address.is_unspecified
            ):
                private.append(str(address))
        allow_private = self._allow_private_targets()
        if private and not allow_private:
            raise UserError(
                self.env._(
                    "The webhook URL %(url)s points to a private, loopback or link-local address (%(address)s). "
                    "Such targets are refused unless the system parameter %(param)s is set.",
                    url=url,
                    address=", ".join(sorted(set(private))),
                    param=ALLOW_PRIVATE_PARAM,
                )
            )
        if parts.scheme != "https" and not (allow_private and len(private) == len(infos)):
            raise UserError(self.env._("The webhook URL %(url)s must use HTTPS.", url=url))

    @api.constrains("url")
    def _check_url(self):
        for endpoint in self:
            try:
                self._check_target_url(endpoint.url)
            except UserError as error:
                raise ValidationError(error.args[0]) from None

    @api.model
    def _check_secret_value(self, secret):
        try:
            signing.secret_key(secret)
        except signing.InvalidSecret:
            # Never echo the value: it is a secret.
            raise ValidationError(
                self.env._(
                    "The signing secret is not valid: it must be whsec_ followed by the base64 of 24 to 64 bytes."
                )
            ) from None

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("secret"):
                self._check_secret_value(vals["secret"])
                vals["secret_shown"] = True  # the admin typed it: nothing to show
            else:
                vals["secret"] = signing.generate_secret()
                vals["secret_shown"] = False
        endpoints = super().create(vals_list)
        self.env.registry.clear_cache()
        return endpoints

    def write(self, vals):
        if vals.get("secret"):
            self._check_secret_value(vals["secret"])
            vals = dict(vals, secret_shown=True)
        elif "secret" in vals:
            vals = {k: v for k, v in vals.items() if k != "secret"}  # a secret cannot be emptied
        reenabled = self.browse()
        if vals.get("active"):
            reenabled = self.filtered(lambda e: not e.active)
            vals = dict(vals, disabled_reason=False, consecutive_failures=0, failing_since=False)
        result = super().write(vals)
        if "secret" in vals:
            for endpoint in self:
                endpoint.message_post(body=self.env._("Signing secret replaced."), subtype_xmlid="mail.mt_note")
        if {"active", "company_id", "event_types", "disabled_reason"} & set(vals):
            self.env.registry.clear_cache()
        if reenabled:
            reenabled._send_backlog()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    @api.model
    @tools.ormcache()
    def _companies_with_active_endpoints(self):
        """Ids of the companies that have an endpoint collecting events (cached:
        emitting costs no query while none exists; cleared when endpoints change).

        An endpoint collects events while active, and also while disabled for
        sustained failure (its backlog is sent when an admin re-enables it);
        an endpoint an admin archived collects nothing.
        """
        rows = self.env.execute_query(
            tools.SQL(
                """SELECT DISTINCT company_id FROM order_visibility_webhook_endpoint
                    WHERE active OR disabled_reason IS NOT NULL"""
            )
        )
        return frozenset(company_id for (company_id,) in rows)

    # ------------------------------------------------------------------
    # Secrets
    # ------------------------------------------------------------------

    def _signing_secrets(self, now=None):
        """The secrets that sign a message now: the current one, and the previous
        one during its rotation overlap. Called as superuser by the dispatcher."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        endpoint = self.sudo()
        secrets = [endpoint.secret]
        if (
            endpoint.previous_secret
            and endpoint.previous_secret_expires_at
            and endpoint.previous_secret_expires_at > now
        ):
            secrets.append(endpoint.previous_secret)
        return secrets

    def _write_internal(self, vals):
        """Write engine-kept fields (secret rotation, health) without the
        user-facing ``write`` rules (secret validation, re-enable backlog)."""
        return super().write(vals)  # pylint: disable=super-method-mismatch

    def _check_admin(self):
        if not self.env.user.has_group("order_visibility.group_order_visibility_admin"):
            raise AccessError(self.env._("Only Order Visibility administrators manage webhook secrets."))

    def action_rotate_secret(self):
        """A new secret; the previous one keeps signing for the overlap, then expires."""
        self.ensure_one()
        self._check_admin()
        now = fields.Datetime.now()
        endpoint = self.sudo()
        expires = now + timedelta(hours=endpoint.rotation_overlap_hours)
        endpoint._write_internal(
            {
                "previous_secret": endpoint.secret,
                "previous_secret_expires_at": expires,
                "secret": signing.generate_secret(),
                "secret_shown": False,
            }
        )
        self.message_post(
            body=self.env._(
                "Signing secret rotated by %(user)s; the previous secret keeps signing until %(until)s UTC.",
                user=self.env.user.name,
                until=fields.Datetime.to_string(expires),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return self.action_show_secret()

    def action_show_secret(self):
        """Show the current secret once (after creation or rotation)."""
        self.ensure_one()
        self._check_admin()
        endpoint = self.sudo()
        if endpoint.secret_shown:
            raise UserError(self.env._("This secret was already shown once; rotate it to get a new one."))
        wizard = self.env["order.visibility.webhook.secret.wizard"].create(
            {"endpoint_id": self.id, "secret": endpoint.secret}
        )
        endpoint._write_internal({"secret_shown": True})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Signing Secret"),
            "res_model": wizard._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_send_test_event(self):
        """Queue a signed ``webhook.test`` event for each endpoint; the dispatcher sends it."""
        Delivery = self.env["order.visibility.webhook.delivery"].sudo()
        deliveries = Delivery._queue_test_events(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "A test event was queued for %(count)s endpoint(s); see its delivery log.",
                    count=len(deliveries),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_deliveries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "order_visibility_webhooks.order_visibility_webhook_delivery_action"
        )
        action["domain"] = [("endpoint_id", "=", self.id)]
        action["context"] = {"default_endpoint_id": self.id}
        return action

    def _send_backlog(self):
        """Re-enabled endpoints: their waiting deliveries are due now (sent in sequence order)."""
        deliveries = (
            self.env["order.visibility.webhook.delivery"]
            .sudo()
            .search([("endpoint_id", "in", self.ids), ("state", "in", ("pending", "failed"))])
        )
        deliveries.write({"next_attempt_at": fields.Datetime.now()})
        self.env.ref("order_visibility_webhooks.ir_cron_dispatch")._trigger()

    def _record_health(self, outcomes, now):
        """``outcomes``: [bool] per attempt in the order they were made."""
        self.ensure_one()
        endpoint = self.sudo()
        failures, failing_since, last_success = endpoint.consecutive_failures, endpoint.failing_since, None
        for ok in outcomes:
            if ok:
                failures, failing_since, last_success = 0, False, now
            else:
                failing_since = failing_since or now
                failures += 1
        vals = {"consecutive_failures": failures, "failing_since": failing_since}
        if last_success:
            vals["last_success_at"] = last_success
        endpoint._write_internal(vals)
        threshold = _param_int(self.env, "order_visibility_webhooks.disable_after_failures", 10)
        minutes = _param_int(self.env, "order_visibility_webhooks.disable_after_minutes", 60)
        if failures >= threshold and failing_since and now - failing_since >= timedelta(minutes=minutes):
            endpoint._disable_for_failures(failures, failing_since)

    def _disable_for_failures(self, failures, failing_since):
        self.ensure_one()
        reason = self.env._(
            "Disabled after %(count)s consecutive failed attempts since %(since)s UTC.",
            count=failures,
            since=fields.Datetime.to_string(failing_since),
        )
        self.write({"active": False, "disabled_reason": reason})
        admins = self.env.ref("order_visibility.group_order_visibility_admin").all_user_ids.filtered(
            lambda u: not u.share and self.company_id in u.company_ids
        )
        for admin in admins:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=admin.id,
                summary=self.env._("Webhook endpoint %(name)s disabled", name=self.name),
                note=reason,
            )
        self.message_post(body=reason, subtype_xmlid="mail.mt_note")
