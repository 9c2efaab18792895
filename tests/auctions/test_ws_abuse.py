"""A misbehaving client on the live room's WebSocket, against a real server (uvicorn, as `bidcart run`
serves it) with a real client: malformed and binary frames are answered with errors, an oversized
message closes its connection with 1009, a flood is answered `rate_limited` and then closed with 4429.
Meanwhile a well-behaved viewer of the same lot keeps receiving the room's events, a newcomer gets its
snapshot, and the server answers /healthz."""

import asyncio
import json

import httpx
import pytest
import websockets
from django.test import Client

from bidcart.accounts.jwt import token_pair
from bidcart.core.consumers import CLOSE_FLOODED
from tests.auctions.factories import bidder, make_lot
from tests.livesrv import running_server

pytestmark = pytest.mark.django_db(transaction=True)

MAX_MESSAGE = 16 * 1024


@pytest.fixture
def room(settings):
    """A real server with a small WebSocket message limit, a live lot, and a verified bidder who is
    logged in (session cookie for the socket, a token for the API)."""
    settings.WS_MAX_MESSAGE_BYTES = MAX_MESSAGE
    lot = make_lot(start=10_000)
    user, other = bidder(), bidder()
    browser = Client()
    browser.force_login(user)
    with running_server() as url:
        yield {
            "url": url,
            "lot": lot,
            "session": browser.cookies["sessionid"].value,
            "other_token": token_pair(other)["access"],
        }


async def connect(room, *, logged_in=False):
    ws_url = room["url"].replace("http", "ws", 1) + f"/ws/auctions/{room['lot'].pk}/"
    headers = {"Cookie": f"sessionid={room['session']}"} if logged_in else None
    ws = await websockets.connect(ws_url, origin=room["url"], additional_headers=headers, max_size=None)
    assert (await next_of(ws, "snapshot"))["lot"]["id"] == room["lot"].pk
    return ws


async def next_of(ws, *types, timeout=5):
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] in types:
            return message


async def answer(ws, frame):
    """Send one frame; the reply to it (viewer counts skipped)."""
    await ws.send(frame)
    return await next_of(ws, "error", "bid_result", "pong", "chat_sent", "reported", "snapshot")


async def still_serving(room, viewer):
    """The viewer who was there all along hears a new bid (placed over the real server's API), a newcomer
    gets a snapshot with it, and the load balancer's check passes."""
    async with httpx.AsyncClient(base_url=room["url"], timeout=10) as api:
        bid = await api.post(
            f"/api/v1/lots/{room['lot'].pk}/bids/",
            json={"max_amount": 25_000},
            headers={"Authorization": f"Bearer {room['other_token']}"},
        )
        assert bid.status_code == 201, bid.text
        event = await next_of(viewer, "bid")
        assert event["lot"]["bid_count"] >= 1 and event["bid"]["price"] == event["lot"]["current_price"]
        newcomer = await connect(room)
        await newcomer.send(json.dumps({"type": "snapshot"}))
        assert (await next_of(newcomer, "snapshot"))["seq"] >= event["seq"]
        await newcomer.close()
        assert (await api.get("/healthz")).status_code == 200


# What a client might send, and the answer each gets: (frame, type, code or reason).
MALFORMED = [
    ("not json at all", "error", "invalid_message"),
    ("", "error", "invalid_message"),
    ("[1, 2, 3]", "error", "invalid_message"),
    ('"bid"', "error", "invalid_message"),
    ("42", "error", "invalid_message"),
    ("null", "error", "invalid_message"),
    ('{"type": "bid", "max_amount": NaN}', "error", "invalid_message"),
    ('{"type": "bid", "max_amount": Infinity}', "error", "invalid_message"),
    ('{"type": "bid", "max_amount": 1e309}', "error", "invalid_message"),
    ('{"type": "bid", "max_amount": ' + "9" * 5000 + "}", "error", "invalid_message"),  # past Python's int digits
    ("[" * 10_000, "error", "invalid_message"),  # nested deeper than the parser recurses
    ('{"type": 5}', "error", "unknown_message"),
    ('{"type": ["bid"]}', "error", "unknown_message"),
    ('{"no_type": true}', "error", "unknown_message"),
    ('{"type": "bid", "max_amount": "abc"}', "bid_result", "invalid_amount"),
    ('{"type": "bid", "max_amount": []}', "bid_result", "invalid_amount"),
    ('{"type": "bid", "max_amount": {"$gt": 0}}', "bid_result", "invalid_amount"),
    ('{"type": "bid"}', "bid_result", "invalid_amount"),
    ('{"type": "bid", "max_amount": -5}', "bid_result", "invalid_amount"),
    ('{"type": "bid", "max_amount": true}', "bid_result", "invalid_amount"),
    ('{"type": "bid", "max_amount": 1.5}', "bid_result", "invalid_amount"),
    ('{"type": "bid", "max_amount": 1000000000000000000000000000000}', "bid_result", "invalid_amount"),
    ('{"type": "bid", "max_amount": "' + "9" * 5000 + '"}', "bid_result", "invalid_amount"),
    ('{"type": "chat", "text": ["a", "b"]}', "error", "message_empty"),
    ('{"type": "chat", "text": {"a": 1}}', "error", "message_empty"),
    ('{"type": "chat"}', "error", "message_empty"),
    ('{"type": "report", "message_id": "x", "reason": "spam"}', "error", "invalid_message"),
    ('{"type": "report", "message_id": [], "reason": "spam"}', "error", "invalid_message"),
    ('{"type": "report", "message_id": 1000000000000000000000000000000, "reason": "spam"}', "error", None),
    ('{"type": "report", "message_id": 1, "reason": ["spam"]}', "error", "reason_invalid"),
]


def test_malformed_and_binary_frames_are_answered_and_the_connection_stays_usable(room):
    async def scenario():
        viewer = await connect(room)
        abuser = await connect(room, logged_in=True)
        for frame, kind, code in MALFORMED:
            reply = await answer(abuser, frame)
            assert reply["type"] == kind, (frame[:60], reply)
            if code is not None:
                assert reply.get("code", reply.get("reason")) == code, (frame[:60], reply)
        await abuser.send(b"\x00\x01binary")
        assert (await next_of(abuser, "error"))["code"] == "invalid_message"
        assert (await answer(abuser, json.dumps({"type": "ping", "t": 1})))["type"] == "pong"  # still open
        await still_serving(room, viewer)
        await abuser.close()
        await viewer.close()

    asyncio.run(scenario())


def test_a_message_over_the_limit_closes_that_connection_with_1009(room):
    async def scenario():
        viewer = await connect(room)
        abuser = await connect(room)
        await abuser.send(json.dumps({"type": "chat", "text": "x" * MAX_MESSAGE}))
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(abuser.recv(), 5)
        assert abuser.close_code == 1009  # "message too big"
        await still_serving(room, viewer)
        await viewer.close()

    asyncio.run(scenario())


def test_a_flood_is_refused_then_closed_with_4429(room, settings):
    settings.RATE_LIMIT_WS_MESSAGES = "5/s"
    settings.RATE_LIMIT_WS_CLOSE = "20/s"

    async def scenario():
        viewer = await connect(room)
        abuser = await connect(room, logged_in=True)
        for i in range(100):
            try:
                await abuser.send(json.dumps({"type": "snapshot" if i % 2 else "ping"}))
            except websockets.ConnectionClosed:
                break
        replies = []
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                replies.append(json.loads(await asyncio.wait_for(abuser.recv(), 5)))
        assert abuser.close_code == CLOSE_FLOODED == 4429 and abuser.close_reason == "rate_limited"
        answered = [r for r in replies if r["type"] in ("pong", "snapshot")]
        refused = [r for r in replies if r["type"] == "error"]
        assert len(answered) == 5  # the first 5 in the second
        assert len(refused) == 15 and all(r["code"] == "rate_limited" and r["retry_after"] == 1 for r in refused)
        await still_serving(room, viewer)
        await viewer.close()

    asyncio.run(scenario())


def test_one_address_opening_sockets_without_end_is_turned_away_and_others_are_not(room, settings):
    settings.RATE_LIMIT_WS_CONNECT = "3/min"
    settings.NUM_PROXIES = 1  # the address counted is the one the (trusted) proxy saw

    async def scenario():
        ws_url = room["url"].replace("http", "ws", 1) + f"/ws/auctions/{room['lot'].pk}/"

        def from_address(ip):
            return websockets.connect(ws_url, origin=room["url"], additional_headers={"X-Forwarded-For": ip})

        opened = [await from_address("198.51.100.7") for _ in range(3)]
        for ws in opened:
            assert (await next_of(ws, "snapshot"))["lot"]["id"] == room["lot"].pk
        with pytest.raises(websockets.InvalidStatus) as refused:
            await from_address("198.51.100.7")  # the 4th in the minute: refused at the handshake
        assert refused.value.response.status_code == 403
        other = await from_address("198.51.100.8")  # someone else is let in
        assert (await next_of(other, "snapshot"))["lot"]["id"] == room["lot"].pk
        await still_serving(room, opened[0])  # and the room goes on for those already in it
        for ws in (*opened, other):
            await ws.close()

    asyncio.run(scenario())
