# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL, plaintext2html

from ..tools.constants import SEVERITIES, SEVERITY_RANK
from ..tools.domains import boolean_search

EXCEPTION_STATES = [
    ("open", "Open"),
    ("acknowledged", "Acknowledged"),
    ("snoozed", "Snoozed"),
    ("resolved", "Resolved"),
]
# The audit trail of an exception: only the engine and the actions below
# (acknowledge, snooze, resolve, escalate) write it, as superuser. Managers
# may still reassign (owner) and re-rate (severity, tracked) by hand.
LIFECYCLE_FIELDS = frozenset(
    {
        "visibility_id",
        "type_id",
        "state",
        "opened_at",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "resolution",
        "snoozed_until",
        "woken_at",
        "escalated_at",
        "escalation_count",
        "detail",
        "res_model",
        "res_id",
        "hours_to_acknowledge",
        "hours_to_resolve",
    }
)


class OrderVisibilityException(models.Model):
    _name = "order.visibility.exception"
    _description = "Order Exception"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "severity_rank desc, opened_at desc, id desc"
    _check_company_auto = True
    _mail_post_access = "read"

    name = fields.Char(compute="_compute_name", store=True)
    visibility_id = fields.Many2one("order.visibility", required=True, readonly=True, ondelete="cascade", index=True)
    sale_order_id = fields.Many2one(related="visibility_id.sale_order_id", string="Order", store=True, index=True)
    partner_id = fields.Many2one(related="visibility_id.partner_id", string="Customer", store=True)
    company_id = fields.Many2one(related="visibility_id.company_id", store=True, index=True)
    type_id = fields.Many2one(
        "order.visibility.exception.type",
        required=True,
        readonly=True,
        ondelete="restrict",
        index=True,
        check_company=True,
    )
    code = fields.Char(related="type_id.code", store=True, index=True)
    team_group_id = fields.Many2one(related="type_id.group_id", string="Team")
    severity = fields.Selection(SEVERITIES, required=True, tracking=True)
    severity_rank = fields.Integer(compute="_compute_severity_rank", store=True)
    state = fields.Selection(EXCEPTION_STATES, required=True, default="open", readonly=True, index=True, tracking=True)
    owner_id = fields.Many2one(
        "res.users", tracking=True, domain=[("share", "=", False)], index=True, check_company=True
    )
    opened_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    acknowledged_at = fields.Datetime(readonly=True)
    acknowledged_by = fields.Many2one("res.users", readonly=True)
    resolved_at = fields.Datetime(readonly=True)
    resolved_by = fields.Many2one("res.users", readonly=True)
    resolution = fields.Text(readonly=True)
    snoozed_until = fields.Datetime(readonly=True)
    woken_at = fields.Datetime(
        readonly=True, help="When the exception last came back from a snooze: its escalation time counts from then."
    )
    escalated_at = fields.Datetime(readonly=True)
    escalation_count = fields.Integer(readonly=True)
    detail = fields.Char(readonly=True, help="What the engine saw when it opened the exception.")
    res_model = fields.Char("Related Model", required=True, default="", readonly=True)
    res_id = fields.Many2oneReference(
        "Related Record ID", model_field="res_model", required=True, default=0, readonly=True
    )
    related_record = fields.Reference(
        selection="_selection_related_record", string="Related To", compute="_compute_related_record"
    )
    is_overdue = fields.Boolean(
        compute="_compute_is_overdue",
        search="_search_is_overdue",
        help="Unacknowledged past its type's escalation time.",
    )
    is_my_team = fields.Boolean(compute="_compute_is_my_team", search="_search_is_my_team")

    _open_key_uniq = models.UniqueIndex(
        "(visibility_id, type_id, res_model, res_id) WHERE state != 'resolved'",
        "This exception is already open for this order.",
    )
    _state_type_idx = models.Index("(state, type_id)")

    @api.depends("type_id.name", "sale_order_id.name")
    def _compute_name(self):
        for exception in self:
            exception.name = f"{exception.sale_order_id.name or ''}: {exception.type_id.name or ''}"

    @api.depends("severity")
    def _compute_severity_rank(self):
        for exception in self:
            exception.severity_rank = SEVERITY_RANK.get(exception.severity, 0)

    @api.model
    def _selection_related_record(self):
        return [
            (model.model, model.name)
            for model in self.env["ir.model"].sudo().search([("model", "in", self._related_models())])
        ]

    @api.model
    def _related_models(self):
        return ["sale.order", "stock.picking", "purchase.order", "account.move", "order.visibility.approval"]

    @api.depends("res_model", "res_id")
    def _compute_related_record(self):
        for exception in self:
            if exception.res_model and exception.res_id and exception.res_model in self.env:
                exception.related_record = f"{exception.res_model},{exception.res_id}"
            else:
                exception.related_record = False

    def _compute_is_overdue(self):
        now = fields.Datetime.now()
        for exception in self:
            hours = exception.type_id.escalation_hours
            exception.is_overdue = bool(
                exception.state == "open"
                and hours
                and (exception.woken_at or exception.opened_at) + timedelta(hours=hours) < now
            )

    def _search_is_overdue(self, operator, value):
        if operator != "in":
            return NotImplemented  # Odoo negates the "in" domain
        self.env["order.visibility.exception"].flush_model(["state", "opened_at", "woken_at", "type_id"])
        self.env["order.visibility.exception.type"].flush_model(["escalation_hours"])
        overdue = SQL(
            """SELECT e.id
                 FROM order_visibility_exception e
                 JOIN order_visibility_exception_type t ON t.id = e.type_id
                WHERE e.state = 'open'
                  AND t.escalation_hours > 0
                  AND COALESCE(e.woken_at, e.opened_at) + t.escalation_hours * interval '1 hour' < %s""",
            fields.Datetime.now(),
        )
        return boolean_search(value, Domain("id", "in", overdue), Domain("id", "not in", overdue))

    @api.depends_context("uid")
    @api.depends("team_group_id")
    def _compute_is_my_team(self):
        groups = self.env.user.all_group_ids
        for exception in self:
            exception.is_my_team = bool(exception.team_group_id and exception.team_group_id in groups)

    def _search_is_my_team(self, operator, value):
        if operator != "in":
            return NotImplemented  # Odoo negates the "in" domain
        mine = Domain("type_id.group_id", "in", self.env.user.all_group_ids.ids)
        return boolean_search(value, mine, ~mine)

    def write(self, vals):
        if not self.env.su and LIFECYCLE_FIELDS.intersection(vals):
            raise AccessError(
                self.env._(
                    "The lifecycle of an exception is audited: acknowledge, snooze, resolve or escalate it instead."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------------
    # Opening and auto-resolving (called by the engine and the sweeps)
    # ------------------------------------------------------------------

    @api.model
    def _sync(self, code, detected, scope):
        """Make the open exceptions of type ``code`` match ``detected``.

        ``detected``: {(visibility_id, res_model, res_id): {"detail": text,
        "owner_id": optional user id}} — the conditions true right now.
        ``scope``: visibility records that were evaluated (None: all); open
        exceptions of this type on them that are no longer
        detected are resolved if the type auto-resolves. Returns (opened,
        resolved) recordsets. Idempotent: running it again changes nothing.
        """
        return self._sync_many({code: detected}, scope)[code]

    @api.model
    def _sync_many(self, detected_by_code, scope):
        """``_sync`` of several codes over one scope ({code: detected}):
        the types and the open exceptions of all of them read in one query
        each. Returns {code: (opened, resolved)}.
        """
        self = self.sudo()
        results = {code: (self.browse(), self.browse()) for code in detected_by_code}
        if scope is not None and not any(detected_by_code.values()) and not any(scope.sudo().mapped("exception_count")):
            return results  # nothing to open, and the scope's records count no open exception to resolve
        Type = self.env["order.visibility.exception.type"]
        # Exceptions still open under any type of these codes, archived ones
        # included, are matched and resolved; new ones open under the type
        # their order's company uses.
        ids_by_code = Type._ids_by_code(tuple(sorted(detected_by_code)))
        code_of = {type_id: code for code, rows in ids_by_code.items() for type_id, _auto in rows}
        auto_resolve = {type_id: auto for rows in ids_by_code.values() for type_id, auto in rows}
        if not code_of:
            return results
        domain = [("type_id", "in", list(code_of)), ("state", "!=", "resolved")]
        if scope is not None:
            domain.append(("visibility_id", "in", scope.ids))
        current_all = self.search_fetch(domain, ["visibility_id", "res_model", "res_id", "state", "type_id"])
        current_by_code = current_all.grouped(lambda e: code_of[e.type_id.id])
        for code, detected in detected_by_code.items():
            if not ids_by_code[code]:
                continue
            current = current_by_code.get(code, self.browse())
            by_key = {(e.visibility_id.id, e.res_model, e.res_id): e for e in current}
            to_open = [key for key in detected if key not in by_key]
            opened = self.browse()
            if to_open:
                visibilities = self.env["order.visibility"].browse({key[0] for key in to_open})
                company_of = {v.id: v.company_id.id for v in visibilities}
                code_types = Type.with_context(active_test=False).browse(
                    [type_id for type_id, _auto in ids_by_code[code]]
                )
                applicable = code_types._applicable(visibilities.company_id)
                keys_by_type = defaultdict(list)
                for key in to_open:
                    exception_type = applicable.get(company_of[key[0]])
                    if exception_type:
                        keys_by_type[exception_type].append(key)
                for exception_type, keys in keys_by_type.items():
                    opened |= self._open(exception_type, keys, detected)
            resolved = current.filtered(
                lambda e, detected=detected: (
                    auto_resolve[e.type_id.id] and (e.visibility_id.id, e.res_model, e.res_id) not in detected
                )
            )
            resolved._close(self.env._("Condition cleared (resolved automatically)."))
            results[code] = (opened, resolved)
        return results

    @api.model
    def _open(self, exception_type, keys, details):
        if not keys:
            return self.browse()
        visibilities = self.env["order.visibility"].browse({key[0] for key in keys})
        visibility_by_id = {v.id: v for v in visibilities}
        now = fields.Datetime.now()
        vals_list = []
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        for key in keys:
            visibility_id, res_model, res_id = key
            order = visibility_by_id[visibility_id].sale_order_id
            info = details.get(key) or {}
            preferred = self.env["res.users"].browse(info.get("owner_id") or [])
            owner_id = exception_type._pick_owner(order, preferred, admin).id
            vals_list.append(
                {
                    "visibility_id": visibility_id,
                    "type_id": exception_type.id,
                    "severity": exception_type.severity,
                    "owner_id": owner_id,
                    "opened_at": now,
                    "res_model": res_model or "",
                    "res_id": res_id or 0,
                    "detail": info.get("detail") or False,
                }
            )
        exceptions = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create(vals_list)
        # A sweep may open thousands at once: notes and activities in batch.
        exceptions._message_log_batch(
            bodies={e.id: self.env._("Opened: %(detail)s", detail=e.detail or e.type_id.name) for e in exceptions},
            message_type="notification",
        )
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        # The owners see them in their activities; no e-mail per activity
        # (a sweep opening hundreds would flood their inboxes).
        self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(
            [
                {
                    "activity_type_id": todo.id,
                    "summary": e.type_id.name,
                    # The detail can quote a sender's words (a carrier's reason): text, never HTML.
                    "note": plaintext2html(e.detail) if e.detail else "",
                    "automated": True,
                    "date_deadline": today,
                    "res_model_id": model_id,
                    "res_id": e.id,
                    "user_id": e.owner_id.id,
                }
                for e in exceptions.filtered("owner_id")
            ]
        )
        exceptions._notify_change("opened")
        return exceptions

    def _close(self, reason):
        if not self:
            return
        self = self.sudo()  # lifecycle fields: written by the engine only
        self.write(
            {
                "state": "resolved",
                "resolved_at": fields.Datetime.now(),
                "resolved_by": self.env.uid,
                "resolution": reason,
            }
        )
        self.activity_unlink(["mail.mail_activity_data_todo"])
        for exception in self:
            exception.message_post(body=reason, subtype_xmlid="mail.mt_note")
        self._notify_change("resolved")

    def _notify_change(self, event):
        """Hook for other addons (webhooks, dashboard) on exception lifecycle events.

        ``event`` is one of opened, escalated, resolved; called in the same
        transaction as the change.
        """

    # ------------------------------------------------------------------
    # User actions
    # ------------------------------------------------------------------

    def _check_manager(self):
        if not self.env.user.has_group("order_visibility.group_order_visibility_manager"):
            raise AccessError(self.env._("Only Order Visibility managers can do this."))

    def action_acknowledge(self):
        """Owner or team takes the exception: stops its escalation clock."""
        self.check_access("read")
        todo = self.filtered(lambda e: e.state in ("open", "snoozed"))
        todo.sudo().write(
            {
                "state": "acknowledged",
                "acknowledged_at": fields.Datetime.now(),
                "acknowledged_by": self.env.uid,
                "snoozed_until": False,
            }
        )
        for exception in todo:
            exception.message_post(
                body=self.env._("Acknowledged by %(user)s.", user=self.env.user.name), subtype_xmlid="mail.mt_note"
            )
        return True

    def action_resolve(self, reason=None):
        """Close the exceptions by hand, with a reason (managers)."""
        self._check_manager()
        self.check_access("write")
        if not (reason or "").strip():
            raise ValidationError(self.env._("Say why the exception is resolved."))
        self.filtered(lambda e: e.state != "resolved").sudo()._close(
            self.env._("Resolved by %(user)s: %(reason)s", user=self.env.user.name, reason=reason.strip())
        )
        return True

    def action_snooze(self, until, reason=None):
        """Hide the exceptions until ``until`` (escalation paused), with a reason."""
        self.check_access("read")
        try:
            until = fields.Datetime.to_datetime(until)
        except (TypeError, ValueError):
            until = None
        now = fields.Datetime.now()
        if not until or until <= now:
            raise ValidationError(self.env._("Snooze until a date in the future."))
        longest = self.env["order.visibility"]._param("order_visibility.max_snooze_days")
        if until > now + timedelta(days=longest):
            raise ValidationError(
                self.env._(
                    "An exception can be snoozed for %(days)s days at most: to close it, a manager resolves it.",
                    days=longest,
                )
            )
        if not (reason or "").strip():
            raise ValidationError(self.env._("Say why the exception is snoozed."))
        todo = self.filtered(lambda e: e.state != "resolved")
        todo.sudo().write({"state": "snoozed", "snoozed_until": until})
        for exception in todo:
            exception.message_post(
                body=self.env._(
                    "Snoozed by %(user)s until %(until)s: %(reason)s",
                    user=self.env.user.name,
                    until=fields.Datetime.to_string(until),
                    reason=reason.strip(),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_escalate(self):
        """Raise severity one level and notify the Order Visibility managers."""
        self._check_manager()
        self.check_access("write")
        self.filtered(lambda e: e.state != "resolved").sudo()._escalate(
            self.env._("Escalated by %(user)s.", user=self.env.user.name)
        )
        return True

    def action_open_order(self):
        self.ensure_one()
        self.check_access("read")
        return self.visibility_id.action_open_sale_order()

    # Acting on the exception's order (fulfilment, expedite, customer update).

    def action_open_fulfilment_wizard(self):
        self.ensure_one()
        return self.visibility_id.action_open_fulfilment_wizard()

    def action_open_expedite_wizard(self):
        self.ensure_one()
        return self.visibility_id.action_open_expedite_wizard()

    def action_draft_customer_update(self):
        self.ensure_one()
        return self.visibility_id.action_draft_customer_update()
