"""The production topology on this machine, as an operator starts it: scripts/services-up (two `bidcart serve`
web servers with two workers each, a Celery worker, beat and the payment simulator, on PostgreSQL and
Redis), used through both web servers, then scripts/services-down."""

import asyncio
import json
import os
import subprocess
import time
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis
import websockets
from channels.layers import get_channel_layer
from django.conf import settings

from bidcart.core.consumers import PING_GROUP
from tests.services.stack import ROOT, SERVICES, alive, group_members, scrape, start_stack


def stack_database_url() -> str:
    """The test run's PostgreSQL server, with a database of the stack's own (`<name>_stack`)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_stack"))


@pytest.fixture
def stack(tmp_path):
    # the suite's own Redis database, flushed after this test
    stack = start_stack(tmp_path / "stack", stack_database_url(), settings.REDIS_URL)
    try:
        yield stack
    finally:
        stack.down()
        redis.Redis.from_url(settings.REDIS_URL).flushdb()


def test_services_up_runs_two_web_servers_a_worker_and_beat_on_shared_postgres_and_redis(stack):
    up = stack.up
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    web1, web2 = stack.web1, stack.web2
    assert web1 + "/" in up.stdout and web2 + "/" in up.stdout  # it prints where to go
    pids = {name: int((stack.dir / f"{name}.pid").read_text()) for name in SERVICES}
    assert all(alive(pid) for pid in pids.values())

    # Both web servers are ready, and check Redis and the Celery broker besides the database.
    for web in (web1, web2):
        ready = httpx.get(f"{web}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"database", "cache", "channel_layer", "redis", "broker"}

    # A buyer logs in and fills the cart on web 1; web 2 knows the session and sees the cart.
    with httpx.Client(timeout=10) as browser:
        browser.get(f"{web1}/accounts/login/")
        login = browser.post(
            f"{web1}/accounts/login/",
            data={
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                "email": "buyer@example.com",
                "password": "bidcart-demo",
            },
        )
        assert login.status_code == 302, login.text[:500]
        product = browser.get(f"{web1}/api/v1/products/").json()["results"][0]
        variant = browser.get(f"{web1}/api/v1/products/{product['slug']}/").json()["variants"][0]["id"]
        csrf = {"X-CSRFToken": browser.cookies["csrftoken"]}
        for line in browser.get(f"{web1}/api/v1/cart/").json()["items"]:  # the stack's database outlives a run
            assert browser.delete(f"{web1}/api/v1/cart/items/{line['id']}/", headers=csrf).status_code == 204
        added = browser.post(f"{web1}/api/v1/cart/items/", json={"variant": variant, "quantity": 2}, headers=csrf)
        assert added.status_code in (200, 201), added.text
        assert browser.get(f"{web2}/api/v1/me/").json()["email"] == "buyer@example.com"
        cart = browser.get(f"{web2}/api/v1/cart/").json()
        assert [(line["variant"]["id"], line["quantity"]) for line in cart["items"]] == [(variant, 2)]

    # A group message through the shared Redis channel layer reaches WebSocket clients of both servers.
    async def broadcast():
        async with (
            websockets.connect(web1.replace("http", "ws") + "/ws/ping/", origin=web1) as on1,
            websockets.connect(web2.replace("http", "ws") + "/ws/ping/", origin=web2) as on2,
        ):
            for ws in (on1, on2):  # connected and in the group
                await ws.send(json.dumps({"type": "ping"}))
                assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "pong"
            await get_channel_layer().group_send(PING_GROUP, {"type": "ping.broadcast", "data": "lot 7 closed"})
            for ws in (on1, on2):
                assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {
                    "type": "broadcast",
                    "data": "lot 7 closed",
                }

    asyncio.run(broadcast())

    # The Celery worker runs the sweeps that beat schedules: the heartbeat is fresh, the runs are counted.
    deadline = time.monotonic() + 30
    while True:
        jobs = httpx.get(f"{web2}/healthz", timeout=10).json()["checks"]["jobs"]
        if jobs["ok"]:
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.5)
    assert jobs["mode"] == "celery"
    samples = scrape(web1)
    ran = sum(
        v for (name, labels), v in samples.items() if name == "bidcart_sweep_runs_total" and ("outcome", "ok") in labels
    )
    assert ran >= 1
    sweep_lines = [
        json.loads(line)
        for line in (stack.dir / "worker.log").read_text().splitlines()
        if line.startswith("{") and '"event": "sweep"' in line
    ]
    assert sweep_lines and {"sweep", "ok", "duration_ms", "lag_s", "ts"} <= set(sweep_lines[0])

    # The Celery worker serves its own /metrics: the sweeps it timed in its pool's process.
    worker_samples = scrape(f"http://127.0.0.1:{stack.env['WORKER_METRICS_PORT']}")
    timed = sum(v for (name, labels), v in worker_samples.items() if name == "bidcart_sweep_duration_seconds_count")
    assert timed >= 1

    # Each web server's /metrics adds up its two worker processes (multiprocess mode).
    for _ in range(20):
        assert httpx.get(f"{web1}/products/", timeout=10).status_code == 200
    counted = scrape(web1)[
        ("bidcart_http_requests_total", frozenset({("method", "GET"), ("route", "/products/"), ("status", "200")}))
    ]
    assert counted == 20
    # …and its request log lines are JSON with the route.
    lines = [json.loads(line) for line in (stack.dir / "web1.log").read_text().splitlines() if line.startswith("{")]
    assert sum(1 for line in lines if line.get("event") == "request" and line["route"] == "/products/") == 20

    # services-down stops everything services-up started, children included, and nothing else.
    down = subprocess.run(
        [str(ROOT / "scripts" / "services-down")], env=stack.env, capture_output=True, text=True, timeout=60
    )
    assert down.returncode == 0, down.stderr
    assert "stopped 5 service(s)" in down.stdout
    for name, pid in pids.items():
        assert not alive(pid), f"{name} ({pid}) is still running"
        assert group_members(pid) == [], f"{name}'s processes are still running"
        assert not (stack.dir / f"{name}.pid").exists()
    for web in (web1, web2):
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{web}/readyz", timeout=2)
