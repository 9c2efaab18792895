"""Row claims for sweeps that may run side by side."""

from django.db import connection
from django.db.models import QuerySet


def claim(qs: QuerySet, **options) -> QuerySet:
    """`qs` locked with SKIP LOCKED where the database has it (PostgreSQL): two sweeps at once each take
    rows the other has not. SQLite has no row locks (one writer at a time): the plain queryset. `options`
    go to select_for_update (e.g. `of=("self",)` beside select_related)."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, **options)
    return qs
