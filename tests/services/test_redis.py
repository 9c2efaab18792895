import asyncio
import json
import signal
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
import websockets
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from bidcart.core.consumers import PING_GROUP
from tests.livesrv import running_server


def test_the_channel_layer_and_cache_are_redis():
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert settings.CACHES["default"]["BACKEND"] == "bidcart.core.cache.DegradingRedisCache"
    assert settings.BIDCART_JOBS == "celery"


@pytest.mark.django_db(transaction=True)
def test_a_websocket_stays_open_30_seconds_on_redis_and_still_receives_broadcasts():
    """redis-py 8's 5 s socket timeout used to kill idle consumers (django/channels_redis#422)."""

    async def scenario(url):
        async with websockets.connect(url.replace("http", "ws") + "/ws/ping/", origin=url) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "pong"
            await asyncio.sleep(30)  # idle: the consumer sits in a blocking receive on Redis
            await get_channel_layer().group_send(PING_GROUP, {"type": "ping.broadcast", "data": "still here"})
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message == {"type": "broadcast", "data": "still here"}
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "pong"

    with running_server() as url:
        asyncio.run(scenario(url))


@pytest.mark.django_db(transaction=True)
def test_healthz_checks_redis_backed_layers(client):
    body = client.get("/healthz").json()
    assert body["checks"]["cache"]["ok"] is True
    assert body["checks"]["channel_layer"]["ok"] is True
    assert body["checks"]["jobs"]["mode"] == "celery"


@pytest.mark.django_db(transaction=True)
def test_celery_beat_and_worker_run_a_sweep_through_redis(subprocess_env, tmp_path):
    live, dead = SessionStore(), SessionStore()
    live.create()
    dead.create()
    Session.objects.filter(session_key=dead.session_key).update(expire_date=timezone.now() - timedelta(days=1))

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bidcart",
            "worker",
            "-B",
            "--loglevel=INFO",
            "--concurrency=1",
            "--schedule",
            str(tmp_path / "beat-schedule"),
            "--without-gossip",
            "--without-mingle",
        ],
        env=subprocess_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while Session.objects.filter(session_key=dead.session_key).exists():
            assert worker.poll() is None, "the Celery worker exited early"
            assert time.monotonic() < deadline, "beat/worker did not run the sweep within 60 s"
            time.sleep(0.5)
        assert Session.objects.filter(session_key=live.session_key).exists()
        from bidcart.core import jobs

        # The tick writes its heartbeat after the last due sweep, and the session sweep is the first of the
        # first tick's: the row can be gone while the other sweeps of that tick are still running.
        while jobs.heartbeat() is None:
            assert worker.poll() is None, "the Celery worker exited early"
            assert time.monotonic() < deadline, "the worker's tick did not write the heartbeat to Redis"
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert "bidcart.tick" in output


@pytest.mark.django_db(transaction=True)
def test_readyz_stays_ready_with_a_websocket_open_and_the_process_queue_full():
    """The channel-layer probe once used one of the process's own channels: channels_redis reads those
    through one blocking read, held by an open consumer, and keeps them in one queue per process, which a
    burst of live-room events fills up to its capacity. Either way /readyz answered 503 on a busy server —
    a load balancer would have taken it out of rotation."""

    async def scenario(url):
        async with websockets.connect(url.replace("http", "ws") + "/ws/ping/", origin=url) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "pong"  # in its blocking read
            async with httpx.AsyncClient(timeout=10) as client:
                for _ in range(3):
                    response = await client.get(f"{url}/readyz")
                    assert response.status_code == 200, response.text
        # Messages for consumers that have gone, up to the capacity of this process's queue.
        layer = get_channel_layer()
        gone = [await layer.new_channel() for _ in range(layer.capacity)]
        for channel in gone:
            await layer.send(channel, {"type": "gone.consumer"})
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{url}/readyz")
            assert response.status_code == 200, response.text
        for channel in gone:  # leave the queue empty for the tests that follow
            await layer.receive(channel)

    with running_server() as url:
        asyncio.run(scenario(url))
