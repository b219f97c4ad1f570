# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from ..tools.constants import SEVERITIES


class OrderVisibilityExceptionType(models.Model):
    _name = "order.visibility.exception.type"
    _description = "Order Exception Type"
    _order = "sequence, id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    code = fields.Char(required=True, help="Stable technical code used by the engine, sweeps and webhooks.")
    name = fields.Char(required=True, translate=True)
    description = fields.Text(translate=True)
    severity = fields.Selection(SEVERITIES, string="Default Severity", required=True, default="medium")
    group_id = fields.Many2one(
        "res.groups",
        string="Owning Team",
        help="Exceptions of this type are assigned to a member of this group (see Owners first).",
    )
    user_ids = fields.Many2many(
        "res.users",
        string="Owners",
        domain=[("share", "=", False)],
        check_company=True,
        help="Preferred owners, in order; when empty, a member of the owning team, else the salesperson.",
    )
    escalation_hours = fields.Float(
        default=24.0,
        help="An exception still unacknowledged this many hours after opening is escalated (0: never).",
    )
    auto_resolve = fields.Boolean(
        default=True,
        help="Resolve the exception automatically as soon as its condition clears.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", help="Leave empty to use the type in every company.")
    open_count = fields.Integer(compute="_compute_open_count", string="Open")

    _code_company_uniq = models.UniqueIndex("(code, COALESCE(company_id, 0))")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_company_of_user(vals.get("company_id"))
        self.env.registry.clear_cache()  # _ids_by_code
        return super().create(vals_list)

    def write(self, vals):
        if "company_id" in vals:
            self._check_company_of_user(vals["company_id"])
        if {"code", "active", "company_id", "auto_resolve"} & set(vals):
            self.env.registry.clear_cache()  # _ids_by_code
        return super().write(vals)

    @api.ondelete(at_uninstall=True)
    def _forget_ids_by_code(self):
        self.env.registry.clear_cache()  # _ids_by_code

    @api.model
    @tools.ormcache("codes")
    def _ids_by_code(self, codes):
        """{code: ((type id, auto_resolve), ...)} of ``codes`` (a sorted
        tuple), archived types included: what the engine's every pass
        matches open exceptions with, kept in the registry's cache rather
        than read again by each pass."""
        types = (
            self.sudo().with_context(active_test=False).search_fetch([("code", "in", codes)], ["code", "auto_resolve"])
        )
        return {code: tuple((t.id, t.auto_resolve) for t in types if t.code == code) for code in codes}

    def _check_company_of_user(self, company_id):
        """A type is put only in a company its author works in: a manager of
        company A cannot hand company B a type (owners, severities) of theirs.
        (Not a constraint: Odoo runs those as superuser.)"""
        company = self.env["res.company"].browse(company_id or [])
        if company and not self.env.su and company not in self.env.user.company_ids:
            raise ValidationError(
                self.env._(
                    "You cannot put an exception type in %(company)s: you do not work in that company.",
                    company=company.sudo().name,
                )
            )

    @api.constrains("escalation_hours")
    def _check_escalation_hours(self):
        for exception_type in self:
            if exception_type.escalation_hours < 0:
                raise ValidationError(self.env._("Escalation hours cannot be negative."))

    def _compute_open_count(self):
        counts = dict(
            self.env["order.visibility.exception"]._read_group(
                [("type_id", "in", self.ids), ("state", "!=", "resolved")], ["type_id"], ["__count"]
            )
        )
        for exception_type in self:
            exception_type.open_count = counts.get(exception_type._origin, 0)

    def _applicable(self, companies):
        """{company id: type} among the types of ``self`` (one code) each company uses.

        Only active types apply. A company's own type applies to that company
        only; the shared one (no company) to every other company. A company
        with neither is left out: nothing is opened for it.
        """
        types = self.filtered("active")
        shared = types.filtered(lambda t: not t.company_id)[:1]
        own = {t.company_id.id: t for t in types if t.company_id}
        return {company.id: own.get(company.id) or shared for company in companies if own.get(company.id) or shared}

    def _pick_owner(self, order, preferred=None, admin=None):
        """The user who owns a new exception of this type on ``order``: the
        ``preferred`` user, the type's owners, a member of its team, the
        salesperson, the administrator — the first who works in the order's
        company (none: the exception has no owner). ``admin``: the
        administrator, as found by the caller that picks many owners (each
        look-up of the XML id checks the record exists: one query)."""
        self.ensure_one()
        if admin is None:
            admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        company = order.company_id
        members = self.group_id.all_user_ids.sorted("id") if self.group_id else self.env["res.users"]
        candidates = (preferred or self.env["res.users"]) | self.user_ids | members | order.user_id | admin
        return next(
            (user for user in candidates if user.active and not user.share and company in user.company_ids),
            self.env["res.users"],
        )

    def action_open_exceptions(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("order_visibility.action_order_visibility_exception")
        action["domain"] = [("type_id", "=", self.id)]
        return action
