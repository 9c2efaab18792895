"""A WebSocket test client for consumers. Channels' own WebsocketCommunicator lives in a package that
imports daphne (not a dependency here), so this is the same few methods on asgiref's communicator."""

import json

from asgiref.testing import ApplicationCommunicator
from channels.routing import URLRouter
from django.contrib.auth.models import AnonymousUser

from bidcart.auctions.routing import websocket_urlpatterns


class WebsocketCommunicator(ApplicationCommunicator):
    def __init__(self, application, path: str):
        self.scope = {"type": "websocket", "path": path, "query_string": b"", "headers": [], "subprotocols": []}
        super().__init__(application, self.scope)

    async def connect(self, timeout=2):
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept"
        return True, response.get("subprotocol")

    async def send_json_to(self, data):
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json_from(self, timeout=2):
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self, code=1000, timeout=2):
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)

    async def pending_messages(self, wait=0.5) -> list[dict]:
        """Whatever arrives within `wait` seconds, without timing the application out (a receive that
        times out cancels the application under test)."""
        import asyncio

        await asyncio.sleep(wait)
        messages = []
        while not self.output_queue.empty():
            response = self.output_queue.get_nowait()
            if response["type"] == "websocket.send":
                messages.append(json.loads(response["text"]))
        return messages


async def join(lot_id, user=None):
    """A viewer (anonymous unless `user`) in a lot's live room, through the real routing: (communicator,
    the snapshot it got on connect)."""
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/auctions/{lot_id}/")
    comm.scope["user"] = user or AnonymousUser()
    connected, _ = await comm.connect()
    assert connected
    snapshot = await next_of(comm, "snapshot")
    return comm, snapshot


async def next_of(comm, *types, timeout=3):
    """The next message of one of `types`, skipping viewer counts and anything else."""
    while True:
        message = await comm.receive_json_from(timeout=timeout)
        if message["type"] in types:
            return message
