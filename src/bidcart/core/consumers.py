from datetime import datetime, timezone

from channels.generic.websocket import AsyncJsonWebsocketConsumer

PING_GROUP = "bidcart.ping"


class PingConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/ping/`: a liveness check for the WebSocket path and the channel layer behind it.
    Answers `{"type": "ping"}` with a pong, and relays broadcasts sent to the ping group."""

    async def connect(self):
        await self.channel_layer.group_add(PING_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(PING_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "server_time": datetime.now(timezone.utc).isoformat()})
        else:
            await self.send_json({"type": "error", "code": "unknown_message"})

    async def ping_broadcast(self, event):
        await self.send_json({"type": "broadcast", "data": event.get("data")})

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None
