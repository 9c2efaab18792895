"""`/ws/ping/` through the consumer (Channels' routing, in-memory layer): it has the live room's guard,
so binary, malformed and flooding clients get errors, then a close, never an exception."""

from channels.routing import URLRouter

from bidcart.core.consumers import CLOSE_FLOODED
from bidcart.core.routing import websocket_urlpatterns
from tests.auctions.wsclient import WebsocketCommunicator

app = URLRouter(websocket_urlpatterns)


async def ping_socket():
    comm = WebsocketCommunicator(app, "/ws/ping/")
    assert (await comm.connect())[0]
    return comm


async def test_ping_answers_pong_and_bad_frames_get_errors():
    comm = await ping_socket()
    await comm.send_json_to({"type": "ping"})
    assert (await comm.receive_json_from())["type"] == "pong"
    await comm.send_input({"type": "websocket.receive", "bytes": b"\x00"})
    assert (await comm.receive_json_from())["code"] == "invalid_message"
    for text in ("{", "[]", "", '{"type": "ping", "x": NaN}'):
        await comm.send_input({"type": "websocket.receive", "text": text})
        assert (await comm.receive_json_from())["code"] == "invalid_message", text
    await comm.send_json_to({"type": "dance"})
    assert (await comm.receive_json_from())["code"] == "unknown_message"
    await comm.send_json_to({"type": "ping"})
    assert (await comm.receive_json_from())["type"] == "pong"
    await comm.disconnect()


async def test_a_message_over_the_limit_is_refused_where_the_server_would_not(settings):
    settings.WS_MAX_MESSAGE_BYTES = 100  # uvicorn closes first; a server without ws_max_size doesn't
    comm = await ping_socket()
    await comm.send_json_to({"type": "ping", "pad": "x" * 100})
    assert (await comm.receive_json_from())["code"] == "message_too_large"
    await comm.disconnect()


async def test_a_flood_is_closed(settings):
    settings.RATE_LIMIT_WS_MESSAGES = "2/s"
    settings.RATE_LIMIT_WS_CLOSE = "4/s"
    comm = await ping_socket()
    for _ in range(6):
        await comm.send_json_to({"type": "ping"})
    outputs = [await comm.receive_output(2) for _ in range(5)]
    kinds = [o["type"] for o in outputs]
    assert kinds == ["websocket.send"] * 4 + ["websocket.close"]
    assert [o["text"].count("pong") for o in outputs[:4]] == [1, 1, 0, 0]
    assert '"rate_limited"' in outputs[2]["text"] and outputs[4]["code"] == CLOSE_FLOODED
    await comm.disconnect()
