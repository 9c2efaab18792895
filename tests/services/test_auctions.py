"""Auction races on PostgreSQL (and the live room over Redis across two server processes).

Real threads, each with its own database connection: many bidders on one lot, closing sweeps racing
each other, bids racing the end time. The checks are about outcomes (no lost bid, a price that never
goes down, one winner, one order), never about timings."""

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import timedelta

import httpx
import pytest
import websockets
from django.db import connection, connections
from django.utils import timezone

from bidcart.auctions import engine, services
from bidcart.auctions.models import Bid, Lot, Win
from bidcart.core.errors import DomainError
from bidcart.orders.models import Order
from tests.auctions.factories import bidder, end_now, make_lot
from tests.livesrv import free_port

BIDDERS = int(os.environ.get("AUCTION_RACE_BIDDERS", 50))
BIDS_EACH = int(os.environ.get("AUCTION_RACE_BIDS", 200))  # the 50 × 200; lower it locally if you like


def connection_slots(reserve: int = 10) -> int:
    """How many more connections this PostgreSQL takes now (others' sessions count too)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity)"
        )
        return max(8, cursor.fetchone()[0] - reserve)


def run_threads(funcs, timeout=300):
    """Start one thread per function, released together; answer the exceptions they raised."""
    barrier = threading.Barrier(len(funcs))
    errors = []

    def wrap(func):
        try:
            barrier.wait()
            func()
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrap, args=(f,)) for f in funcs]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "threads still running: deadlock or a stuck lock?"
    return errors


def assert_log_replays_to_the_lot(lot: Lot):
    bids = list(Bid.objects.filter(lot=lot).order_by("id"))
    state = engine.replay(lot.rules(), [(b.bidder_id, b.max_amount) for b in bids])
    assert state == lot.state()
    prices = [b.price_after for b in bids]
    assert prices == sorted(prices), "the price went down"
    seqs = [b.seq for b in bids]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    return bids


@pytest.mark.django_db(transaction=True)
def test_many_bidders_racing_on_one_lot_lose_no_bid_and_agree_on_one_leader():
    lot = make_lot(start=10_000, runs=timedelta(hours=2))
    people = [bidder(f"racer{i}@example.com") for i in range(BIDDERS)]
    accepted, refused, lock = [], [], threading.Lock()
    gate = threading.BoundedSemaphore(min(BIDDERS, connection_slots()))

    def bidding(user, seed):
        rnd = random.Random(seed)

        def run():
            with gate:
                for _ in range(BIDS_EACH):
                    current = Lot.objects.get(
                        pk=lot.pk
                    )  # a fresh look, as a client would have: stale by the time it lands
                    amount = current.min_next_bid + rnd.choice([0, 0, 100, 500, 1_000, 5_000])
                    try:
                        result = services.place_bid(user, lot.pk, amount)
                    except DomainError as error:
                        with lock:
                            refused.append(error.code)
                    else:
                        with lock:
                            accepted.append((user.pk, amount, result.bid.pk))

        return run

    assert run_threads([bidding(u, i) for i, u in enumerate(people)]) == []
    lot.refresh_from_db()
    assert len(accepted) + len(refused) == BIDDERS * BIDS_EACH
    assert set(refused) <= {"bid_too_low", "max_not_raised"}
    bids = assert_log_replays_to_the_lot(lot)
    assert sorted(b.pk for b in bids) == sorted(pk for _u, _a, pk in accepted), (
        "an accepted bid is missing from the log"
    )
    assert lot.bid_count == len(accepted) > BIDDERS
    top = max(b.max_amount for b in bids)
    first_at_top = min((b for b in bids if b.max_amount == top), key=lambda b: b.pk)
    assert lot.leader_id == first_at_top.bidder_id and lot.leader_max == top  # highest maximum, earliest on ties
    assert Bid.objects.filter(lot=lot, bidder_id=lot.leader_id).values("alias").distinct().count() == 1
    assert lot.seq == len(bids)  # one event per bid, no extension (ends in two hours)


@pytest.mark.django_db(transaction=True)
def test_closing_sweeps_running_at_once_make_exactly_one_order_per_lot():
    lots = []
    for i in range(12):
        lot = make_lot(start=10_000, reserve=15_000 if i % 3 == 0 else None)
        services.place_bid(bidder(), lot.pk, 20_000 if i % 2 else 12_000)
        lots.append(end_now(lot))
    closed = []
    assert run_threads([lambda: closed.append(services.close_ended_lots()) for _ in range(8)]) == []
    assert sum(closed) == 12  # each lot closed by exactly one sweep
    for lot in lots:
        lot.refresh_from_db()
        expected = "unsold" if (lot.reserve_price and lot.leader_max < lot.reserve_price) else "sold"
        assert lot.status == expected
        assert Win.objects.filter(lot=lot).count() == (1 if expected == "sold" else 0)
    assert (
        Order.objects.filter(kind="auction").count()
        == Win.objects.count()
        == sum(1 for lot in lots if lot.status == "sold")
    )


@pytest.mark.django_db(transaction=True)
def test_bids_racing_the_end_are_accepted_before_it_or_refused_never_both():
    lot = make_lot(start=10_000, runs=timedelta(seconds=2), soft_close=0)  # a hard close, to race it exactly
    people = [bidder(f"late{i}@example.com") for i in range(16)]
    outcomes, lock = [], threading.Lock()

    def bidding(user):
        def run():
            # every bidder keeps bidding until the bid transaction itself says the lot ended (the sweep
            # closing the lot must not let a bidder leave before it has been refused at least once)
            while True:
                amount = Lot.objects.get(pk=lot.pk).min_next_bid
                try:
                    result = services.place_bid(user, lot.pk, amount)
                except DomainError as error:
                    with lock:
                        outcomes.append(("refused", error.code, timezone.now()))
                    if error.code == "lot_ended":
                        return
                else:
                    with lock:
                        outcomes.append(("accepted", result.bid.pk, result.bid.created_at))

        return run

    def sweeping():
        while Lot.objects.filter(pk=lot.pk, status__in=["scheduled", "live"]).exists():
            services.close_ended_lots()
            time.sleep(0.01)

    assert run_threads([bidding(u) for u in people] + [sweeping, sweeping, sweeping], timeout=120) == []
    lot.refresh_from_db()
    assert lot.status == "sold"
    bids = assert_log_replays_to_the_lot(lot)
    accepted = {pk for kind, pk, _at in outcomes if kind == "accepted"}
    assert accepted == {b.pk for b in bids}, "a bid was both refused and kept, or accepted and lost"
    assert all(b.created_at < lot.ends_at for b in bids), "a bid was accepted at or after the end"
    assert lot.closed_at >= lot.ends_at
    assert {code for kind, code, _at in outcomes if kind == "refused"} <= {"lot_ended", "bid_too_low", "max_not_raised"}
    assert [code for kind, code, _at in outcomes if kind == "refused"].count("lot_ended") == len(people)
    win = Win.objects.get(lot=lot)
    assert (win.user_id, win.price, win.order.total) == (lot.leader_id, lot.current_price, lot.current_price)
    assert Order.objects.filter(kind="auction").count() == 1


# --- the live room across two server processes over Redis -----------------------------------------------


def _server(env, port):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bidcart.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_up(url, proc):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code in (200, 503):
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not start")


VIEWERS_ON_ONE_PROCESS = 250  # a busy room, all on one process


@pytest.mark.django_db(transaction=True)
def test_a_bid_through_one_process_reaches_every_viewer_on_another(subprocess_env):
    from bidcart.accounts.jwt import token_pair

    lot = make_lot(start=10_000, runs=timedelta(hours=1))
    user = bidder("crossproc@example.com")
    token = token_pair(user)["access"]  # same SECRET_KEY in the server processes
    env = {**subprocess_env, "PGSIM_MOUNT": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    ports = [free_port(), free_port()]
    procs = [_server(env, p) for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for url, proc in zip(urls, procs):
            _wait_up(url, proc)

        async def watch(ws_url, joined, bid_sent):
            async with websockets.connect(ws_url, origin=urls[0], open_timeout=60) as viewer:
                snapshot = json.loads(await asyncio.wait_for(viewer.recv(), 60))
                assert snapshot["type"] == "snapshot"
                joined.append(snapshot["seq"])
                await bid_sent.wait()
                while True:
                    event = json.loads(await asyncio.wait_for(viewer.recv(), 30))
                    if event["type"] == "bid":
                        return snapshot, event

        async def scenario():
            ws_url = urls[0].replace("http", "ws") + f"/ws/auctions/{lot.pk}/"
            joined, bid_sent = [], asyncio.Event()
            viewers = [asyncio.create_task(watch(ws_url, joined, bid_sent)) for _ in range(VIEWERS_ON_ONE_PROCESS)]
            while len(joined) < VIEWERS_ON_ONE_PROCESS:
                assert not any(v.done() and v.exception() for v in viewers), [
                    repr(v.exception()) for v in viewers if v.done() and v.exception()
                ][:1]
                await asyncio.sleep(0.1)
            async with httpx.AsyncClient(base_url=urls[1], timeout=10) as api:
                response = await api.post(
                    f"/api/v1/lots/{lot.pk}/bids/",
                    json={"max_amount": 25_000},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 201, response.text
            bid_sent.set()
            for snapshot, event in await asyncio.gather(*viewers):  # every one of them, none dropped
                assert event["seq"] == snapshot["seq"] + 1
                assert (event["lot"]["current_price"], event["lot"]["leader"], event["bid"]["bidder"]) == (
                    10_000,
                    "#1",
                    "#1",
                )

        asyncio.run(scenario())
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True)
def test_a_bid_holds_the_lots_lock_for_one_write_and_the_commit():
    """On PostgreSQL the hot lot's lock is held for as little as the rules allow: after `SELECT … FOR UPDATE`,
    one statement writes the bid and the lot, then COMMIT — whether the bid is accepted, and nothing at all
    when it is refused. The bidder is read once, before the lock; the announcement happens after commit."""
    from django.test.utils import CaptureQueriesContext

    lot = make_lot(start=10_000)
    a, b = bidder(), bidder()
    services.place_bid(a, lot.pk, 20_000)
    services.place_bid(b, lot.pk, 15_000)  # both have their alias now

    def under_the_lock(amount, user):
        with CaptureQueriesContext(connection) as queries:
            try:
                services.place_bid(user, lot.pk, amount)
            except DomainError:
                pass
        statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
        locked = next(i for i, q in enumerate(queries.captured_queries) if "FOR UPDATE" in q["sql"])
        ended = next(i for i, s in enumerate(statements) if s in ("COMMIT", "ROLLBACK"))
        return statements[:locked], statements[
            locked + 1 : ended + 1
        ]  # (the announcement after it: not under the lock)

    before, held = under_the_lock(30_000, b)  # b takes the lead from a: a bid row, the lot, a notice later
    assert before == ["SELECT", "BEGIN"] and held == ["WITH", "COMMIT"]
    before, held = under_the_lock(100, a)  # too low: refused under the lock, nothing written
    assert before == ["SELECT", "BEGIN"] and held == ["ROLLBACK"]
    lot.refresh_from_db()
    assert (lot.leader_id, lot.bid_count, lot.seq) == (b.pk, 3, 3)
