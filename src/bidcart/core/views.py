import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
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
    channel = await layer.new_channel("healthz.")
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
def healthz(request):
    """Database, cache, channel layer and job loop. 503 only when the database or cache is down:
    a stalled job loop is reported (status "degraded") but does not take the web server out of rotation."""
    checks = {
        "database": _check(_database),
        "cache": _check(_cache),
        "channel_layer": _check(async_to_sync(_channel_round_trip)),
        "jobs": _jobs(),
    }
    serving = checks["database"]["ok"] and checks["cache"]["ok"]
    healthy = serving and checks["channel_layer"]["ok"] and checks["jobs"]["ok"]
    body = {"status": "ok" if healthy else ("degraded" if serving else "down"), "checks": checks}
    return JsonResponse(body, status=200 if serving else 503)


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
