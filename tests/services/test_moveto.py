"""Moving off the embedded SQLite: a shop built on SQLite by the app's own code (demo seed, a paid and partly
refunded order, a closed lot with bids and a win…) moved to a PostgreSQL database of its own by the real
`bidcart manage moveto`, then used there."""

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIDCART = str(Path(sys.executable).with_name("bidcart"))
# Tables the shop built on SQLite must have filled, so "the counts match" cannot pass on empty tables.
FILLED = [
    "accounts_user",
    "django_session",
    "catalog_product",
    "catalog_productimage",
    "catalog_wishlistitem",
    "cart_cartitem",
    "orders_order",
    "orders_orderline",
    "payments_payment",
    "payments_paymentevent",
    "payments_refund",
    "payments_webhookdelivery",
    "reviews_review",
    "auctions_lot",
    "auctions_bid",
    "auctions_win",
    "auctions_chatmessage",
    "auctions_notice",
    "auth_permission",
    "django_content_type",
]


def site_env(data_dir: Path, **extra) -> dict:
    """The embedded default as `bidcart run` has it (no DATABASE_URL, no Redis), in `data_dir`."""
    drop = (
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "BIDCART_ADMIN_PATH",
        "PGSIM_URL",
        "SITE_URL",
    )
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        {
            "BIDCART_DATA_DIR": str(data_dir),
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "bidcart.settings",
            "PGSIM_MOUNT": "0",
            "LOG_LEVEL": "WARNING",
            "EMAIL_URL": "dummymail://",
            "ALLOWED_HOSTS": "testserver",
            **extra,
        }
    )
    return env


def site(env, *args) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.services.moveto_site", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def moveto(env, url, *flags) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BIDCART, "manage", "moveto", *flags, url], env=env, capture_output=True, text=True, timeout=300
    )


def sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'django_migrations'"
            )
        ]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def pg_counts(url: str, tables) -> dict[str, int]:
    with psycopg.connect(url) as db:
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def reported_counts(output: str) -> dict[str, tuple[int, int]]:
    """The command's table of counts: `  table  source  target`."""
    return {m[1]: (int(m[2]), int(m[3])) for m in re.finditer(r"^  ([a-z_]+) +(\d+) +(\d+)$", output, re.M)}


@pytest.fixture(scope="module")
def target_url():
    """A PostgreSQL database of this test's own, next to the test run's, created empty and dropped after."""
    s = connection.settings_dict
    name = f"{s['NAME']}_moveto"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    server = f"postgres://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def moved(tmp_path_factory, target_url):
    """The shop built on SQLite, then `bidcart manage moveto` into the empty target."""
    data_dir = tmp_path_factory.mktemp("sqlite-site")
    env = site_env(data_dir)
    facts = site(env, "build")
    return {
        "env": env,
        "facts": facts,
        "data_dir": data_dir,
        "sqlite": data_dir / "bidcart.sqlite3",
        "url": target_url,
        "run": moveto(env, target_url),
    }


def test_moveto_copies_every_row_and_the_shop_keeps_working_on_postgresql(moved):
    run, url, facts = moved["run"], moved["url"], moved["facts"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    # Every table holds as many rows on PostgreSQL as on SQLite, and the command printed those counts.
    before = sqlite_counts(moved["sqlite"])
    assert [t for t in FILLED if not before.get(t)] == []
    assert pg_counts(url, before) == before
    assert reported_counts(run.stdout) == {t: (n, n) for t, n in before.items()}
    assert "Uploaded files stay in" in run.stdout

    # The rows are the same rows: ids, password hashes, amounts, the payment's times, the log, the picture.
    with sqlite3.connect(moved["sqlite"]) as lite, psycopg.connect(url) as pg:

        def both(sql, *params):
            return lite.execute(sql.replace("%s", "?"), params).fetchall(), pg.execute(sql, params).fetchall()

        old, new = both("SELECT id, password FROM accounts_user WHERE email = %s", facts["email"])
        assert old == new and len(new) == 1
        old, new = both(
            "SELECT id, user_id, total, status, currency FROM orders_order WHERE number = %s", facts["order"]
        )
        assert old == new and len(new) == 1
        old, new = both(
            "SELECT id, order_id, amount, status, psp, updated_at FROM payments_payment WHERE merchant_uid = %s",
            facts["merchant_uid"],
        )
        ((pid, order_id, amount, status, psp, updated_at),) = old
        assert new == [
            (pid, order_id, amount, status, json.loads(psp), datetime.fromisoformat(updated_at).replace(tzinfo=UTC))
        ]  # auto_now kept, not "now"
        assert status == "partially_refunded"
        old, new = both(
            "SELECT id, type, amount, dedupe_key FROM payments_paymentevent WHERE payment_id = %s ORDER BY id", pid
        )
        assert old == new and ("captured" in {row[3] for row in new})
        old, new = both("SELECT id, payment_id, amount, status FROM payments_refund ORDER BY id")
        assert old == new
        old, new = both("SELECT id, lot_id, user_id, order_id FROM auctions_win")
        assert old == new
        old, new = both("SELECT image FROM catalog_productimage")
        assert old == new == [(facts["image"],)]
        assert (moved["data_dir"] / "media" / facts["image"]).is_file()  # the file stays where it was

    # On PostgreSQL: the buyer logs in with the same password, a session from before the move still works,
    # and new rows (cart line, order, lot, bid) get ids of their own: the sequences were moved past the copies.
    seen = site({**moved["env"], "DATABASE_URL": url}, "check", json.dumps(facts))
    assert (seen["login_status"], seen["me"], seen["kept_session_me"]) == (302, facts["email"], facts["email"])
    assert seen["order_page"] == 200
    assert seen["cart_add"] == 201
    assert seen["new_order"] != facts["order"]
    assert seen["new_bid"] > before["auctions_bid"]


def test_moveto_refuses_a_target_that_holds_data_and_changes_nothing_on_a_failed_copy(moved):
    env, url, sqlite = moved["env"], moved["url"], moved["sqlite"]
    assert moved["run"].returncode == 0, moved["run"].stderr[-3000:]
    tables = sqlite_counts(sqlite)
    held = pg_counts(url, tables)

    again = moveto(env, url)
    assert again.returncode == 1
    assert "already holds data" in again.stderr and "--replace" in again.stderr and "accounts_user" in again.stderr
    assert pg_counts(url, tables) == held

    # A row PostgreSQL cannot take (SQLite keeps any text in an IP column): a clear refusal naming the row,
    # and the target is exactly as it was, even with --replace (one transaction).
    with sqlite3.connect(sqlite) as lite:
        bad = lite.execute(
            "INSERT INTO accounts_honeypotattempt (ip, username, path, user_agent, created_at) "
            "VALUES ('unknown', 'admin', '/admin/', 'x', '2026-01-01 00:00:00')"
        ).lastrowid
    failed = moveto(env, url, "--replace")
    assert failed.returncode == 1
    assert f"accounts_honeypotattempt row {bad}: ip 'unknown' is not an IP address" in failed.stderr
    assert pg_counts(url, tables) == held

    with sqlite3.connect(sqlite) as lite:
        lite.execute("DELETE FROM accounts_honeypotattempt WHERE id = ?", (bad,))
    replaced = moveto(env, url, "--replace")
    assert replaced.returncode == 0, replaced.stderr[-3000:]
    assert pg_counts(url, tables) == sqlite_counts(sqlite)
