"""One HTTP client for every adapter: timeouts, retries on safe calls only, and a log of every call.

`safe=True` marks a call that can be repeated without effect (a GET, or a POST carrying an idempotency
key the provider honours); only those are retried, on connection errors, timeouts and 5xx. Anything
else is tried once: a timed-out approve or capture may have charged the buyer, so it is left to
reconciliation instead of being sent again.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from .errors import ProviderError

REDACT = {
    "authorization",
    "access_token",
    "accesstoken",
    "refresh_token",
    "refreshtoken",
    "imp_secret",
    "apisecret",
    "client_secret",
    "secret",
    "secret_key",
    "cid_secret",
    "password",
    "card_number",
    "cardnumber",
    "token",
    # a buyer's refund account (V1 form fields, V2 refundAccount) and Inicis's key for closing vbanks
    "refund_account",
    "refund_holder",
    "refundaccount",
    "pg_api_key",
}


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("***" if str(k).lower() in REDACT else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@dataclass
class Call:
    method: str
    url: str
    status: int | None
    request: Any
    response: Any
    ms: int
    error: str = ""

    def as_payload(self) -> dict:
        return {
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "ms": self.ms,
            "request": redact(self.request),
            "response": redact(self.response),
            "error": self.error,
        }


@dataclass
class Answer:
    status: int
    data: Any  # parsed JSON (or None)
    headers: httpx.Headers


_shared: dict[int, httpx.HTTPTransport] = {}
_shared_lock = threading.Lock()


def shared_transport() -> httpx.HTTPTransport:
    """One connection pool per process for every adapter. Building a client's TLS context (loading the CA
    bundle) cost more CPU than the rest of a payment request together (30% of a KakaoPay flow's server time
    in bench/payments.py), and a pool keeps connections to the provider open between calls. Per process id:
    a pool is never shared with a forked child (Celery's prefork workers)."""
    pid = os.getpid()
    transport = _shared.get(pid)
    if transport is None:
        with _shared_lock:
            transport = _shared.get(pid) or _shared.setdefault(pid, httpx.HTTPTransport(retries=0))
    return transport


class ProviderHTTP:
    """`base_url` + path; `on_call(Call)` receives every attempt (the services write it to the log)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        on_call: Callable[[Call], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.on_call = on_call or (lambda call: None)
        self._own_transport = transport is not None
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), transport=transport or shared_transport()
        )

    def close(self) -> None:
        if self._own_transport:  # the shared pool outlives every adapter
            self.client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict | None = None,
        params: dict | None = None,
        headers: dict | None = None,
        safe: bool | None = None,
        auth: tuple[str, str] | None = None,
        log: bool = True,
    ) -> Answer:
        """Send; answer any HTTP status (the adapter reads provider errors). Raises ProviderError with
        `outcome_unknown=True` on a network failure or timeout, after the retries a safe call gets."""
        safe = method.upper() == "GET" if safe is None else safe
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        attempts = 1 + (self.retries if safe else 0)
        for attempt in range(attempts):
            started = time.monotonic()
            sent = json_body if json_body is not None else (form or params)
            try:
                response = self.client.request(
                    method, url, json=json_body, data=form, params=params, headers=headers, auth=auth
                )
            except httpx.HTTPError as exc:
                ms = int((time.monotonic() - started) * 1000)
                if log:
                    self.on_call(Call(method, url, None, sent, None, ms, error=f"{type(exc).__name__}: {exc}"))
                if attempt + 1 < attempts:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise ProviderError(
                    f"{method} {url}: {type(exc).__name__}", code="network", outcome_unknown=True
                ) from exc
            ms = int((time.monotonic() - started) * 1000)
            try:
                data = response.json() if response.content else None
            except (ValueError, json.JSONDecodeError):
                data = {"_text": response.text[:500]}
            if log:
                self.on_call(Call(method, url, response.status_code, sent, data, ms))
            if response.status_code >= 500 and attempt + 1 < attempts:
                time.sleep(0.2 * (attempt + 1))
                continue
            return Answer(response.status_code, data, response.headers)
        raise AssertionError("unreachable")
