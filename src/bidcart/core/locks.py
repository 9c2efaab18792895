"""Row locks, the one place that knows which databases have them.

`locked` is for a write that must wait its turn on a row (a bid on a lot, answering an offer); `claim` is for
sweeps that may run side by side and skip each other's rows. On SQLite neither adds anything: it has no row
locks, and the write transaction (IMMEDIATE, see settings) is the lock.
"""

from django.db import connection
from django.db.models import QuerySet


def locked(qs: QuerySet, **options) -> QuerySet:
    """`qs` locked FOR UPDATE where the database has row locks: the caller waits for whoever holds a row,
    then reads it as they left it. `options` go to select_for_update (e.g. `of=("self",)`)."""
    if connection.features.has_select_for_update:
        return qs.select_for_update(**options)
    return qs


def claim(qs: QuerySet, **options) -> QuerySet:
    """`qs` locked with SKIP LOCKED where the database has it (PostgreSQL): two sweeps at once each take
    rows the other has not. SQLite has no row locks (one writer at a time): the plain queryset. `options`
    go to select_for_update (e.g. `of=("self",)` beside select_related)."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, **options)
    return qs
