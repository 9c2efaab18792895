"""The live room over WebSockets (a communicator on the consumer, in-memory layer): snapshot on connect,
events in sequence, outbid only to the outbid bidder, bids through the socket, chat and its limits, and
broadcasts that can never fail a bid."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from django.contrib.auth.models import AnonymousUser

from bidcart.auctions import consumers, live, services
from bidcart.auctions.models import ChatMessage, ChatMute, ChatReport, Lot
from bidcart.auctions.routing import websocket_urlpatterns
from bidcart.core.domain import Conflict, Forbidden, NotAuthenticated
from tests.auctions.factories import bidder, make_lot, make_user, numbers_in
from tests.auctions.wsclient import WebsocketCommunicator, join, next_of

pytestmark = pytest.mark.django_db(transaction=True)

app = URLRouter(websocket_urlpatterns)


@pytest.fixture(autouse=True)
def _quick_viewer_counts(monkeypatch):
    monkeypatch.setattr(consumers, "VIEWERS_EVERY", 0.2)


async def collect(comm, *types, timeout=3):
    """Messages until one of each of `types` has come (any order): {type: message}."""
    seen = {}
    while set(types) - set(seen):
        message = await comm.receive_json_from(timeout=timeout)
        if message["type"] in types:
            assert message["type"] not in seen, message
            seen[message["type"]] = message
    return seen


async def nothing_of(comm, kind, wait=0.5):
    """No message of type `kind` arrives within `wait` seconds."""
    return all(m["type"] != kind for m in await comm.pending_messages(wait))


db = database_sync_to_async


async def test_snapshot_on_connect_with_my_own_maximum_only():
    lot = await db(make_lot)(start=10_000)
    a, b = await db(bidder)(), await db(bidder)()
    await db(services.place_bid)(a, lot.pk, 30_000)
    await db(services.place_bid)(b, lot.pk, 20_000)
    comm, snap = await join(lot.pk, b)
    assert snap["seq"] == 2
    assert (
        snap["lot"]["current_price"],
        snap["lot"]["leader"],
        snap["lot"]["bid_count"],
        snap["lot"]["min_next_bid"],
    ) == (20_500, "#1", 2, 21_000)
    assert snap["lot"]["reserve_met"] is True and snap["server_time"] and snap["lot"]["ends_at"]
    assert [row["price"] for row in snap["history"]] == [20_500, 10_000]
    assert snap["you"] == {"my_max": 20_000, "leading": False, "alias": "#2", "watching": False, "is_seller": False}
    assert 30_000 not in numbers_in(snap)  # a's maximum, anywhere in the snapshot
    await comm.disconnect()
    anon, snap = await join(lot.pk)
    assert snap["you"]["my_max"] is None
    await anon.disconnect()


async def test_events_come_in_sequence_and_outbid_goes_only_to_the_outbid_bidder():
    lot = await db(make_lot)(start=10_000, runs=timedelta(seconds=90), soft_close=120)
    a, b, watcher = await db(bidder)(), await db(bidder)(), await db(bidder)()
    room_a, snap = await join(lot.pk, a)
    room_b, _ = await join(lot.pk, b)
    room_w, _ = await join(lot.pk, watcher)
    seq = snap["seq"]

    await room_a.send_json_to({"type": "bid", "max_amount": 15_000, "ref": "x1"})
    result = await next_of(room_a, "bid_result")
    assert (result["accepted"], result["leading"], result["my_max"], result["ref"]) == (True, True, 15_000, "x1")
    for room in (room_a, room_b, room_w):
        bid = await next_of(room, "bid")
        assert bid["seq"] == seq + 1 and bid["bid"]["bidder"] == "#1" and bid["lot"]["current_price"] == 10_000
        extended = await next_of(room, "extended")  # 90 s left, 120 s window
        assert extended["seq"] == seq + 2 and extended["lot"]["extended"] is True

    await room_b.send_json_to({"type": "bid", "max_amount": 20_000})
    assert (await next_of(room_b, "bid_result"))["leading"] is True
    got = await collect(room_a, "bid", "extended", "outbid")
    assert got["outbid"]["lot"]["current_price"] == 15_500 and got["outbid"]["lot"]["leader"] == "#2"
    assert (got["bid"]["seq"], got["extended"]["seq"]) == (seq + 3, seq + 4)
    for room in (room_b, room_w):
        assert (await next_of(room, "bid"))["seq"] == seq + 3
        assert (await next_of(room, "extended"))["seq"] == seq + 4
    assert await nothing_of(room_w, "outbid")
    assert await nothing_of(room_b, "outbid")
    for room in (room_a, room_b, room_w):
        await room.disconnect()


async def test_refused_bids_over_the_socket_carry_the_reason_and_the_state():
    lot = await db(make_lot)(start=10_000)
    room, _ = await join(lot.pk, await db(bidder)())
    await room.send_json_to({"type": "bid", "max_amount": 500})
    result = await next_of(room, "bid_result")
    assert (result["accepted"], result["reason"], result["lot"]["min_next_bid"]) == (False, "bid_too_low", 10_000)
    await room.send_json_to({"type": "bid", "max_amount": "many"})
    assert (await next_of(room, "bid_result"))["reason"] == "invalid_amount"
    await room.disconnect()
    anon, _ = await join(lot.pk)
    await anon.send_json_to({"type": "bid", "max_amount": 20_000})
    assert (await next_of(anon, "bid_result"))["reason"] == "not_authenticated"
    await anon.disconnect()


async def test_a_client_can_ask_for_a_fresh_snapshot_and_ping_the_clock():
    lot = await db(make_lot)()
    room, first = await join(lot.pk)
    await db(services.place_bid)(await db(bidder)(), lot.pk, 20_000)
    await room.send_json_to({"type": "snapshot"})
    fresh = await next_of(room, "snapshot")
    assert fresh["seq"] == first["seq"] + 1 and fresh["lot"]["bid_count"] == 1
    await room.send_json_to({"type": "ping", "t": 123})
    pong = await next_of(room, "pong")
    assert pong["t"] == 123 and pong["server_time"]
    await room.send_json_to({"type": "dance"})
    assert (await next_of(room, "error"))["code"] == "unknown_message"
    await room.disconnect()


async def test_ended_event_when_the_sweep_closes_the_lot():
    lot = await db(make_lot)(start=10_000)
    room, snap = await join(lot.pk)
    await db(services.place_bid)(await db(bidder)(), lot.pk, 20_000)
    await db(Lot.objects.filter(pk=lot.pk).update)(ends_at=lot.starts_at + timedelta(microseconds=5))
    await db(services.close_ended_lots)()
    ended = await next_of(room, "ended")
    assert ended["lot"]["status"] == "sold" and ended["seq"] == snap["seq"] + 2
    await room.disconnect()


async def test_unknown_lot_is_refused():
    comm = WebsocketCommunicator(app, "/ws/auctions/999999/")
    comm.scope["user"] = AnonymousUser()
    connected, code = await comm.connect()
    assert not connected and code == 4404


async def test_viewer_count():
    lot = await db(make_lot)()
    first, _ = await join(lot.pk)
    second, snap = await join(lot.pk)
    assert snap["viewers"] in (1, 2)
    counts = []
    while 2 not in counts:
        counts.append((await next_of(first, "viewers"))["count"])
    await second.disconnect()
    while counts[-1] != 1:
        counts.append((await next_of(first, "viewers"))["count"])
    await first.disconnect()


# --- chat -------------------------------------------------------------------------------------------


async def test_chat_with_seller_marked_and_limits(settings):
    settings.RATE_LIMIT_CHAT = "3/10s"
    lot = await db(make_lot)()
    user = await db(bidder)()
    room, _ = await join(lot.pk, user)
    seller_room, _ = await join(lot.pk, lot.seller)

    await room.send_json_to({"type": "chat", "text": "  얼마까지   가나요?  ", "ref": "c1"})
    assert (await next_of(room, "chat_sent"))["ref"] == "c1"
    message = (await next_of(seller_room, "chat"))["message"]
    assert (message["author"], message["role"], message["text"]) == ("#1", "", "얼마까지 가나요?")
    await seller_room.send_json_to({"type": "chat", "text": "직거래는 안 됩니다"})
    seller_line = (await next_of(room, "chat"))["message"]
    while seller_line["text"] != "직거래는 안 됩니다":  # our own line came back first
        seller_line = (await next_of(room, "chat"))["message"]
    assert (seller_line["role"], seller_line["author"]) == ("seller", None)

    await room.send_json_to({"type": "chat", "text": "x" * 301, "ref": "long"})
    error = await next_of(room, "error")
    assert (error["code"], error["ref"]) == ("message_too_long", "long")
    await room.send_json_to({"type": "chat", "text": "two"})
    await next_of(room, "chat_sent")
    await room.send_json_to({"type": "chat", "text": "three"})
    await next_of(room, "chat_sent")
    await room.send_json_to({"type": "chat", "text": "four"})
    assert (await next_of(room, "error"))["code"] == "rate_limited"
    await room.disconnect()
    await seller_room.disconnect()

    anon, _ = await join(lot.pk)
    await anon.send_json_to({"type": "chat", "text": "hi"})
    assert (await next_of(anon, "error"))["code"] == "not_authenticated"
    await anon.disconnect()


async def test_reporting_hiding_and_muting():
    lot = await db(make_lot)()
    spammer, reporter = await db(bidder)(), await db(bidder)()
    staff = await db(make_user)(staff=True)
    room, _ = await join(lot.pk, reporter)
    message = await db(services.post_message)(spammer, lot.pk, "싸게 팝니다 www.spam.example")
    chat = await next_of(room, "chat")
    await room.send_json_to({"type": "report", "message_id": chat["message"]["id"], "reason": "advertisement"})
    assert (await next_of(room, "reported"))["message_id"] == message.pk
    await room.send_json_to({"type": "report", "message_id": chat["message"]["id"], "reason": "boring"})
    assert (await next_of(room, "error"))["code"] == "reason_invalid"
    report = await db(ChatReport.objects.get)()
    assert (report.reason, report.reporter_id) == ("advertisement", reporter.pk)

    await db(services.hide_message)(staff, message.pk)
    hidden = await next_of(room, "chat_hidden")
    assert hidden["message_id"] == message.pk and hidden["seq"] == chat["seq"] + 1
    await room.send_json_to({"type": "snapshot"})
    assert (await next_of(room, "snapshot"))["chat"] == []

    await db(services.mute_user)(staff, lot.pk, spammer.pk)
    spam_room, _ = await join(lot.pk, spammer)
    await spam_room.send_json_to({"type": "chat", "text": "again"})
    assert (await next_of(spam_room, "error"))["code"] == "chat_muted"
    assert await db(ChatMute.objects.filter(lot=lot, user=spammer).exists)()
    await spam_room.disconnect()
    await room.disconnect()


async def test_only_a_logged_in_user_reports_a_chat_line_whichever_way_it_comes():
    lot = await db(make_lot)()
    message = await db(services.post_message)(await db(bidder)(), lot.pk, "hello")
    anon, _ = await join(lot.pk)
    await anon.send_json_to({"type": "report", "message_id": message.pk, "reason": "spam", "ref": "r9"})
    error = await next_of(anon, "error")
    assert (error["code"], error["ref"]) == ("not_authenticated", "r9")
    await anon.disconnect()
    with pytest.raises(NotAuthenticated):  # the rule is the service's, not the socket's
        await db(services.report_message)(AnonymousUser(), lot.pk, message.pk, "spam")
    assert not await db(ChatReport.objects.exists)()


def test_only_a_logged_in_user_bids_whichever_way_it_comes():
    lot = make_lot()
    with pytest.raises(NotAuthenticated) as error:
        services.place_bid(AnonymousUser(), lot.pk, 20_000)
    assert error.value.code == "not_authenticated"
    assert Lot.objects.get(pk=lot.pk).bid_count == 0


def test_only_staff_moderate():
    lot = make_lot()
    message = services.post_message(bidder(), lot.pk, "hello")
    with pytest.raises(Forbidden) as error:
        services.hide_message(bidder(), message.pk)
    assert error.value.code == "not_staff"
    assert ChatMessage.objects.get(pk=message.pk).hidden_at is None


def test_chat_closes_with_the_auction():
    lot = make_lot()
    services.cancel_lot(make_user(staff=True), lot.pk, "fake")
    with pytest.raises(Conflict) as error:
        services.post_message(bidder(), lot.pk, "hello?")
    assert error.value.code == "chat_closed"


# --- broadcasts never fail a bid ------------------------------------------------------------------------


def test_a_broken_channel_layer_never_fails_a_bid(monkeypatch, caplog):
    class Broken:
        async def group_send(self, group, message):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(live, "get_channel_layer", lambda: Broken())
    stale = asyncio.new_event_loop()
    stale.close()
    live.register_loop(stale)  # the loop of a server that is gone: ignored
    lot = make_lot(start=10_000)
    a, b = bidder(), bidder()
    services.place_bid(a, lot.pk, 20_000)
    result = services.place_bid(b, lot.pk, 30_000)  # outbids a: three broadcasts, all failing
    assert result.leading and Lot.objects.get(pk=lot.pk).bid_count == 2
    assert "redis is down" in caplog.text


def test_a_slow_channel_layer_is_cut_off(monkeypatch, settings, caplog):
    settings.AUCTION_BROADCAST_TIMEOUT = 0.2

    class Slow:
        async def group_send(self, group, message):
            await asyncio.sleep(30)

    monkeypatch.setattr(live, "get_channel_layer", lambda: Slow())
    lot = make_lot()
    services.place_bid(bidder(), lot.pk, 20_000)  # returns: the broadcast gave up after 0.2 s
    assert Lot.objects.get(pk=lot.pk).bid_count == 1
    assert "failed" in caplog.text


async def test_a_bid_over_the_socket_is_refused_with_the_code_the_api_answers(settings):
    """The same service, the same checks, the same answer builder: each refusal carries the same reason code
    over the socket as over `POST /api/v1/lots/<id>/bids/` (a rate limit included, there an `error` message)."""
    from rest_framework.test import APIClient

    settings.RATE_LIMIT_BID = "3/min"
    lot = await db(make_lot)(start=10_000)
    user = await db(bidder)()
    api = APIClient()
    api.force_authenticate(user)
    room, _ = await join(lot.pk, user)
    # each kind of bid twice, once per way in: the limit's three calls run out on the fourth
    for body, expected in (({"max_amount": 500}, "bid_too_low"), ({"max_amount": "many"}, "invalid_amount")):
        rest = await db(api.post)(f"/api/v1/lots/{lot.pk}/bids/", body, format="json")
        await room.send_json_to({"type": "bid", **body, "ref": expected})
        answer = await next_of(room, "bid_result", "error")
        assert (answer["type"], answer["reason"], answer["ref"]) == ("bid_result", expected, expected)
        assert rest.json()["code"] == answer["reason"]
    rest = await db(api.post)(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": 20_000}, format="json")
    await room.send_json_to({"type": "bid", "max_amount": 20_000, "ref": "r"})
    answer = await next_of(room, "bid_result", "error")
    assert (rest.status_code, rest.json()["code"]) == (429, "rate_limited")
    assert (answer["type"], answer["code"], answer["ref"]) == ("error", "rate_limited", "r")
    await room.disconnect()
