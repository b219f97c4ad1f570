# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Reading records whole in the query that finds or first reads them."""


def record_columns(model):
    """The columns a first read of a record of ``model`` loads (its default
    prefetch group): what ``search_fetch`` or ``fetch`` reads when the code
    goes on reading most of the record."""
    return [
        name for name, field in model._fields.items() if field.store and field.column_type and field.prefetch is True
    ]
