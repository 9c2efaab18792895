"""Rate limits on bids and chat: the API, the plain bid form and the live room's socket all go through the
same service, so one count serves them all. The call past the limit is refused (429 `rate_limited` with
Retry-After on the API, a message on the page, an `error` message on the socket); another bidder, or
another room for chat, still gets through. Amounts that would crash a parser are refused as input."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from bidcart.auctions.models import Bid, ChatMessage
from tests.auctions.factories import api_for, bidder, make_lot
from tests.auctions.wsclient import join, next_of

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def api_bid(user, lot, amount):
    return api_for(user).post(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": amount}, format="json")


def page_bid(user, lot, amount):
    client = Client()
    client.force_login(user)
    return client.post(f"/auctions/{lot.pk}/bid/", {"max_amount": str(amount)}, follow=True, HTTP_ACCEPT_LANGUAGE="en")


async def test_one_bid_count_serves_the_api_the_form_and_the_socket(settings):
    settings.RATE_LIMIT_BID = "3/min"
    lot = await db(make_lot)(start=10_000)
    user, other = await db(bidder)(), await db(bidder)()
    assert (await db(api_bid)(user, lot, 11_000)).status_code == 201
    assert (await db(page_bid)(user, lot, 12_000)).redirect_chain[-1][0] == f"/auctions/{lot.pk}/"
    room, _ = await join(lot.pk, user)
    await room.send_json_to({"type": "bid", "max_amount": 13_000, "ref": "b1"})
    assert (await next_of(room, "bid_result"))["accepted"] is True

    refused = await db(api_bid)(user, lot, 14_000)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    body = refused.json()
    assert (body["code"], body["accepted"], body["reason"], body["current_price"]) == (
        "rate_limited",
        False,
        "rate_limited",
        10_000,
    )
    page = await db(page_bid)(user, lot, 14_000)
    assert "Too many requests" in page.content.decode()
    await room.send_json_to({"type": "bid", "max_amount": 14_000, "ref": "b2"})
    error = await next_of(room, "error", "bid_result")
    assert (error["type"], error["code"], error["ref"]) == ("error", "rate_limited", "b2") and error["retry_after"] >= 1
    assert await db(Bid.objects.filter(bidder=user).count)() == 3

    assert (await db(api_bid)(other, lot, 20_000)).status_code == 201  # another bidder
    await room.disconnect()


async def test_chat_is_limited_per_user_and_room_over_the_api_and_the_socket(settings):
    settings.RATE_LIMIT_CHAT = "2/min"
    lot, elsewhere = await db(make_lot)(), await db(make_lot)()
    user = await db(bidder)()
    chat = f"/api/v1/lots/{lot.pk}/chat/"
    assert (await db(api_for(user).post)(chat, {"text": "안녕하세요"}, format="json")).status_code == 201
    room, _ = await join(lot.pk, user)
    await room.send_json_to({"type": "chat", "text": "두 번째", "ref": "c1"})
    assert (await next_of(room, "chat_sent", "error"))["type"] == "chat_sent"

    refused = await db(api_for(user).post)(chat, {"text": "세 번째"}, format="json")
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited" and int(refused["Retry-After"]) >= 1
    await room.send_json_to({"type": "chat", "text": "세 번째", "ref": "c2"})
    error = await next_of(room, "chat_sent", "error")
    assert (error["type"], error["code"], error["ref"]) == ("error", "rate_limited", "c2")
    assert await db(ChatMessage.objects.filter(user=user).count)() == 2

    other = await db(bidder)()
    assert (await db(api_for(other).post)(chat, {"text": "저도요"}, format="json")).status_code == 201
    assert (
        await db(api_for(user).post)(f"/api/v1/lots/{elsewhere.pk}/chat/", {"text": "다른 방"}, format="json")
    ).status_code == 201
    await room.disconnect()


async def test_an_amount_of_thousands_of_digits_is_bad_input_everywhere():
    lot = await db(make_lot)(start=10_000)
    user = await db(bidder)()
    huge = "9" * 5000  # int() of it raises ValueError, once a 500 on the bid form
    page = await db(page_bid)(user, lot, huge)
    assert page.status_code == 200 and "whole number" in page.content.decode()
    api = await db(api_bid)(user, lot, huge)
    assert api.status_code == 400 and api.json()["code"] == "invalid_amount"
    room, _ = await join(lot.pk, user)
    await room.send_json_to({"type": "bid", "max_amount": huge})
    assert (await next_of(room, "bid_result"))["reason"] == "invalid_amount"
    await room.disconnect()
    assert await db(Bid.objects.count)() == 0
