"""Copy every row of every model from one database alias to another (`bidcart manage moveto`).

A direct model-by-model copy rather than dumpdata / loaddata: rows stream in batches (constant memory
whatever the table size) and go in with multi-row INSERTs. Rows are written *raw*, as loaddata does:
primary keys are kept, no `save()` runs (payments.PaymentEvent refuses a second save; Category.save
rewrites paths), no signals fire, and `auto_now` fields (Payment.updated_at, which the reconciliation
sweep reads) keep their stored values instead of becoming "now". Contenttypes and permissions are
copied with their ids like any other table, so every reference to them stays right.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.apps import apps
from django.core.management.color import no_style
from django.db import connections, models
from django.db.migrations.executor import MigrationExecutor

# PostgreSQL takes at most 65,535 parameters per statement.
MAX_PARAMS = 65_000


def copied_models() -> list[type[models.Model]]:
    """Every model with a table of its own (M2M tables included), parents before the rows that point at
    them. Foreign keys that form a cycle (or point at their own table) are left to the constraints,
    which Django creates DEFERRABLE INITIALLY DEFERRED: they are checked at commit."""
    candidates = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and not m._meta.swapped
    ]
    needs = {
        m: {
            f.related_model._meta.concrete_model
            for f in m._meta.concrete_fields
            if f.is_relation and f.related_model is not None
        }
        - {m}
        for m in candidates
    }
    ordered: list[type[models.Model]] = []
    pending = list(candidates)
    while pending:
        ready = [m for m in pending if not needs[m] & set(pending)]
        if not ready:  # a cycle: take the first one, the deferred constraints settle it at commit
            ready = pending[:1]
        for model in ready:
            ordered.append(model)
            pending.remove(model)
    return ordered


def table_of(model) -> str:
    return model._meta.db_table


def unapplied_migrations(alias: str) -> list[str]:
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def tables_holding_rows(alias: str, models_: Iterable, ignore: set[str]) -> dict[str, int]:
    """Row counts of the models' tables that exist on `alias` and are not empty (tables in `ignore` aside)."""
    connection = connections[alias]
    existing = set(connection.introspection.table_names())
    counts = {}
    for model in models_:
        table = table_of(model)
        if table in existing and table not in ignore:
            n = model._base_manager.using(alias).count()
            if n:
                counts[table] = n
    return counts


def empty_tables(alias: str, models_: Iterable) -> None:
    """Delete every row of these tables (TRUNCATE on PostgreSQL), inside the caller's transaction."""
    connection = connections[alias]
    statements = connection.ops.sql_flush(no_style(), [table_of(m) for m in models_], allow_cascade=False)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


class Unmovable(Exception):
    """A source row holds a value the target refuses and that cannot be carried over as it is."""


def copy_rows(model, source: str, target: str, batch: int) -> tuple[int, int]:
    """Stream `model`'s rows from `source` in primary-key order and insert them raw into `target`.
    Answers (rows copied, IP values that were not addresses and became NULL)."""
    fields = [f for f in model._meta.local_concrete_fields if not f.generated]
    ip_fields = [f for f in fields if isinstance(f, models.GenericIPAddressField)]
    per_insert = max(1, min(batch, MAX_PARAMS // len(fields)))
    manager = model._base_manager
    rows = manager.using(source).order_by("pk").iterator(chunk_size=batch)
    copied = nulled = 0
    chunk = []
    for obj in rows:
        nulled += _clean_ips(obj, ip_fields)
        chunk.append(obj)
        if len(chunk) >= per_insert:
            copied += _insert(manager, chunk, fields, target)
            chunk = []
    if chunk:
        copied += _insert(manager, chunk, fields, target)
    return copied, nulled


def _clean_ips(obj, ip_fields) -> int:
    """SQLite keeps any text in an IP column (bidcart before this version stored "unknown" for a request
    without an address); PostgreSQL's inet does not. Such a value says "no address", NULL where allowed."""
    nulled = 0
    for field in ip_fields:
        value = getattr(obj, field.attname)
        if value in (None, ""):
            continue
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not field.null:
                raise Unmovable(
                    f"{table_of(type(obj))} row {obj.pk}: {field.column} {value!r} is not an IP address and the "
                    "column may not be empty; fix or delete that row in the source and run again."
                ) from None
            setattr(obj, field.attname, None)
            nulled += 1
    return nulled


def _insert(manager, objs, fields, target: str) -> int:
    # QuerySet._insert is what Model.save_base and bulk_create use underneath; raw=True reads each
    # field's value as stored (no pre_save: auto_now fields keep theirs), one INSERT for the batch.
    size = connections[target].ops.bulk_batch_size(fields, objs) or len(objs)
    for start in range(0, len(objs), size):
        manager.using(target)._insert(objs[start : start + size], fields=fields, raw=True, using=target)
    return len(objs)


def reset_sequences(alias: str, models_: Iterable) -> None:
    """Point every id sequence past the largest copied id, so the next row does not collide."""
    connection = connections[alias]
    statements = connection.ops.sequence_reset_sql(no_style(), list(models_))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def row_counts(alias: str, models_: Iterable) -> dict[str, int]:
    return {table_of(m): m._base_manager.using(alias).count() for m in models_}
