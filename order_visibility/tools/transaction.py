# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Values kept for one transaction in the cursor's cache (``cr.cache``):
what the engine's pass would otherwise read again at each write of a
record. Gone when the transaction commits or rolls back: other
transactions may change them from then on."""


def kept(cr, key):
    """The dict kept under ``key`` for the transaction, empty on first use;
    None once ``stop_keeping`` was called in the transaction."""
    if key not in cr.cache:
        cr.cache[key] = {}
        cr.postcommit.add(lambda: cr.cache.pop(key, None))
        cr.postrollback.add(lambda: cr.cache.pop(key, None))
    return cr.cache[key]


def forget(cr, key):
    """Drop what is kept under ``key``: the next ``kept`` starts empty."""
    cr.cache.pop(key, None)


def stop_keeping(cr, key):
    """Keep nothing under ``key`` for the rest of the transaction (``kept``
    answers None): a change its values cannot follow was made in it."""
    kept(cr, key)
    cr.cache[key] = None
