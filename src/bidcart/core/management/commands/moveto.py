"""`bidcart manage moveto DATABASE_URL`: move everything from the configured database (the embedded SQLite
by default) to another one, typically PostgreSQL. See deploy/README.md, "Moving from SQLite to PostgreSQL".
"""

from __future__ import annotations

import time

import environ
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections, transaction

from bidcart.core import dbcopy

TARGET = "moveto_target"
# What `migrate` itself writes into a new database: not "data" when deciding whether the target is empty.
MIGRATE_WRITES = {"django_content_type", "auth_permission"}


class Command(BaseCommand):
    help = (
        "Copy every row of the configured database (DATABASE_URL; the embedded SQLite by default) into the "
        "database at DATABASE_URL: migrate it, copy in one transaction with ids kept, reset its sequences, "
        "compare the row counts of every table. Stop the site first. Uploaded files stay on disk."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "url", metavar="DATABASE_URL", help="the target, e.g. postgres://user:pass@host:5432/bidcart"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="the target already holds data: delete all of it first (default: refuse)",
        )
        parser.add_argument("--batch", type=int, default=2000, help="rows read and inserted at a time")

    def handle(self, *args, url: str, replace: bool, batch: int, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        self._register_target(url)
        source, target = connections[DEFAULT_DB_ALIAS], connections[TARGET]
        if _same_database(source.settings_dict, target.settings_dict):
            raise CommandError("The target is the configured database itself; give the URL of another database.")
        pending = dbcopy.unapplied_migrations(DEFAULT_DB_ALIAS)
        if pending:
            raise CommandError(
                f"The source database has {len(pending)} unapplied migration(s) ({', '.join(pending[:3])}…): "
                "run `bidcart manage migrate` on it first, so both sides have the same tables."
            )
        try:
            target.ensure_connection()
        except DatabaseError as exc:
            raise CommandError(
                f"Cannot connect to the target database {_shown(target.settings_dict)}: {exc}".strip()
            ) from exc

        models = dbcopy.copied_models()
        holding = dbcopy.tables_holding_rows(TARGET, models, ignore=MIGRATE_WRITES)
        if holding and not replace:
            found = ", ".join(f"{table} ({n})" for table, n in sorted(holding.items())[:8])
            raise CommandError(
                f"The target database {_shown(target.settings_dict)} already holds data: {found}"
                f"{' …' if len(holding) > 8 else ''}. moveto copies into an empty database; "
                "pass --replace to delete everything in the target first."
            )

        self.stdout.write(f"moveto: {_shown(source.settings_dict)} → {_shown(target.settings_dict)}")
        call_command("migrate", database=TARGET, interactive=False, verbosity=0)
        self.stdout.write("  target migrated")
        started = time.monotonic()
        try:
            # One snapshot of the source (on SQLite this also holds off writers), one transaction on the target:
            # a failure anywhere leaves the target as it was.
            with transaction.atomic(using=DEFAULT_DB_ALIAS), transaction.atomic(using=TARGET):
                dbcopy.empty_tables(TARGET, models)  # what migrate wrote (contenttypes…), and --replace's rows
                for model in models:
                    copied = self._copy(model, batch)
                    if copied:
                        self.stdout.write(f"  {dbcopy.table_of(model):<40} {copied:>9} rows")
                dbcopy.reset_sequences(TARGET, models)
                target.check_constraints()  # every foreign key resolves, before the commit
                before, after = dbcopy.row_counts(DEFAULT_DB_ALIAS, models), dbcopy.row_counts(TARGET, models)
                self._report(before, after)
                wrong = [table for table in before if before[table] != after[table]]
                if wrong:
                    raise CommandError(
                        f"Row counts differ for {', '.join(wrong)}; nothing was committed to the target."
                    )
        except IntegrityError as exc:
            raise CommandError(f"The copy breaks a constraint on the target, nothing was committed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"moveto: {sum(after.values())} rows in {len(after)} tables copied in "
                f"{time.monotonic() - started:.1f} s."
            )
        )
        self.stdout.write(
            f"Uploaded files stay in {settings.MEDIA_ROOT}: copy that folder to the new site's media "
            "folder, or into object storage with `bidcart manage copymedia FOLDER` (deploy/README.md, "
            '"Media"). Then set DATABASE_URL to the target and start bidcart.'
        )

    def _register_target(self, url: str) -> None:
        try:
            config = environ.Env.db_url_config(url)
        except (KeyError, ValueError) as exc:
            raise CommandError(f"Not a database URL: {url!r} (e.g. postgres://user:pass@host:5432/bidcart)") from exc
        if not config.get("ENGINE") or not config.get("NAME"):
            raise CommandError(f"Not a database URL: {url!r} (e.g. postgres://user:pass@host:5432/bidcart)")
        # Django's own defaults for a DATABASES entry (ATOMIC_REQUESTS, TIME_ZONE, TEST…)
        connections.settings[TARGET] = connections.configure_settings({DEFAULT_DB_ALIAS: config})[DEFAULT_DB_ALIAS]

    def _copy(self, model, batch: int) -> int:
        label = dbcopy.table_of(model)
        try:
            copied, nulled = dbcopy.copy_rows(model, DEFAULT_DB_ALIAS, TARGET, batch)
        except dbcopy.Unmovable as exc:
            raise CommandError(f"{exc} Nothing was committed to the target.") from exc
        except (
            DatabaseError,
            ValueError,
            TypeError,
        ) as exc:  # e.g. a text longer than its column: SQLite does not check
            raise CommandError(f"Copying {label} failed, nothing was committed to the target: {exc}") from exc
        if nulled:
            self.stdout.write(
                f"  {label}: {nulled} IP value(s) that were not addresses (e.g. 'unknown') stored as empty"
            )
        return copied

    def _report(self, before: dict[str, int], after: dict[str, int]) -> None:
        width = max(len(t) for t in before)
        self.stdout.write(f"\n  {'table':<{width}} {'source':>9} {'target':>9}")
        for table in sorted(before):
            mark = "" if before[table] == after[table] else "  MISMATCH"
            self.stdout.write(f"  {table:<{width}} {before[table]:>9} {after[table]:>9}{mark}")
        self.stdout.write("")


def _same_database(a: dict, b: dict) -> bool:
    keys = ("ENGINE", "NAME", "HOST", "PORT")
    return all(str(a.get(k) or "") == str(b.get(k) or "") for k in keys)


def _shown(config: dict) -> str:
    """Where a database is, without its password."""
    engine = config["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite {config['NAME']}"
    user, host, port = config.get("USER") or "", config.get("HOST") or "localhost", config.get("PORT") or ""
    return f"{engine} {user}@{host}:{port}/{config['NAME']}"
