"""Faults at scale, on the production topology (scripts/services-up: two web servers, a worker, beat) with a
PostgreSQL cluster and a Redis server of its own that these tests may kill; the machine's shared servers are
never touched. Real processes, real clients (httpx, websockets), no mocks:

- a web server is SIGKILLed in a bid storm: its clients reconnect to the other one and no accepted bid is lost;
- Redis is down for 10 s: the site answers, the live room degrades and comes back by itself;
- the worker is SIGKILLed in the middle of the closing sweep: the next sweep finishes the job, exactly once;
- PostgreSQL stops and starts again: requests fail fast and cleanly (503), then succeed, without a restart.

One stack for the module; each test starts from a healthy one (the `stack` fixture brings back whatever the
previous test left dead)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import signal
import time

import httpx
import psycopg
import pytest
import websockets

from bidcart.auctions import engine
from tests.chromium import CHROMIUM_ARGS, chromium_path
from tests.services.stack import (
    SERVICES,
    PrivatePostgres,
    PrivateRedis,
    alive,
    scrape,
    start_stack,
    wait_until,
)

QUICK = 5.0  # seconds: the most a request may take while a dependency is down (no hanging on a dead server)


@pytest.fixture(scope="module")
def private_postgres():
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory, private_postgres, private_redis):
    # Still two web servers behind the (implied) balancer, but one process each: this machine has two CPUs.
    stack = start_stack(
        tmp_path_factory.mktemp("faults") / "stack", private_postgres.url("bidcart"), private_redis.url, WEB_WORKERS="1"
    )
    try:
        assert stack.up.returncode == 0, stack.up.stdout[-3000:] + stack.up.stderr[-3000:]
        yield stack
    finally:
        stack.down()


def ready(web: str) -> bool:
    return httpx.get(f"{web}/readyz", timeout=QUICK).status_code == 200


@pytest.fixture
def stack(fault_stack, private_postgres, private_redis):
    """The module's stack, healthy: Redis and PostgreSQL running, every service alive, both webs ready."""
    if not private_redis.running:
        private_redis.start()
    if not private_postgres.running:
        private_postgres.start()
    dead = [name for name in SERVICES if not alive(fault_stack.pid(name))]
    if dead:
        restarted = fault_stack.restart(*dead)
        assert restarted.returncode == 0, restarted.stderr[-3000:]
    wait_until(lambda: ready(fault_stack.web1) and ready(fault_stack.web2), 60, "the stack did not become ready")
    return fault_stack


def db_connect(stack):
    return psycopg.connect(stack.env["STACK_DATABASE_URL"], autocommit=True)


def ws_url(web: str, lot: int) -> str:
    return web.replace("http", "ws", 1) + f"/ws/auctions/{lot}/"


async def room(web: str, lot: int, session: str | None = None):
    """A live-room connection and the snapshot the server sends first."""
    headers = {"Cookie": f"sessionid={session}"} if session else {}
    ws = await websockets.connect(
        ws_url(web, lot), origin=web, additional_headers=headers, open_timeout=10, max_queue=None
    )
    snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert snapshot["type"] == "snapshot", snapshot
    return ws, snapshot


async def reply_to(ws, ref: str, timeout: float = 10) -> dict:
    """Read until the reply to our message `ref` (room events in between are skipped)."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message.get("ref") == ref:
            return message


# --- 1. a web server dies in a bid storm ---------------------------------------------------------------------

STORM_CLIENTS = 20
STEP = 1_000_000  # between two maximums: ten times the largest KRW increment, so nearly every bid is accepted


class RoomBidder:
    """One bidder in the live room, doing what the page's script does (auctions/js/socket.js): when the
    connection drops it connects again — to the other web server, where nginx's upstream would send it — and
    carries on from the snapshot the server sends on every connect. One bid in flight at a time."""

    def __init__(self, person: dict, servers: list[str], home: int):
        self.person, self.servers, self.server, self.home = person, servers, home, home
        self.sent: set[int] = set()
        self.accepted: list[tuple[int, int]] = []  # (amount, server) the server said it accepted
        self.seen: list[tuple[int, int]] = []  # (seq, price) of every snapshot and bid event, as received
        self.connections: list[int] = []  # the server of each connection
        self.refused: list[str] = []

    def accepted_on(self, server: int) -> int:
        return sum(1 for _, where in self.accepted if where == server)

    def observe(self, message: dict) -> None:
        if message.get("type") in ("snapshot", "bid"):
            self.seen.append((message["seq"], message["lot"]["current_price"]))

    async def run(self, lot: int, amounts: itertools.count, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                ws, snapshot = await room(self.servers[self.server], lot, self.person["session"])
                async with ws:
                    self.connections.append(self.server)
                    self.observe(snapshot)
                    while not stop.is_set():
                        amount = 10_000 + next(amounts) * STEP  # a bidding war: ever higher maximums
                        ref = f"{self.person['id']}-{amount}"
                        self.sent.add(amount)
                        await ws.send(json.dumps({"type": "bid", "max_amount": amount, "ref": ref}))
                        while True:
                            message = json.loads(await asyncio.wait_for(ws.recv(), 15))
                            self.observe(message)
                            if message.get("ref") == ref:
                                break
                        assert message["type"] == "bid_result", message
                        if message["accepted"]:
                            self.accepted.append((amount, self.server))
                        else:
                            self.refused.append(message["reason"])
            except (websockets.ConnectionClosed, websockets.InvalidStatus, OSError, TimeoutError):
                self.server = 1 - self.server
                await asyncio.sleep(0.1)


async def _storm(stack, lot: int, people: list[dict], viewer: dict) -> list[RoomBidder]:
    """The storm, and the real page in Chromium on web 1: it has a bid in flight when web 1 freezes and dies,
    and comes back when web 1 is restarted (the page's script reconnects to the address it came from)."""
    from playwright.async_api import async_playwright, expect

    amounts, stop = itertools.count(1), asyncio.Event()
    bidders = [RoomBidder(person, [stack.web1, stack.web2], home=i % 2) for i, person in enumerate(people)]
    on_web1 = [b for b in bidders if b.home == 0]
    tasks = []

    async def until(check, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while not check():
            for task in tasks:
                if task.done():
                    task.result()  # a client failed: its error, not a timeout
            assert time.monotonic() < deadline, what
            await asyncio.sleep(0.05)

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        context = await chromium.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
        await context.add_cookies([{"name": "sessionid", "value": viewer["session"], "url": stack.web1}])
        page = await context.new_page()
        await page.goto(f"{stack.web1}/auctions/{lot}/")
        online = re.compile(r"\bonline\b")
        await expect(page.get_by_test_id("connection")).to_have_class(online)

        tasks.extend(asyncio.create_task(b.run(lot, amounts, stop)) for b in bidders)
        try:
            await until(lambda: all(b.accepted_on(0) >= 3 for b in on_web1), 60, "the storm did not get going on web 1")
            # Web 1 freezes with the page's bid on the wire, unanswered; then it dies.
            os.killpg(stack.pid("web1"), signal.SIGSTOP)
            await page.get_by_test_id("bid-amount").fill(str(10**13))  # above anything the storm reaches
            await page.get_by_test_id("bid-submit").click()
            # So far above the price, the page asks first (a typo guard, room.js): the bidder says yes.
            await page.get_by_test_id("bid-confirm-yes").click()
            await expect(page.get_by_test_id("bid-submit")).to_be_disabled()
            await asyncio.to_thread(stack.kill, "web1")
            await until(
                lambda: all(b.accepted_on(1) >= 3 for b in on_web1),
                60,
                "web 1's clients did not carry on bidding on web 2",
            )
            # The page knows it is offline, and its bid button works again (the bid's fate comes with the snapshot).
            await expect(page.get_by_test_id("connection")).not_to_have_class(online)
            await expect(page.get_by_test_id("bid-submit")).to_be_enabled()
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 30)

        restarted = await asyncio.to_thread(stack.restart, "web1")
        assert restarted.returncode == 0, restarted.stderr[-3000:]
        with db_connect(stack) as conn:
            count, price = conn.execute(
                "SELECT bid_count, current_price FROM auctions_lot WHERE id = %s", [lot]
            ).fetchone()
        # The page reconnects by itself (with its backoff) and shows the lot as the database has it.
        await expect(page.get_by_test_id("connection")).to_have_class(online, timeout=30_000)
        await expect(page.get_by_test_id("bid-count")).to_have_text(str(count))
        await expect(page.get_by_test_id("price")).to_have_attribute("data-amount", str(price))
        await expect(page.get_by_test_id("bid-submit")).to_be_enabled()
        await chromium.close()
    return bidders


def test_a_web_server_killed_in_a_bid_storm_loses_no_accepted_bid(stack):
    data = stack.django("tests.services.faultdata:live_lot", "storm", STORM_CLIENTS + 1)
    lot, (*people, viewer) = data["lot"], data["bidders"]
    bidders = asyncio.run(_storm(stack, lot, people, viewer))
    # Both web servers are ready right after the storm (a load balancer puts them back in rotation).
    for web in (stack.web1, stack.web2):
        readyz = httpx.get(f"{web}/readyz", timeout=QUICK)
        assert readyz.status_code == 200, readyz.text

    for b in bidders:
        if b.home == 0:  # dropped by the dead server, then on the other one
            assert 1 in b.connections, b.connections
    with db_connect(stack) as conn:
        start_price, reserve_price, table, *stored = conn.execute(
            "SELECT start_price, reserve_price, increment_table, leader_id, leader_max, second_max, current_price,"
            " bid_count FROM auctions_lot WHERE id = %s",
            [lot],
        ).fetchone()
        log = conn.execute(
            "SELECT seq, bidder_id, max_amount, price_after FROM auctions_bid WHERE lot_id = %s ORDER BY seq", [lot]
        ).fetchall()

    # Every bid a client was told was accepted is in the bid log; the log holds nothing nobody sent.
    logged = {(bidder, amount) for _, bidder, amount, _ in log}
    told = {(b.person["id"], amount) for b in bidders for amount, _ in b.accepted}
    sent = {(b.person["id"], amount) for b in bidders for amount in b.sent}
    assert len(told) >= 6 * (STORM_CLIENTS // 2)
    assert {reason for b in bidders for reason in b.refused} <= {"bid_too_low", "max_not_raised"}  # only the race
    assert told - logged == set()
    assert logged <= sent
    # The log replays to the lot's state; numbered without gaps; the price never went down.
    rules = engine.Rules(start_price, reserve_price, engine.validate_table(table))
    replayed = engine.replay(rules, [(bidder, amount) for _, bidder, amount, _ in log])
    assert [replayed.leader, replayed.leader_max, replayed.second_max, replayed.price, replayed.bid_count] == stored
    assert [seq for seq, *_ in log] == list(range(1, len(log) + 1))
    price_at = {0: start_price} | {seq: price for seq, _, _, price in log}  # the room shows the start price first
    assert [price_at[seq] for seq in sorted(price_at)] == sorted(price_at.values())
    # What each client was shown matches the log, and in the room's order (seq) its price never went down.
    for b in bidders:
        assert b.seen and all(price == price_at[seq] for seq, price in b.seen), b.seen
        in_order = [price for _, price in sorted(set(b.seen))]
        assert in_order == sorted(in_order)


# --- 2. Redis down for 10 s ----------------------------------------------------------------------------------


def test_redis_down_10_s_the_site_answers_and_the_live_room_recovers(stack, private_redis):
    data = stack.django("tests.services.faultdata:live_lot", "redis", 2)
    lot, (watcher, bidder) = data["lot"], data["bidders"]
    bearer = {"Authorization": f"Bearer {bidder['token']}"}
    product = httpx.get(f"{stack.web1}/api/v1/products/", timeout=10).json()["results"][0]["slug"]
    pages = [
        f"{stack.web1}/",
        f"{stack.web2}/products/{product}/",
        f"{stack.web1}/auctions/{lot}/",
        f"{stack.web2}/api/v1/lots/{lot}/",
        f"{stack.web1}/healthz",
    ]

    async def outage():
        ws, _ = await room(stack.web1, lot, watcher["session"])
        private_redis.kill()
        down_at = time.monotonic()
        # The open room's socket drops at once (the page shows it offline and keeps reconnecting)…
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), QUICK)
        with httpx.Client(timeout=QUICK) as client:
            # …and the site answers, for as long as Redis is away.
            while time.monotonic() - down_at < 10:
                for url in pages:
                    started = time.monotonic()
                    response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code, response.text[:300])
                    assert time.monotonic() - started < QUICK
                health = client.get(f"{stack.web1}/healthz").json()
                assert health["status"] == "degraded" and not health["checks"]["cache"]["ok"]
                for web in (stack.web1, stack.web2):
                    readyz = client.get(f"{web}/readyz")
                    assert readyz.status_code == 503 and "redis" in readyz.json()["failed"]
                await asyncio.sleep(1)
            # A bid while Redis is down is taken: it is in PostgreSQL; only its broadcast is lost.
            bid = client.post(f"{stack.web2}/api/v1/lots/{lot}/bids/", json={"max_amount": 5_000}, headers=bearer)
            assert bid.status_code == 201, bid.text
            assert bid.json()["bid_count"] == 1

    asyncio.run(outage())
    private_redis.start()
    wait_until(lambda: ready(stack.web1) and ready(stack.web2), 20, "/readyz did not recover after Redis came back")

    async def recovered():
        # Every room connection is taken (each web process's pooled Redis connections were dead), and the
        # snapshot has the bid made during the outage…
        sockets = [await room(web, lot, watcher["session"]) for web in (stack.web1, stack.web2) for _ in range(4)]
        assert all(snapshot["lot"]["bid_count"] == 1 for _, snapshot in sockets)
        # …and a bid on web 2 reaches a room client of web 1 (across processes, over Redis) within seconds.
        bid = await asyncio.to_thread(
            httpx.post, f"{stack.web2}/api/v1/lots/{lot}/bids/", json={"max_amount": 9_000}, headers=bearer, timeout=10
        )
        assert bid.status_code == 201, bid.text
        ws = sockets[0][0]
        while (event := json.loads(await asyncio.wait_for(ws.recv(), QUICK)))["type"] != "bid":
            pass
        assert (event["seq"], event["lot"]["bid_count"]) == (2, 2)
        for socket, _ in sockets:
            await socket.close()

    asyncio.run(recovered())
    # Celery's worker and beat reconnect to the broker by themselves: the sweeps tick again.
    wait_until(
        lambda: httpx.get(f"{stack.web1}/healthz", timeout=QUICK).json()["checks"]["jobs"]["ok"],
        30,
        "the job loop did not tick again after Redis came back",
    )


# --- 3. the worker dies in the middle of the closing sweep ---------------------------------------------------

ENDED_LOTS = 300  # the closing sweep takes 100 a run: a few seconds for all of them on this machine


def test_the_worker_killed_mid_sweep_the_next_sweep_finishes_the_job(stack):
    lots = stack.django("tests.services.faultdata:ended_lots", "sweep", ENDED_LOTS)
    with db_connect(stack) as conn:

        def closed() -> int:
            return conn.execute(
                "SELECT count(*) FROM auctions_lot WHERE id = ANY(%s) AND status <> 'live'", [lots]
            ).fetchone()[0]

        # Inside the first run: it has closed some of its batch of 100, not all.
        wait_until(lambda: closed() >= 10, 30, "the closing sweep did not start", every=0.01)
        stack.kill("worker")
        time.sleep(0.5)  # a commit the worker sent just before dying still lands
        at_kill = closed()
        assert 10 <= at_kill < 100, at_kill
        time.sleep(1.5)
        assert closed() == at_kill  # nothing else closes lots: the sweep really died with the worker

        restarted_at = time.monotonic()
        restart = stack.restart("worker")
        assert restart.returncode == 0, restart.stderr[-3000:]
        # The sweep's once-a-second mark in the cache expired long ago: the new worker carries on at once.
        wait_until(lambda: closed() > at_kill, 30, "the new worker's sweep did not start")
        assert time.monotonic() - restarted_at < 20
        wait_until(lambda: closed() == len(lots), 60, "the lots were not all closed")

        # Each lot closed exactly once: sold, one win, one order, one "won" notice, one sequence step.
        rows = conn.execute(
            "SELECT l.id, l.status, l.final_price, l.seq,"
            " (SELECT count(*) FROM auctions_win w WHERE w.lot_id = l.id),"
            " (SELECT count(*) FROM orders_orderline o WHERE o.sku = 'LOT-' || l.id),"
            " (SELECT count(*) FROM auctions_notice n WHERE n.lot_id = l.id AND n.kind = 'won')"
            " FROM auctions_lot l WHERE l.id = ANY(%s)",
            [lots],
        ).fetchall()
    assert len(rows) == ENDED_LOTS
    assert {row[1:] for row in rows} == {("sold", 5_000, 2, 1, 1, 1)}


# --- 4. PostgreSQL stops and starts again --------------------------------------------------------------------


def close_sweeps_ok(web: str) -> float:
    return scrape(web).get(
        (
            "bidcart_sweep_runs_total",
            frozenset({("sweep", "bidcart.auctions.tasks.close_ended_lots"), ("outcome", "ok")}),
        ),
        0.0,
    )


def test_postgres_restart_requests_fail_cleanly_then_recover_without_a_restart(stack, private_postgres, private_redis):
    data = stack.django("tests.services.faultdata:live_lot", "pg", 1)
    lot, person = data["lot"], data["bidders"][0]
    bearer = {"Authorization": f"Bearer {person['token']}"}
    pids = {name: stack.pid(name) for name in SERVICES}

    def requests_fail_cleanly(client: httpx.Client) -> None:
        for web in (stack.web1, stack.web2):
            started = time.monotonic()
            page = client.get(f"{web}/auctions/{lot}/")
            assert page.status_code == 503 and page.headers["content-type"].startswith("text/html"), page.text[:300]
            assert "<h1>" in page.text and "Traceback" not in page.text and page.headers["Retry-After"]
            api = client.get(f"{web}/api/v1/lots/{lot}/")
            assert api.status_code == 503 and api.json()["code"] == "service_unavailable", api.text[:300]
            bid = client.post(f"{web}/api/v1/lots/{lot}/bids/", json={"max_amount": 7_000}, headers=bearer)
            assert bid.status_code == 503 and bid.json()["code"] == "service_unavailable", bid.text[:300]
            readyz = client.get(f"{web}/readyz")
            assert readyz.status_code == 503 and readyz.json()["failed"] == ["database"]
            assert time.monotonic() - started < 4 * QUICK  # four requests, none waiting on the dead server

    async def scenario():
        ws, _ = await room(stack.web1, lot, person["session"])
        private_postgres.stop()
        stopped_at = time.monotonic()
        with httpx.Client(timeout=QUICK) as client:
            requests_fail_cleanly(client)
            # A bid in the live room gets an answer, and the socket stays open.
            await ws.send(json.dumps({"type": "bid", "max_amount": 7_000, "ref": "during"}))
            refused = await reply_to(ws, "during", QUICK)
            assert (refused["type"], refused["accepted"], refused["reason"]) == (
                "bid_result",
                False,
                "service_unavailable",
            )
            await ws.send(json.dumps({"type": "ping", "t": "alive"}))
            while (pong := json.loads(await asyncio.wait_for(ws.recv(), QUICK)))["type"] != "pong":
                pass
            assert pong["t"] == "alive"
            await asyncio.sleep(max(0.0, 5 - (time.monotonic() - stopped_at)))  # down for 5 s
            requests_fail_cleanly(client)

            private_postgres.start()
            wait_until(lambda: ready(stack.web1) and ready(stack.web2), 20, "/readyz did not recover")
            sweeps_when_back = close_sweeps_ok(stack.web1)
            for web in (stack.web1, stack.web2):
                assert client.get(f"{web}/auctions/{lot}/").status_code == 200
                assert client.get(f"{web}/api/v1/lots/{lot}/").status_code == 200
            # The same socket bids again, now accepted.
            await ws.send(json.dumps({"type": "bid", "max_amount": 7_000, "ref": "after"}))
            accepted = await reply_to(ws, "after")
            assert accepted["accepted"] is True, accepted
            await ws.close()
            bid = client.post(f"{stack.web2}/api/v1/lots/{lot}/bids/", json={"max_amount": 8_000}, headers=bearer)
            assert (
                bid.status_code == 201 and bid.json()["bid_count"] == 2
            )  # 7,000, then the leader raises their maximum
        return sweeps_when_back

    sweeps_when_back = asyncio.run(scenario())
    # The worker's sweeps work again too, and nothing was restarted.
    wait_until(lambda: close_sweeps_ok(stack.web1) > sweeps_when_back, 20, "the closing sweep did not run again")
    assert {name: stack.pid(name) for name in SERVICES} == pids
    assert all(alive(pid) for pid in pids.values())
