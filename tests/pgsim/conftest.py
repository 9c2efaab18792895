"""Fixtures for the in-process pgsim protocol tests (no Django, no network).

`client` talks to a fresh simulator through httpx's ASGITransport; webhooks go to
`receiver`, an in-process ASGI app that records every delivery and answers with the
status codes a test queues.
"""

from __future__ import annotations

import json

import httpx
import pytest

from bidcart.pgsim.app import create_app
from bidcart.pgsim.config import SimConfig

BASE = "http://pgsim.test"


class Receiver:
    """Records webhook deliveries; `statuses` are answered in order, then 200."""

    def __init__(self):
        self.deliveries: list[dict] = []
        self.statuses: list[int] = []

    async def __call__(self, scope, receive, send):
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.deliveries.append(
            {"path": scope["path"], "headers": headers, "raw": body.decode(), "json": json.loads(body)}
        )
        status = self.statuses.pop(0) if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def for_path(self, path: str) -> list[dict]:
        return [d for d in self.deliveries if d["path"] == path]


@pytest.fixture
def receiver():
    return Receiver()


@pytest.fixture
def config(receiver):
    return SimConfig(
        control=True,
        iamport_webhook_url="http://shop.test/hooks/iamport",
        portone_webhook_url="http://shop.test/hooks/portone",
        paypal_webhook_url="http://shop.test/hooks/paypal",
        webhook_backoff=(0.05, 0.1),
        webhook_transport=httpx.ASGITransport(app=receiver),
    )


@pytest.fixture
async def app(config):
    app = create_app(config)
    yield app
    await app.sim.outbox.stop()


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


async def flush(client) -> list[dict]:
    """Attempt every pending webhook delivery now."""
    response = await client.post("/_control/webhooks/flush")
    assert response.status_code == 200
    return response.json()["attempts"]
