# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from urllib.parse import urlsplit

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from ..tools import outbound_http

ALLOW_PRIVATE_PARAM = "order_visibility_webhooks.allow_private_targets"
# Kept by the server (secret rotation, health): never written by a user; the
# secret's own state is in the secret mixin.
ENGINE_FIELDS = frozenset(
    {
        "previous_secret_expires_at",
        "last_success_at",
        "consecutive_failures",
        "failing_since",
        "health_reset_attempt_id",
        "disabled_reason",
    }
)


class OrderVisibilityWebhookEndpoint(models.Model):
    """A receiver of the suite's signed events, with its secret(s) and health.

    The signing secret is the one of every webhook secret
    (``order.visibility.webhook.secret.mixin``); its rotation with overlap is
    in ``order_visibility_webhook_endpoint_secret.py``, health
    (kept by the dispatcher) in ``order_visibility_webhook_endpoint_health.py``.
    """

    _name = "order.visibility.webhook.endpoint"
    _description = "Webhook Endpoint"
    _inherit = ["order.visibility.webhook.secret.mixin", "mail.thread", "mail.activity.mixin"]
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
        default=lambda self: self.env["res.config.settings"]._get_webhook_param("order_visibility_webhooks.timeout"),
        tracking=True,
        help="Seconds the receiver has to answer one delivery.",
    )
    max_attempts = fields.Integer(
        default=lambda self: self.env["res.config.settings"]._get_webhook_param(
            "order_visibility_webhooks.max_attempts"
        ),
        tracking=True,
        help="Attempts (the first try plus retries) before a delivery is dead-lettered.",
    )
    rotation_overlap_hours = fields.Integer(
        "Rotation Overlap (hours)",
        default=24,
        help="After a rotation, the previous secret keeps signing next to the new one for this long.",
    )
    # The secret (secret, new_secret, secret_shown, secret_hint) comes from
    # the secret mixin; during a rotation the previous one keeps signing,
    # read by the dispatcher as superuser only.
    previous_secret = fields.Char(groups=fields.NO_ACCESS, copy=False)
    previous_secret_expires_at = fields.Datetime(readonly=True, copy=False)
    # Health, derived from the attempt log (order_visibility_webhook_endpoint_health.py):
    # the dispatcher never writes this row on its normal path.
    last_success_at = fields.Datetime(compute="_compute_health", help="When the receiver last accepted an event.")
    consecutive_failures = fields.Integer(
        compute="_compute_health",
        search="_search_consecutive_failures",
        help="Failed attempts since the last success (or since the endpoint was last re-enabled).",
    )
    failing_since = fields.Datetime(compute="_compute_health", help="The first failed attempt of the current streak.")
    health_reset_attempt_id = fields.Integer(
        readonly=True,
        copy=False,
        help="Attempts up to this id no longer count in the failure streak (set when the endpoint is re-enabled).",
    )
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
        return self.env["res.config.settings"]._get_webhook_param(ALLOW_PRIVATE_PARAM)

    @api.model
    def _check_target_url(self, url):
        """Refuse ``url`` unless it is a safe target; raise a translated UserError saying why.

        https only; the host name is resolved once and every address it
        resolves to must be globally routable (``outbound_http.is_public_address``:
        private, loopback, link-local, shared 100.64.0.0/10, multicast, reserved
        and the IPv6 forms carrying such an IPv4 address are refused), unless
        ``order_visibility_webhooks.allow_private_targets`` is set (then they
        are accepted, over http too when every address is non-public).
        Called at save time and again before each batch is sent (DNS changes).

        Returns the ``outbound_http.Target``: the dispatcher connects to the
        addresses checked here, never to a second answer of the resolver.
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
        port = port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = outbound_http.resolve(parts.hostname, port)
        except (OSError, UnicodeError):
            raise UserError(
                self.env._("The host name %(host)s of the webhook URL cannot be resolved.", host=parts.hostname)
            ) from None
        private = {
            outbound_http.sockaddr_ip(sockaddr)
            for _family, sockaddr in addresses
            if not outbound_http.is_public_address(outbound_http.sockaddr_ip(sockaddr))
        }
        allow_private = self._allow_private_targets()
        if private and not allow_private:
            raise UserError(
                self.env._(
                    "The webhook URL %(url)s points to a private, loopback or link-local address (%(address)s). "
                    "Such targets are refused unless the system parameter %(param)s is set.",
                    url=url,
                    address=", ".join(sorted(private)),
                    param=ALLOW_PRIVATE_PARAM,
                )
            )
        every_private = len(private) == len({outbound_http.sockaddr_ip(s) for _f, s in addresses})
        if parts.scheme != "https" and not (allow_private and every_private):
            raise UserError(self.env._("The webhook URL %(url)s must use HTTPS.", url=url))
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        return outbound_http.Target(parts.scheme, parts.hostname, port, path, addresses)

    @api.constrains("url")
    def _check_url(self):
        for endpoint in self:
            try:
                self._check_target_url(endpoint.url)
            except UserError as error:
                raise ValidationError(error.args[0]) from None

    def _check_company_unchanged(self, company_id):
        if any(endpoint.company_id.id != company_id for endpoint in self):
            raise ValidationError(
                self.env._(
                    "The company of a webhook endpoint cannot be changed: its events, deliveries and secret "
                    "belong to its company. Create an endpoint in the other company instead."
                )
            )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model
    def _server_kept_fields(self):
        return super()._server_kept_fields() | ENGINE_FIELDS

    @api.model_create_multi
    def create(self, vals_list):
        endpoints = super().create(vals_list)
        self.env.registry.clear_cache()
        return endpoints

    def write(self, vals):
        if "company_id" in vals:
            self._check_company_unchanged(vals["company_id"])
        reenabled = self.filtered(lambda e: not e.active) if vals.get("active") else self.browse()
        result = super().write(vals)
        if reenabled:
            # Unarchived: a fresh start for its health, and its backlog is due now.
            reenabled._reset_health()
            reenabled._send_backlog()
        if {"active", "company_id", "event_types", "disabled_reason"} & set(vals):
            self.env.registry.clear_cache()
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
    # Access
    # ------------------------------------------------------------------

    def _write_internal(self, vals):
        """Write engine-kept fields (health) as superuser, without the
        user-facing ``write`` rules: callers check the access first."""
        return super(OrderVisibilityWebhookEndpoint, self.sudo()).write(vals)  # pylint: disable=super-method-mismatch

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_send_test_event(self):
        """Queue a signed ``webhook.test`` event for each endpoint; the dispatcher sends it.
        Administrators of the endpoints' companies."""
        self._check_admin_access()
        Delivery = self.env["order.visibility.webhook.delivery"].sudo()
        deliveries = Delivery._queue_test_events(self.sudo())
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
        """The endpoint's delivery log. Administrators of the endpoint's company."""
        self.ensure_one()
        self._check_admin_access()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "order_visibility_webhooks.order_visibility_webhook_delivery_action"
        )
        action["domain"] = [("endpoint_id", "=", self.id)]
        action["context"] = {"default_endpoint_id": self.id}
        return action
