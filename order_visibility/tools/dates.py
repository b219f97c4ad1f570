# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Durations the service-level measures store."""


def hours_between(start, end):
    """Hours from ``start`` to ``end`` (never negative), to the hundredth;
    False when either is missing."""
    if not (start and end):
        return False
    return round(max((end - start).total_seconds(), 0.0) / 3600.0, 2)
