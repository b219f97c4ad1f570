# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Upgrade to 19.0.1.7.0: the customer update is sent to the customer only.

The template (shipped with ``noupdate``) used Odoo's default recipients,
which add the record's salesperson when it does not follow the record (the
records made at installation have no follower): the salesperson was listed
beside the customer on the customer's e-mail. Its own recipient, the
customer (``partner_to``), is what it is meant for.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    template = env.ref("order_visibility.mail_template_customer_update", raise_if_not_found=False)
    if template and template.partner_to:
        template.use_default_to = False
