"""The simulator's own ledger: plain JSON-able dicts, optionally persisted to a file.

Every table is a dict keyed by the provider's id so the whole state is one JSON document.
Handlers run on one event loop and do not await between reading and writing a record, so
no locks are needed.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import tempfile
import time
from datetime import datetime, timedelta, timezone

TABLES = (
    "kakaopay",  # tid -> payment
    "iamport_tokens",  # access_token -> {imp_key, expired_at}
    "iamport_payments",  # imp_uid -> payment
    "iamport_prepared",  # merchant_uid -> {merchant_uid, amount, currency}
    "portone_payments",  # paymentId -> payment
    "portone_prepared",  # paymentId -> {totalAmount, taxFreeAmount, currency}
    "portone_tokens",  # accessToken -> expires_at
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


class State:
    def __init__(self, path: str | None = None):
        self.path = path
        self.clock_offset = 0.0  # moved by the control API to test expiry
        self.attempts: list[dict] = []  # every webhook delivery attempt, in order
        for name in TABLES:
            setattr(self, name, {})
        if path and os.path.exists(path):
            self.load()

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
        data = {name: getattr(self, name) for name in TABLES}
        data["attempts"] = self.attempts
        data["clock_offset"] = self.clock_offset
        return data

    def reset(self) -> None:
        for name in TABLES:
            setattr(self, name, {})
        self.attempts = []
        self.clock_offset = 0.0
        self.save()

    def load(self) -> None:
        with open(self.path, encoding="utf-8") as f:
            data = json.load(f)
        for name in TABLES:
            setattr(self, name, data.get(name, {}))
        self.attempts = data.get("attempts", [])
        self.clock_offset = data.get("clock_offset", 0.0)

    def save(self) -> None:
        """Atomic: write a temp file in the same directory, then rename over the old one."""
        if not self.path:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".pgsim-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.to_dict(), f, ensure_ascii=False)
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise
