import asyncio
import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from . import jobs
from .errors import json_error

HEARTBEAT_STALE_SECONDS = 10


def _check(probe) -> dict:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    cache.set("bidcart:healthz", "ok", timeout=10)
    if cache.get("bidcart:healthz") != "ok":
        raise RuntimeError("cache did not return what was written")


async def _channel_round_trip() -> None:
    layer = get_channel_layer()
    # A channel of its own, not one of this process's ("name!…", new_channel()): channels_redis reads those
    # through one blocking read that an open consumer holds, and keeps them in one queue per process that a
    # burst of live-room events can fill up to its capacity; /readyz failed whenever a WebSocket was open,
    # and for a minute after a bid storm.
    channel = f"healthz.{uuid.uuid4().hex}"
    await layer.send(channel, {"type": "healthz.ping"})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("channel layer returned another message")


def _jobs() -> dict:
    beat = jobs.heartbeat()
    age = time.time() - beat.timestamp() if beat else None
    return {
        "ok": age is not None and age <= HEARTBEAT_STALE_SECONDS,
        "mode": settings.BIDCART_JOBS,
        "last_tick": beat.isoformat() if beat else None,
        "sweeps": sorted(s.name for s in jobs.registered()),
    }


@never_cache
@require_GET
def livez(request):
    """Is the process up? No database, cache or channel layer: a liveness probe (a process whose
    dependencies are down is alive, and /readyz takes it out of rotation instead), and the benchmarks'
    floor, the cheapest request through the whole server and middleware stack."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@require_GET
def healthz(request):
    """Database, cache, channel layer and job loop. 503 only when the database is down: without the cache
    (core/cache.py degrades), the live room's channel layer or the job loop the site still serves, so those
    are reported (status "degraded") but do not take the web server out of rotation."""
    checks = {
        "database": _check(_database),
        "cache": _check(_cache),
        "channel_layer": _check(async_to_sync(_channel_round_trip)),
        "jobs": _jobs(),
    }
    serving = checks["database"]["ok"]
    healthy = serving and checks["channel_layer"]["ok"] and checks["jobs"]["ok"]
    body = {"status": "ok" if healthy else ("degraded" if serving else "down"), "checks": checks}
    return JsonResponse(body, status=200 if serving else 503)


_redis_clients: dict = {}


def _redis_ping(url: str):
    def probe() -> None:
        import redis

        client = _redis_clients.get(url)
        if client is None:
            client = _redis_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        if not client.ping():
            raise RuntimeError("Redis did not answer PING")

    return probe


def _broker_ping(url: str):
    def probe() -> None:
        from kombu import Connection

        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)

    return probe


@never_cache
@require_GET
def readyz(request):
    """Can this process serve traffic now? Database, cache, channel layer, and Redis and the Celery broker
    when configured. 503 names what failed; a load balancer takes the process out of rotation until it
    recovers. (The job loop's heartbeat is /healthz's business: a stalled worker is no reason to stop serving.)"""
    checks = {
        "database": _check(_database),
        "cache": _check(_cache),
        "channel_layer": _check(async_to_sync(_channel_round_trip)),
    }
    if settings.REDIS_URL:
        checks["redis"] = _check(_redis_ping(settings.REDIS_URL))
    broker = settings.CELERY_BROKER_URL or ""
    if settings.BIDCART_JOBS == "celery" and broker and not broker.startswith("memory://"):
        probe = _redis_ping(broker) if broker.startswith(("redis://", "rediss://")) else _broker_ping(broker)
        checks["broker"] = _check(probe)
    failed = sorted(name for name, check in checks.items() if not check["ok"])
    body = {"status": "not_ready" if failed else "ready", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus text format; only for METRICS_ALLOWED_IPS or a `Bearer METRICS_TOKEN` (403 otherwise)."""
    from django.http import HttpResponse

    from . import metrics

    if not metrics.allowed(request):
        return HttpResponse(
            "Forbidden: /metrics is for the operator's scraper (METRICS_ALLOWED_IPS, METRICS_TOKEN).\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)


@csrf_exempt  # a 404 changes nothing; unmatched API calls of every method get the API's JSON answer
def api_not_found(request, exception=None):
    return json_error("not_found", "No such resource.", 404)


def server_error(request):
    if request.path.startswith("/api/"):
        return json_error("server_error", "Something went wrong on our side; it has been logged.", 500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
