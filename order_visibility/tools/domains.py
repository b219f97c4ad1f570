# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.fields import Domain


def boolean_search(value, true_domain, false_domain):
    """Domain of a computed boolean as Odoo 19 searches it: operator ``in``
    with ``value`` a set of True and/or False (its negation is Odoo's)."""
    return Domain.OR([true_domain] * (True in value) + [false_domain] * (False in value))
