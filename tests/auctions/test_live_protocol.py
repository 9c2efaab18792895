"""The live room for API clients, against a real server (uvicorn, as `bidcart run` serves it) with the plain
`websockets` library: a JWT in Sec-WebSocket-Protocol and no Origin is enough to watch, bid, be outbid and
chat; every message the server sends has exactly the fields docs/live-room.md documents; cookie connections
keep a strict same-origin check (the port too); a socket opened before a password change or a logout can't
act for it afterwards."""

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import websockets
from channels.db import database_sync_to_async
from django.test import Client

from bidcart.accounts.jwt import token_pair
from bidcart.auctions import consumers, services
from bidcart.auctions.models import ChatMessage
from bidcart.core.wsauth import SUBPROTOCOL
from tests.auctions.factories import bidder, make_lot
from tests.livesrv import running_server

pytestmark = pytest.mark.django_db(transaction=True)

DOC = Path(__file__).resolve().parents[2] / "docs" / "live-room.md"
db = database_sync_to_async


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(consumers, "VIEWERS_EVERY", 0.2)
    with running_server() as url:
        yield url


def ws_url(base, lot_id):
    return base.replace("http", "ws", 1) + f"/ws/auctions/{lot_id}/"


async def connect_with_token(base, lot_id, token):
    """What an app does: no cookie, no Origin, the API's access token."""
    return await websockets.connect(ws_url(base, lot_id), subprotocols=[SUBPROTOCOL, token])


class Recorder:
    """Reads one socket in the background; every message it got, and a way to wait for the next of a type."""

    def __init__(self, ws):
        self.ws, self.messages, self._new = ws, [], asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self):
        try:
            async for frame in self.ws:
                self.messages.append(json.loads(frame))
                self._new.set()
        except websockets.ConnectionClosed:
            pass

    async def next(self, kind, after=0, timeout=5):
        async def wait():
            while True:
                for message in self.messages[after:]:
                    if message["type"] == kind:
                        return message
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def send(self, **message):
        mark = len(self.messages)
        await self.ws.send(json.dumps(message))
        return mark

    async def close(self):
        await self.ws.close()
        await self.task


async def drive_the_room(base) -> dict[str, list[dict]]:
    """Two app users with tokens in one lot's room (bid, outbid, extended, chat, report, ping, a bad message);
    staff hide the line and cancel the lot; a scheduled lot starts. Every message each socket received, by type."""
    lot = await db(make_lot)(start=10_000, runs=timedelta(seconds=90), soft_close=120)
    later = await db(make_lot)(start=5_000, starts_in=timedelta(seconds=1), runs=timedelta(hours=1))
    a, b = await db(bidder)(), await db(bidder)()
    staff = await db(bidder)()
    staff.is_staff = True
    await db(staff.save)()
    token_a, token_b = (await db(token_pair)(a))["access"], (await db(token_pair)(b))["access"]

    ws_a = await connect_with_token(base, lot.pk, token_a)
    assert ws_a.subprotocol == SUBPROTOCOL  # the protocol's name, never the token, comes back
    room_a, room_b = Recorder(ws_a), Recorder(await connect_with_token(base, lot.pk, token_b))
    watcher = Recorder(await connect_with_token(base, later.pk, token_a))
    snapshot = await room_a.next("snapshot")
    assert snapshot["lot"]["id"] == lot.pk and snapshot["you"]["my_max"] is None

    mark = await room_a.send(type="bid", max_amount=15_000, ref="b1")
    result = await room_a.next("bid_result", mark)
    assert (result["accepted"], result["leading"], result["my_max"], result["ref"]) == (True, True, 15_000, "b1")
    assert (await room_b.next("bid"))["lot"]["current_price"] == 10_000
    await room_b.next("extended")  # 90 s left, a 120 s soft-close window

    mark_a = len(room_a.messages)
    mark = await room_b.send(type="bid", max_amount=20_000, ref="b2")
    assert (await room_b.next("bid_result", mark))["leading"] is True
    outbid = await room_a.next("outbid", mark_a)
    assert outbid["lot"]["current_price"] == 15_500 and outbid["lot"]["leader"] == "#2"
    assert all(m["type"] != "outbid" for m in room_b.messages)  # only to the bidder who lost the lead

    mark = await room_a.send(type="bid", max_amount=12_000, ref="b3")
    refused = await room_a.next("bid_result", mark)
    assert (refused["accepted"], refused["reason"], refused["lot"]["current_price"]) == (False, "bid_too_low", 15_500)

    mark = await room_a.send(type="chat", text="좋은 카메라네요", ref="c1")
    sent = await room_a.next("chat_sent", mark)
    line = await room_b.next("chat")
    assert line["message"]["text"] == "좋은 카메라네요" and line["message"]["id"] == sent["message_id"]
    mark = await room_b.send(type="report", message_id=sent["message_id"], reason="spam", ref="r1")
    assert (await room_b.next("reported", mark))["message_id"] == sent["message_id"]
    mark = await room_b.send(type="ping", t=123)
    assert (await room_b.next("pong", mark))["t"] == 123
    mark = await room_b.send(type="dance")
    assert (await room_b.next("error", mark))["code"] == "unknown_message"
    await room_b.next("viewers")

    await db(services.hide_message)(staff, sent["message_id"])
    assert (await room_a.next("chat_hidden"))["message_id"] == sent["message_id"]
    await db(services.cancel_lot)(staff, lot.pk, "Counterfeit")
    ended = await room_b.next("ended")
    assert (ended["winner"], ended["reason"], ended["lot"]["status"]) == (False, "Counterfeit", "cancelled")

    await asyncio.sleep(1.1)
    await db(services.start_scheduled_lots)()
    assert (await watcher.next("started"))["lot"]["status"] == "live"

    for room in (room_a, room_b, watcher):
        await room.close()
    seen: dict[str, list[dict]] = {}
    for message in room_a.messages + room_b.messages + watcher.messages:
        seen.setdefault(message["type"], []).append(message)
    return seen


async def test_a_websockets_client_with_only_a_jwt_watches_bids_is_outbid_and_chats(server):
    seen = await drive_the_room(server)
    assert {
        "snapshot",
        "bid",
        "extended",
        "outbid",
        "bid_result",
        "chat",
        "chat_sent",
        "reported",
        "pong",
        "error",
        "viewers",
        "chat_hidden",
        "ended",
        "started",
    } <= set(seen)


# --- the documentation is the protocol ------------------------------------------------------------------


def documented_messages() -> tuple[dict, dict]:
    """From docs/live-room.md: the `lot` object, and each server message's example by type."""
    server_part = DOC.read_text().split("## Messages from the client")[0]
    blocks = re.findall(r"```json( lot)?\n(.*?)```", server_part, re.S)
    lot = next(json.loads(text) for label, text in blocks if label)
    examples = {}
    for label, text in blocks:
        if not label:
            example = json.loads(text)
            examples[example["type"]] = example
    return lot, examples


def shape_differences(example, actual, where, refs) -> list[str]:
    """Where a real message's fields differ from the documented example's (recursively; `{}` stands for the
    object documented elsewhere, `refs[name]`)."""
    if isinstance(example, dict) and isinstance(actual, dict):
        if not example and where.rsplit(".", 1)[-1] in refs:
            example = refs[where.rsplit(".", 1)[-1]]
        problems = []
        if set(example) != set(actual):
            problems.append(
                f"{where}: documented {sorted(set(example) - set(actual))} not sent, "
                f"sent {sorted(set(actual) - set(example))} not documented"
            )
        for key in set(example) & set(actual):
            problems += shape_differences(example[key], actual[key], f"{where}.{key}", refs)
        return problems
    if isinstance(example, list) and isinstance(actual, list) and example and actual:
        return shape_differences(example[0], actual[0], f"{where}[]", refs)
    return []


async def test_every_message_the_server_sends_is_documented_with_exactly_its_fields(server):
    lot, examples = documented_messages()
    refs = {"lot": lot, "you": examples["snapshot"]["you"]}
    seen = await drive_the_room(server)
    assert set(seen) == set(examples), "documented but never sent, or sent but undocumented"
    problems = []
    for kind, messages in seen.items():
        for message in messages:
            if message.get("lot") is None and kind == "bid_result":
                continue  # refused before the lot: no lot
            problems += shape_differences(examples[kind], message, kind, refs)
    assert not problems, "\n".join(sorted(set(problems)))


# --- who may connect --------------------------------------------------------------------------------------


async def handshake_status(url, **kwargs):
    """The HTTP status a refused handshake got, or the close code / "open" of an accepted one."""
    try:
        ws = await websockets.connect(url, **kwargs)
    except websockets.InvalidStatus as refused:
        return refused.response.status_code
    try:
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        return first.get("code") or first["type"]
    except websockets.ConnectionClosed:
        return ws.close_code
    finally:
        await ws.close()


async def test_cookie_connections_need_this_exact_origin_and_tokens_need_none(server):
    lot, user = await db(make_lot)(), await db(bidder)()
    browser = Client()
    await db(browser.force_login)(user)
    cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    url = ws_url(server, lot.pk)
    port = int(server.rsplit(":", 1)[1])
    assert await handshake_status(url, origin=server, additional_headers=cookie) == "snapshot"
    assert await handshake_status(url, origin="https://evil.example", additional_headers=cookie) == 403
    # another port of the same host is another origin (another local app, a dev server)
    assert await handshake_status(url, origin=f"http://127.0.0.1:{port + 1}", additional_headers=cookie) == 403
    assert await handshake_status(url, origin="http://localhost.evil.example", additional_headers=cookie) == 403
    assert await handshake_status(url, origin="null", additional_headers=cookie) == 403  # a sandboxed page
    # a token client needs no Origin; a bad token is told so and closed with 4401
    token = (await db(token_pair)(user))["access"]
    assert await handshake_status(url, subprotocols=[SUBPROTOCOL, token]) == "snapshot"
    assert await handshake_status(url, subprotocols=[SUBPROTOCOL, token + "x"]) == "token_invalid"
    async with websockets.connect(url, subprotocols=[SUBPROTOCOL, "not-a-token"]) as ws:
        await ws.recv()
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 4401


async def test_without_origin_or_token_a_client_only_watches(server):
    lot, user = await db(make_lot)(), await db(bidder)()
    browser = Client()
    await db(browser.force_login)(user)
    headers = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}  # a cookie, but no Origin
    async with websockets.connect(ws_url(server, lot.pk), additional_headers=headers) as ws:
        room = Recorder(ws)
        assert (await room.next("snapshot"))["you"]["my_max"] is None
        mark = await room.send(type="bid", max_amount=20_000)
        assert (await room.next("bid_result", mark))["reason"] == "not_authenticated"


# --- sockets don't outlive the sign-in they were opened with (#13.7) -----------------------------------------


async def test_a_socket_opened_before_a_password_change_can_no_longer_bid_or_chat(server):
    lot, user = await db(make_lot)(), await db(bidder)()
    token = (await db(token_pair)(user))["access"]
    room = Recorder(await connect_with_token(server, lot.pk, token))
    await room.next("snapshot")
    mark = await room.send(type="chat", text="before", ref="c1")
    await room.next("chat_sent", mark)

    def change_password():
        user.set_password("a-brand-new-Passphrase-7")
        user.save(update_fields=["password"])

    await db(change_password)()
    mark = await room.send(type="bid", max_amount=20_000, ref="b1")
    assert (await room.next("error", mark))["code"] == "session_ended"
    await room.task
    assert room.ws.close_code == 4401
    assert all(m["type"] != "bid_result" for m in room.messages)
    assert await db(lambda: (lot.__class__.objects.get(pk=lot.pk).bid_count, ChatMessage.objects.count()))() == (0, 1)


async def test_open_sockets_are_closed_as_soon_as_the_password_changes_or_the_user_logs_out(server):
    lot, user = await db(make_lot)(), await db(bidder)()
    app = Recorder(await connect_with_token(server, lot.pk, (await db(token_pair)(user))["access"]))
    browser = Client()
    await db(browser.force_login)(user)
    headers = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    page = Recorder(await websockets.connect(ws_url(server, lot.pk), origin=server, additional_headers=headers))
    for room in (app, page):
        await room.next("snapshot")
    await db(browser.post)("/accounts/logout/")  # that browser's session ends: its socket closes, the app's stays
    assert (await page.next("error"))["code"] == "session_ended"
    await page.task
    assert page.ws.close_code == 4401 and app.ws.close_code is None

    def change_password():
        fresh = type(user).objects.get(pk=user.pk)
        fresh.set_password("a-brand-new-Passphrase-7")
        fresh.save()

    await db(change_password)()  # nothing sent on the app's socket: it is closed all the same
    assert (await app.next("error"))["code"] == "session_ended"
    await app.task
    assert app.ws.close_code == 4401


async def test_a_browser_socket_is_closed_once_its_session_logged_out(server):
    lot, user = await db(make_lot)(), await db(bidder)()
    browser = Client()
    await db(browser.force_login)(user)
    headers = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    room = Recorder(await websockets.connect(ws_url(server, lot.pk), origin=server, additional_headers=headers))
    await room.next("snapshot")
    mark = await room.send(type="chat", text="hello")
    await room.next("chat_sent", mark)
    await db(browser.post)("/accounts/logout/")
    mark = await room.send(type="chat", text="after logout")
    error = await room.next("error", mark)
    assert (
        error["code"] == "session_ended" and error["detail"] == "로그아웃되었습니다. 다시 로그인해 주세요."
    )  # the room shows it
    await room.task
    assert room.ws.close_code == 4401
    assert await db(ChatMessage.objects.count)() == 1


async def test_a_chat_report_names_a_message_of_this_room_only(server):
    here, elsewhere = await db(make_lot)(), await db(make_lot)()
    author, reporter = await db(bidder)(), await db(bidder)()
    other_line = await db(services.post_message)(author, elsewhere.pk, "광고 아님")
    room = Recorder(await connect_with_token(server, here.pk, (await db(token_pair)(reporter))["access"]))
    await room.next("snapshot")
    mark = await room.send(type="report", message_id=other_line.pk, reason="spam")
    assert (await room.next("error", mark))["code"] == "not_found"
    await room.close()
