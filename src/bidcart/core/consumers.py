import json
import math
from datetime import datetime, timezone

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from . import ratelimit
from .http import scope_client_ip
from .ratelimit import FrameCounter

PING_GROUP = "bidcart.ping"
CLOSE_FLOODED = 4429  # the client sent frames faster than RATE_LIMIT_WS_CLOSE allows (cf. HTTP 429)


def error_message(code: str, detail: str, ref=None, **extra) -> dict:
    return {"type": "error", "code": code, "detail": detail, "ref": ref, **extra}


def rate_limited_message(error, ref=None) -> dict:
    """A `RateLimited` refusal as a WebSocket message."""
    return error_message(error.code, error.detail, ref, retry_after=error.retry_after)


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


class GuardedJsonConsumer(AsyncJsonWebsocketConsumer):
    """A JSON consumer that one bad client can't break. Every frame counts against the connection's
    limits (over RATE_LIMIT_WS_MESSAGES it is answered `rate_limited` and dropped, over RATE_LIMIT_WS_CLOSE
    the connection is closed with 4429); binary, empty, oversized or malformed frames, and JSON that is
    not an object (or holds NaN, Infinity, 1e309, nesting too deep to parse) are answered `invalid_message`.
    Only a JSON object reaches `receive_json`."""

    _frames: FrameCounter | None = None
    _floods: FrameCounter | None = None
    _closing = False

    async def admitted(self) -> bool:
        """RATE_LIMIT_WS_CONNECT per client address: one client can't open sockets without end. A refused
        handshake is closed with 4429 before it is accepted."""
        try:
            await sync_to_async(ratelimit.hit, thread_sensitive=False)("ws_connect", scope_client_ip(self.scope))
        except ratelimit.RateLimited:
            await self.close(code=CLOSE_FLOODED)
            return False
        return True

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self._closing:
            return
        if self._frames is None:
            self._frames = FrameCounter(settings.RATE_LIMIT_WS_MESSAGES)
            self._floods = FrameCounter(settings.RATE_LIMIT_WS_CLOSE)
        if self._floods.hit():
            self._closing = True
            await self.close(code=CLOSE_FLOODED, reason="rate_limited")
            return
        wait = self._frames.hit()
        if wait:
            await self.send_json(
                error_message("rate_limited", "Too many messages: slow down.", retry_after=math.ceil(wait))
            )
            return
        if text_data is None:
            await self.send_json(error_message("invalid_message", "Send JSON text frames, not binary ones."))
            return
        if len(text_data) > settings.WS_MAX_MESSAGE_BYTES:  # uvicorn closes bigger ones first; other servers may not
            await self.send_json(error_message("message_too_large", "The message is too large."))
            return
        content = await self.decode_json(text_data)
        if not isinstance(content, dict):
            await self.send_json(error_message("invalid_message", "Send a JSON object."))
            return
        await self.receive_json(content, **kwargs)

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data, parse_constant=_no_constants, parse_float=_finite)
        except (ValueError, RecursionError):  # RecursionError: "[[[[…" deeper than the parser goes
            return None


class PingConsumer(GuardedJsonConsumer):
    """`/ws/ping/`: a liveness check for the WebSocket path and the channel layer behind it.
    Answers `{"type": "ping"}` with a pong, and relays broadcasts sent to the ping group."""

    async def connect(self):
        if not await self.admitted():
            return
        await self.channel_layer.group_add(PING_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(PING_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong", "server_time": datetime.now(timezone.utc).isoformat()})
        else:
            await self.send_json({"type": "error", "code": "unknown_message"})

    async def ping_broadcast(self, event):
        await self.send_json({"type": "broadcast", "data": event.get("data")})
