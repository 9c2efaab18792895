"""Prometheus metrics, served at `/metrics` (core/views.py).

Counters any app may increment (one line, where the thing happens):

    from bidcart.core import metrics
    metrics.bids.labels(outcome="accepted").inc()            # or "refused"
    metrics.payments.labels(provider="kakaopay", outcome="paid").inc()
    metrics.webhooks.labels(provider="paypal", state="processed").inc()

Label values must come from small fixed sets (statuses, provider names), never from ids or user input.

Requests are counted by `RequestObserverMiddleware` (core/middleware.py) under the URL *pattern*
(`/auctions/<int:pk>/`), never the raw path. Sweeps are recorded by core/jobs.py in the cache (shared by
every process when REDIS_URL is set) and read back at scrape time by the collector it registers here
(`register_shared`), so any web process reports the sweeps the Celery worker ran, and how late each one is.
This module imports nothing of bidcart's but core/http.py: jobs imports it, never the other way round.

Several worker processes (`bidcart serve --workers N`) use prometheus_client's multiprocess mode:
`bidcart serve` sets PROMETHEUS_MULTIPROC_DIR before the workers start, each writes its samples there,
and /metrics adds them up, so any worker answers for the whole server.

A Celery worker counts what it does too (payments settled by reconciliation, webhook retries, sweep
durations): `bidcart worker --metrics-port N` serves the same exposition for its pool, on its own port.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

from .http import client_ip

# --- what other apps increment ----------------------------------------------------------------------
bids = Counter("bidcart_bids", "Bids placed, by outcome (accepted, refused).", ["outcome"])
payments = Counter(
    "bidcart_payments", "Payment status changes, by provider and outcome (the new status).", ["provider", "outcome"]
)
webhooks = Counter(
    "bidcart_webhook_deliveries",
    "Inbound webhook deliveries handled, by provider and final state.",
    ["provider", "state"],
)
rate_limited = Counter(
    "bidcart_rate_limited", "Calls refused by a rate limit (core/ratelimit.py), by action.", ["action"]
)

# --- requests (the middleware) ---------------------------------------------------------------------
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
requests = Counter(
    "bidcart_http_requests", "HTTP requests answered, by method, URL pattern and status.", ["method", "route", "status"]
)
request_latency = Histogram(
    "bidcart_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

# --- sweeps (recorded by core/jobs.py) -------------------------------------------------------------
sweep_duration = Histogram(
    "bidcart_sweep_duration_seconds",
    "Time one sweep run took (in this process).",
    ["sweep"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0),
)

# --- figures other processes wrote (the cache), read at scrape time -------------------------------
_shared: list = []


def register_shared(collector) -> None:
    """Report `collector` at /metrics, from this process's registry and from every worker's (multiprocess
    mode): its figures are read from shared state (the cache), not from this process's samples."""
    REGISTRY.register(collector)
    _shared.append(collector)


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> tuple[bytes, str]:
    """The text format, for this process or, in multiprocess mode, for every worker of this server."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
        for collector in _shared:
            registry.register(collector)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


def serve_worker_metrics(host: str, port: int):
    """/metrics of a Celery worker's pool, from a thread of its main process (`bidcart worker --metrics-port`).
    The same figures and the same token rule as the web's /metrics; the address to bind limits who else asks."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.split("?")[0] != "/metrics":
                self._answer(404, b"Not found: try /metrics\n", "text/plain; charset=utf-8")
            elif settings.METRICS_TOKEN and not bearer_ok(self.headers.get("Authorization", "")):
                self._answer(403, b"Forbidden: send Authorization: Bearer METRICS_TOKEN\n", "text/plain; charset=utf-8")
            else:
                self._answer(200, *exposition())

        def _answer(self, status: int, body: bytes, content_type: str):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # the scraper's visits are not worth a log line each
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server


def bearer_ok(header: str) -> bool:
    """`Authorization: Bearer METRICS_TOKEN`, compared in constant time; never when no token is set."""
    token = settings.METRICS_TOKEN
    return (
        bool(token)
        and header.startswith("Bearer ")
        and hmac.compare_digest(header[7:].strip().encode(), token.encode())
    )


def allowed(request) -> bool:
    """/metrics is for the operator's scraper: from METRICS_ALLOWED_IPS, or with `Bearer METRICS_TOKEN`."""
    if bearer_ok(request.headers.get("Authorization", "")):
        return True
    address = client_ip(request)  # a valid address, or None
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    for entry in settings.METRICS_ALLOWED_IPS:
        try:
            if ip in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False
