"""The simulator's own ledger: JSON-able dicts in memory, optionally persisted to an SQLite file.

Every table is a dict keyed by the provider's id. Handlers run on one event loop and do not await
between reading and writing a record, so no locks are needed. Persistence writes one row per record that
changed (`save()` after each change), never the whole state: a table remembers the keys read or written
through it since the last save, and `save()` writes those whose JSON differs from what it last wrote
(the file's speed does not depend on how many payments it holds). Code that finds a record by scanning
a table and then changes it says so with `table.touch(key)`.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import string
import time
from datetime import datetime, timedelta, timezone

TABLES = (
    "kakaopay",  # tid -> payment
    "iamport_tokens",  # access_token -> {imp_key, expired_at}
    "iamport_payments",  # imp_uid -> payment
    "iamport_prepared",  # merchant_uid -> {merchant_uid, amount, currency}
    "iamport_customers",  # customer_uid -> billing key (card masked) and its scripted outcome
    "iamport_schedules",  # merchant_uid -> scheduled payment (예약결제) on a customer_uid
    "portone_payments",  # paymentId -> payment
    "portone_prepared",  # paymentId -> {totalAmount, taxFreeAmount, currency}
    "portone_tokens",  # accessToken -> expires_at
    "portone_billing_keys",  # billingKey -> billing key (card masked, issueId, status) and its scripted outcome
    "kakaopay_sids",  # sid -> subscription (cid, partner_user_id, card, status) and its scripted outcome
    "paypal_setup_tokens",  # setup token id -> setup token (card masked, status)
    "paypal_payment_tokens",  # payment token id -> vaulted card or PayPal wallet and its scripted outcome
    "portone_idempotency",  # Idempotency-Key -> {fingerprint, status, body, expires_at}
    "paypal_tokens",  # access_token -> expires_at
    "paypal_orders",  # order id -> order
    "paypal_captures",  # capture id -> {order_id, ...}
    "paypal_refunds",  # refund id -> refund
    "paypal_request_ids",  # "<endpoint> <PayPal-Request-Id>" -> {status, body, expires_at}
    "webhooks",  # delivery id -> delivery (provider, url, body, headers, state, ...)
)

KST = timezone(timedelta(hours=9))
_ALNUM = string.ascii_uppercase + string.digits


SCHEMA = """
CREATE TABLE IF NOT EXISTS records (tbl TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
                                    PRIMARY KEY (tbl, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attempts (seq INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Table(dict):
    """A dict of records that remembers which keys were read, written or deleted since the last save."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dirty: set = set()
        self.deleted: set = set()

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self.dirty.add(key)
        return value

    def get(self, key, default=None):
        if key in self:
            self.dirty.add(key)
            return super().__getitem__(key)
        return default

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.dirty.add(key)
        self.deleted.discard(key)

    def __delitem__(self, key) -> None:
        super().__delitem__(key)
        self.dirty.discard(key)
        self.deleted.add(key)

    def pop(self, key, *default):
        if key in self:
            self.dirty.discard(key)
            self.deleted.add(key)
        return super().pop(key, *default)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        self.deleted |= set(self)
        self.dirty.clear()
        super().clear()

    def touch(self, key) -> None:
        """A record found by a scan is about to change: save it."""
        self.dirty.add(key)


class Store:
    """The SQLite file behind a State: one row per record, the webhook attempts, the clock offset."""

    def __init__(self, path: str):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        os.chmod(path, 0o600)  # webhook bodies and buyers' details
        self.written: dict[tuple[str, str], int] = {}  # (table, key) -> hash of the JSON last written

    def load(self, state: "State") -> None:
        for tbl, key, data in self.db.execute("SELECT tbl, key, data FROM records"):
            if tbl in TABLES:
                dict.__setitem__(getattr(state, tbl), key, json.loads(data))
                self.written[(tbl, key)] = hash(data)
        state.attempts.extend(json.loads(data) for (data,) in self.db.execute("SELECT data FROM attempts ORDER BY seq"))
        state.attempts.saved = len(state.attempts)
        row = self.db.execute("SELECT value FROM meta WHERE name = 'clock_offset'").fetchone()
        state.clock_offset = float(row[0]) if row else 0.0

    def save(self, state: "State") -> None:
        upserts, deletes = [], []
        for name in TABLES:
            table: Table = getattr(state, name)
            for key in table.deleted:
                deletes.append((name, key))
                self.written.pop((name, key), None)
            for key in table.dirty:
                if key not in table:
                    continue
                data = json.dumps(dict.__getitem__(table, key), ensure_ascii=False, separators=(",", ":"))
                if self.written.get((name, key)) != hash(data):
                    upserts.append((name, key, data))
                    self.written[(name, key)] = hash(data)
            table.dirty.clear()
            table.deleted.clear()
        new_attempts = state.attempts[state.attempts.saved :]
        clock = None if state.clock_offset == state.saved_clock else str(state.clock_offset)
        if not (upserts or deletes or new_attempts or clock is not None):
            return
        with self.db:  # one transaction
            self.db.execute("BEGIN")
            if deletes:
                self.db.executemany("DELETE FROM records WHERE tbl = ? AND key = ?", deletes)
            if upserts:
                self.db.executemany("INSERT OR REPLACE INTO records (tbl, key, data) VALUES (?, ?, ?)", upserts)
            if new_attempts:
                self.db.executemany(
                    "INSERT INTO attempts (data) VALUES (?)",
                    [(json.dumps(a, ensure_ascii=False),) for a in new_attempts],
                )
            if clock is not None:
                self.db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('clock_offset', ?)", (clock,))
        state.attempts.saved = len(state.attempts)
        state.saved_clock = state.clock_offset

    def wipe(self) -> None:
        with self.db:
            self.db.execute("BEGIN")
            for table in ("records", "attempts", "meta"):
                self.db.execute(f"DELETE FROM {table}")
        self.written.clear()


class Attempts(list):
    """Every webhook delivery attempt, in order; `saved` of them are in the file."""

    saved = 0


def _legacy_json(path: str) -> dict | None:
    """A state file of an older pgsim (one JSON document), or None."""
    with open(path, "rb") as f:
        if f.read(1) != b"{":
            return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class State:
    def __init__(self, path: str | None = None):
        self.path = path
        self.clock_offset = 0.0  # moved by the control API to test expiry
        self.saved_clock = 0.0
        self.attempts = Attempts()  # every webhook delivery attempt, in order
        for name in TABLES:
            setattr(self, name, Table())
        self.store: Store | None = None
        if path:
            legacy = _legacy_json(path) if os.path.exists(path) else None
            if legacy is not None:  # an older pgsim's JSON file: kept beside, its contents carried over
                os.replace(path, path + ".json-old")
            self.store = Store(path)
            self.store.load(self)
            if legacy is not None:
                self._adopt(legacy)

    # --- time -----------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.clock_offset

    def kakao_time(self, ts: float | None) -> str | None:
        """KakaoPay: local (KST) time without zone, `YYYY-MM-DDTHH:MM:SS`."""
        if ts is None:
            return None
        return datetime.fromtimestamp(ts, KST).strftime("%Y-%m-%dT%H:%M:%S")

    @staticmethod
    def rfc3339(ts: float | None) -> str | None:
        """PortOne V2 and PayPal: RFC 3339 in UTC with a `Z`."""
        if ts is None:
            return None
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- ids ------------------------------------------------------------------------
    @staticmethod
    def token(prefix: str = "", n: int = 20) -> str:
        return prefix + "".join(secrets.choice(_ALNUM) for _ in range(n))

    @staticmethod
    def digits(n: int) -> str:
        return "".join(secrets.choice(string.digits) for _ in range(n))

    @staticmethod
    def hex(n: int) -> str:
        return secrets.token_hex((n + 1) // 2)[:n]

    # --- persistence ----------------------------------------------------------------
    def to_dict(self) -> dict:
        data = {name: dict(getattr(self, name)) for name in TABLES}
        data["attempts"] = list(self.attempts)
        data["clock_offset"] = self.clock_offset
        return data

    def reset(self) -> None:
        for name in TABLES:
            getattr(self, name).clear()
        self.attempts.clear()
        self.attempts.saved = 0
        self.clock_offset = self.saved_clock = 0.0
        if self.store is not None:
            self.store.wipe()
            for name in TABLES:
                getattr(self, name).deleted.clear()

    def _adopt(self, data: dict) -> None:
        for name in TABLES:
            for key, record in (data.get(name) or {}).items():
                getattr(self, name)[key] = record
        self.attempts.extend(data.get("attempts", []))
        self.clock_offset = data.get("clock_offset", 0.0)
        self.save()

    def save(self) -> None:
        """Write the records changed since the last save, one row each, in one transaction."""
        if self.store is not None:
            self.store.save(self)
        else:  # nothing to write: forget what was touched
            for name in TABLES:
                table = getattr(self, name)
                table.dirty.clear()
                table.deleted.clear()
