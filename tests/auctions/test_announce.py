"""A bid's events and the outbid notice go out after commit, off the bid's request (a server's announcer
thread), and are never lost: a bid its process committed but never announced (the process died, the
announcer failed) is announced by the sweep."""

import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from bidcart.auctions import announce, services, tasks
from bidcart.auctions.models import Bid, Notice
from tests.auctions.factories import bidder, make_lot
from tests.auctions.wsclient import join, next_of

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def wait_until(check, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not announced in time"
        time.sleep(0.05)


def test_a_server_announces_bids_from_its_announcer_thread_and_marks_them_announced(settings):
    settings.AUCTION_ANNOUNCE_IN_BACKGROUND = True
    lot = make_lot(start=10_000)
    a, b = bidder(), bidder()
    services.place_bid(a, lot.pk, 20_000)
    services.place_bid(b, lot.pk, 30_000)  # a is outbid

    wait_until(lambda: not Bid.objects.filter(lot=lot, announce_pending=True).exists())
    notice = Notice.objects.get(user=a, lot=lot, kind=Notice.Kind.OUTBID)
    assert notice.data == {"price": 20_500, "currency": "KRW"}
    assert not Notice.objects.filter(user=b, kind=Notice.Kind.OUTBID).exists()


async def test_a_bid_committed_but_never_announced_is_announced_by_the_sweep(monkeypatch):
    lot = await db(make_lot)(start=10_000)
    a, b = await db(bidder)(), await db(bidder)()
    await db(services.place_bid)(a, lot.pk, 20_000)
    room, snap = await join(lot.pk, a)

    # the process dies between the commit and the announcement: nothing handed over is ever sent
    monkeypatch.setattr(announce, "submit", lambda announcement: None)
    await db(services.place_bid)(b, lot.pk, 30_000)
    assert all(m["type"] == "viewers" for m in await room.pending_messages(0.3))  # no bid event
    assert not await db(Notice.objects.filter(user=a, kind=Notice.Kind.OUTBID).exists)()

    # once the grace has passed, the sweep announces it: the room's event, a's outbid event and notice
    await db(Bid.objects.filter(lot=lot, bidder=b).update)(
        created_at=timezone.now() - announce.GRACE - timedelta(seconds=1)
    )
    await db(tasks.announce_pending_bids)()
    event = await next_of(room, "bid")
    assert (event["seq"], event["bid"]["bidder"], event["bid"]["price"]) == (snap["seq"] + 1, "#2", 20_500)
    assert (await next_of(room, "outbid"))["lot"]["leader"] == "#2"
    notice = await db(Notice.objects.get)(user=a, lot=lot, kind=Notice.Kind.OUTBID)
    assert notice.data == {"price": 20_500, "currency": "KRW"}
    assert not await db(Bid.objects.filter(announce_pending=True).exists)()

    await db(tasks.announce_pending_bids)()  # announced once: nothing left for a second sweep
    assert await db(Notice.objects.filter(user=a, kind=Notice.Kind.OUTBID).count)() == 1
    await room.disconnect()


def test_a_bid_still_within_its_grace_is_left_to_its_own_process(monkeypatch):
    monkeypatch.setattr(announce, "submit", lambda announcement: None)
    lot = make_lot(start=10_000)
    services.place_bid(bidder(), lot.pk, 20_000)
    assert announce.replay_pending() == 0
    assert Bid.objects.get(lot=lot).announce_pending
