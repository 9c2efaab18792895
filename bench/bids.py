"""Auction benchmark: one hot lot, bids through the HTTP API, live-room fan-out, and the raw SQL ceiling.

    .venv/bin/python bench/bids.py [--bids 600] [--concurrency 8,32,64] [--viewers 200] [--fanout-bids 30]
                                   [--time-limit 300] [--base-url URL[,URL…]] [--json FILE]

A fresh data folder (SQLite) unless DATABASE_URL / REDIS_URL are set (the issue's figures are for
PostgreSQL: export DATABASE_URL=postgres://… of a scratch database, and REDIS_URL for the Redis channel
layer). Starts `bidcart run --no-seed` on 127.0.0.1 (one uvicorn worker) — or, with --base-url, uses
servers already running on that database (bidders and viewers spread round-robin over them, so a bid
taken by one server reaches viewers connected to another) — and prints:

1. bids/s through `POST /api/v1/lots/{id}/bids/` with N concurrent bidders on one lot (each bidder its
   own JWT; every bid a new, higher maximum; a bid overtaken on the way by a higher one can be refused
   as too low — accepted and refused are both counted), then the same over the live room's WebSocket
   (`{"type": "bid"}` frames, each bidder one socket; --no-ws-bids leaves it out);
2. bid-to-viewer delivery: V WebSocket viewers in the room, bids sent one at a time, the time from
   sending the bid to each viewer receiving its `bid` event (p50/p99, and how many arrived);
3. the raw SQL ceiling on PostgreSQL: the same transaction (lock the lot row, insert a bid, update the
   lot) from psycopg threads, no Django, no HTTP — so the ratio to (1) is visible.

A script, not a test: nothing here asserts a timing. The load generator shares the machine with the
server, so the figures are for comparing runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _server import (
    add_target_args,
    base_urls,
    bench_env,
    figure,
    free_port,
    in_threads,
    percentile,
    process_cpu_seconds,
    start_server,
    stop_server,
    write_figures,
)

HERE = Path(__file__).resolve()


# --- the Django side, run as a subprocess: python bench/bids.py --setup BIDDERS LOTS --------------------


def django_setup(bidders: int, lots: int) -> None:
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from bidcart.accounts.jwt import token_pair
    from bidcart.accounts.models import User
    from bidcart.auctions import services
    from bidcart.auctions.models import Lot
    from bidcart.catalog.models import Category

    now = timezone.now()
    Lot.objects.filter(title__startswith="bench-").update(status="cancelled")
    category, _ = Category.objects.get_or_create(slug="bench-auctions", defaults={"name": "bench auctions"})

    def user(email, **extra):
        found = User.objects.filter(email=email).first()
        return found or User.objects.create_user(
            email,
            "bench-password-1",
            display_name=email.split("@")[0],
            is_active=True,
            email_verified_at=now,
            phone_verified_at=now,
            **extra,
        )

    seller = user("bench-auctioneer@example.com", is_seller=True, phone="+821099990000")
    people = [user(f"bench-bidder{i}@example.com", phone=f"+8210{88000000 + i}") for i in range(bidders)]
    made = [
        services.create_lot(
            seller,
            title=f"bench-lot-{i}",
            category=category,
            start_price=1_000,
            ends_at=now + timedelta(hours=6),
            soft_close_seconds=0,
        ).pk
        for i in range(lots)
    ]
    print(json.dumps({"lots": made, "tokens": [token_pair(p)["access"] for p in people]}))


# --- the bench ----------------------------------------------------------------------------------------


class Amounts:
    """Rising maximums shared by all bidders of a lot: concurrent bids land out of order, so some are
    refused as too low — that is the race, and it is counted."""

    # ten times the largest KRW increment: a bid is refused only if it lands after two higher ones
    STEP = 1_000_000

    def __init__(self):
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return 10_000 + self.n * self.STEP


async def bid_storm(
    bases: list[str], lot: int, tokens: list[str], bids: int, concurrency: int, deadline: float
) -> dict:
    """`concurrency` bidders on one lot (spread over `bases`), each bid a new, higher maximum (a bidding war
    in which every bid counts). Requests overtake each other on the way, so a bid can land after a higher
    one and be refused as too low: refusals are counted, not retried."""
    amounts, latencies, codes = Amounts(), [], {}
    sent = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = [httpx.AsyncClient(base_url=base, limits=limits, timeout=30) for base in bases]
    try:

        async def bidder(client, token):
            nonlocal sent
            headers = {"Authorization": f"Bearer {token}"}
            while sent < bids and time.monotonic() < deadline:
                sent += 1
                t0 = time.perf_counter()
                try:
                    response = await client.post(
                        f"/api/v1/lots/{lot}/bids/", json={"max_amount": amounts.next()}, headers=headers
                    )
                    code = (
                        "accepted"
                        if response.status_code == 201
                        else response.json().get("code", str(response.status_code))
                    )
                except (httpx.HTTPError, ValueError) as exc:
                    code = type(exc).__name__
                latencies.append(time.perf_counter() - t0)
                codes[code] = codes.get(code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(bidder(clients[i % len(clients)], tokens[i % len(tokens)]) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    return storm_figures(latencies, codes, elapsed)


def storm_figures(latencies: list[float], codes: dict, elapsed: float) -> dict:
    """One storm's figures, over the API or the WebSocket alike: tries and accepted bids per second, latency."""
    accepted = codes.get("accepted", 0)
    return {
        "done": len(latencies),
        "elapsed": elapsed,
        "accepted_per_s": accepted / elapsed if elapsed else 0,
        "tries_per_s": len(latencies) / elapsed if elapsed else 0,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "codes": codes,
    }


async def ws_bid_storm(
    bases: list[str], lot: int, tokens: list[str], bids: int, concurrency: int, deadline: float
) -> dict:
    """The same storm over the live room's WebSocket: `concurrency` bidders, each one socket (a JWT in
    Sec-WebSocket-Protocol), each sending `{"type": "bid", …, "ref"}` and waiting for its `bid_result` (the
    room's events to every bidder's socket come in between and are skipped)."""
    import websockets

    amounts, latencies, codes = Amounts(), [], {}
    sent = 0
    sockets = []
    for i in range(concurrency):
        base = bases[i % len(bases)]
        ws = await websockets.connect(
            base.replace("http", "ws") + f"/ws/auctions/{lot}/",
            max_queue=None,
            subprotocols=["bidcart.jwt", tokens[i % len(tokens)]],
        )
        await ws.recv()  # the snapshot
        sockets.append(ws)

    async def bidder(ws, n):
        nonlocal sent
        while sent < bids and time.monotonic() < deadline:
            sent += 1
            ref = f"{n}-{sent}"
            t0 = time.perf_counter()
            await ws.send(json.dumps({"type": "bid", "max_amount": amounts.next(), "ref": ref}))
            while True:
                message = json.loads(await ws.recv())
                if message.get("ref") == ref:
                    break
            code = (
                "accepted"
                if message.get("accepted")
                else message.get("reason") or message.get("code") or message["type"]
            )
            latencies.append(time.perf_counter() - t0)
            codes[code] = codes.get(code, 0) + 1

    try:
        started = time.perf_counter()
        await asyncio.gather(*(bidder(ws, n) for n, ws in enumerate(sockets)))
        elapsed = time.perf_counter() - started
    finally:
        for ws in sockets:
            await ws.close()
    return storm_figures(latencies, codes, elapsed)


async def fanout(bases: list[str], lot: int, tokens: list[str], viewers: int, bids: int) -> dict:
    """`viewers` sockets in the room (spread over `bases`); two bidders outbid each other `bids` times, one
    bid at a time, through the servers in turn; the delay from sending each bid to each viewer receiving
    its event (matched by sequence number)."""
    import websockets

    sent_at: dict[int, float] = {}
    arrivals: list[tuple[int, float]] = []
    sockets = []
    for i in range(viewers):
        base = bases[i % len(bases)]
        ws = await websockets.connect(base.replace("http", "ws") + f"/ws/auctions/{lot}/", origin=base, max_queue=None)
        await ws.recv()  # the snapshot
        sockets.append(ws)

    async def listen(ws):
        try:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "bid":
                    arrivals.append((message["seq"], time.perf_counter()))
        except websockets.ConnectionClosed:
            pass

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
    amounts = Amounts()
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(bids):
            headers = {"Authorization": f"Bearer {tokens[i % 2]}"}
            t0 = time.perf_counter()
            response = await client.post(
                f"{bases[i % len(bases)]}/api/v1/lots/{lot}/bids/", json={"max_amount": amounts.next()}, headers=headers
            )
            if response.status_code == 201:
                sent_at[response.json()["seq"]] = t0  # soft close is off: the lot's seq is the bid's
            await asyncio.sleep(0.2)
    await asyncio.sleep(3)  # stragglers
    for ws in sockets:
        await ws.close()
    for task in listeners:
        task.cancel()
    delays = [t - sent_at[seq] for seq, t in arrivals if seq in sent_at]
    return {
        "viewers": viewers,
        "bids": len(sent_at),
        "delivered": len(delays),
        "expected": len(sent_at) * viewers,
        "p50": percentile(delays, 0.5),
        "p99": percentile(delays, 0.99),
    }


def sql_ceiling(database_url: str, lot: int, bidder_ids: list[int], concurrency: int, seconds: float) -> dict:
    """The bid transaction in plain SQL over psycopg: SELECT … FOR UPDATE the lot, INSERT the bid, UPDATE
    the lot; `concurrency` threads, one connection each, for `seconds`."""
    import psycopg

    def bids(i: int, until: float) -> list[float]:
        done = []
        with psycopg.connect(database_url, autocommit=False) as conn:
            bidder = bidder_ids[i % len(bidder_ids)]
            while time.monotonic() < until:
                t0 = time.perf_counter()
                with conn.cursor() as cur:
                    cur.execute("SELECT current_price, seq FROM auctions_lot WHERE id = %s FOR UPDATE", (lot,))
                    price, seq = cur.fetchone()
                    price = (price or 1_000) + 100
                    cur.execute(
                        "INSERT INTO auctions_bid (lot_id, bidder_id, alias, max_amount, price_after, "
                        "leading_after, seq, created_at)"
                        " VALUES (%s, %s, 1, %s, %s, true, %s, now())",
                        (lot, bidder, price, price, seq + 1),
                    )
                    cur.execute(
                        "UPDATE auctions_lot SET current_price = %s, leader_max = %s, leader_id = %s,"
                        " bid_count = bid_count + 1, seq = seq + 1, updated_at = now() WHERE id = %s",
                        (price, price, bidder, lot),
                    )
                conn.commit()
                done.append(time.perf_counter() - t0)
        return done

    return in_threads(bids, concurrency, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bids", type=int, default=600, help="bids per concurrency level")
    parser.add_argument("--concurrency", default="8,32,64")
    parser.add_argument("--viewers", type=int, default=200, help="WebSocket viewers for the fan-out (the issue: 1000)")
    parser.add_argument("--fanout-bids", type=int, default=30)
    parser.add_argument(
        "--no-ws-bids", action="store_true", help="leave out the bid storm over the live room's WebSocket"
    )
    parser.add_argument(
        "--server-pid",
        type=int,
        default=0,
        help="with --base-url: the server's process id, to report its CPU per decided bid (its workers included)",
    )
    parser.add_argument("--sql-seconds", type=float, default=5)
    parser.add_argument("--time-limit", type=float, default=300, help="seconds for all the HTTP scenarios together")
    add_target_args(parser)
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    bases = base_urls(args)
    started_here = not bases

    data_dir = tempfile.mkdtemp(prefix="bidcart-bench-bids-")
    env = bench_env(data_dir, running=not started_here, PGSIM_MOUNT="0")  # the simulator is not needed
    proc = None
    storms, ws_storms, spread, ceiling = [], [], None, []
    try:
        print(f"data folder {data_dir}", flush=True)
        if started_here:
            subprocess.run(
                [sys.executable, "-m", "bidcart.cli", "manage", "migrate", "--verbosity", "0"], env=env, check=True
            )
        lots_needed = len(levels) + 1 + len(levels) + len(levels)  # API storms, fan-out, SQL ceilings, WS storms
        out = subprocess.run(
            [sys.executable, str(HERE), "--setup", str(max(levels)), str(lots_needed)],
            env=env,
            check=True,
            text=True,
            stdout=subprocess.PIPE,
        ).stdout
        setup = json.loads(out.strip().splitlines()[-1])
        lots, tokens = setup["lots"], setup["tokens"]

        if started_here:
            port = free_port()
            proc = start_server(env, port, Path(data_dir) / "server.log", ready=(200, 503))
            bases = [f"http://127.0.0.1:{port}"]
        deadline = time.monotonic() + args.time_limit
        server_pid = proc.pid if proc is not None else args.server_pid

        def with_cpu(storm):
            """The storm's result, with the server's CPU milliseconds per decided bid when its pid is known."""
            before = process_cpu_seconds(server_pid) if server_pid else None
            result = asyncio.run(storm)
            if before is not None and result["done"]:
                result["cpu_ms"] = (process_cpu_seconds(server_pid) - before) * 1000 / result["done"]
            return result

        for i, c in enumerate(levels):
            result = with_cpu(bid_storm(bases, lots[i], tokens, args.bids, c, deadline))
            storms.append((c, result))
            print(f"  API bids @ {c}: {result['done']} tries, {result['accepted_per_s']:.0f} accepted/s", flush=True)
        if not args.no_ws_bids:
            for i, c in enumerate(levels):
                result = with_cpu(ws_bid_storm(bases, lots[2 * len(levels) + 1 + i], tokens, args.bids, c, deadline))
                ws_storms.append((c, result))
                print(
                    f"  WebSocket bids @ {c}: {result['done']} tries, {result['accepted_per_s']:.0f} accepted/s",
                    flush=True,
                )
        if args.viewers:
            spread = asyncio.run(fanout(bases, lots[len(levels)], tokens, args.viewers, args.fanout_bids))
            print(f"  fan-out: {spread['delivered']}/{spread['expected']} deliveries", flush=True)
    finally:
        if proc is not None:
            stop_server(proc)
    database_url = env.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(database_url) as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM accounts_user WHERE email LIKE 'bench-bidder%%'")]
        for i, c in enumerate(levels):
            ceiling.append((c, sql_ceiling(database_url, lots[len(levels) + 1 + i], ids, c, args.sql_seconds)))
    shutil.rmtree(data_dir, ignore_errors=True)

    print()
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} ({platform.system()} "
        f"{platform.machine()}), "
        f"database {'postgresql' if database_url.startswith('postgres') else 'sqlite'}, "
        f"channel layer {'redis' if env.get('REDIS_URL') else 'in-memory'}; "
        + ("one uvicorn worker (bidcart run)" if started_here else f"{len(bases)} server(s) at {', '.join(bases)}")
    )

    def cpu(r):
        return f"{r['cpu_ms']:.1f}" if "cpu_ms" in r else "-"

    print(
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min) at the end; "
        "CPU ms: the server's CPU per decided bid"
    )
    header = (
        f"{'one hot lot':<30} {'conc':>4} {'accepted/s':>10} {'decided/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU ms':>6}  refusals"
    )
    print(header)
    print("-" * len(header))
    for c, r in storms:
        refusals = ", ".join(f"{k} {v}" for k, v in sorted(r["codes"].items()) if k != "accepted") or "-"
        print(
            f"{'HTTP API':<30} {c:>4} {r['accepted_per_s']:>10.1f} {r['tries_per_s']:>9.1f} "
            f"{r['p50']:>7.1f} {r['p99']:>7.1f} {cpu(r):>6}  {refusals}"
        )
    for c, r in ws_storms:
        refusals = ", ".join(f"{k} {v}" for k, v in sorted(r["codes"].items()) if k != "accepted") or "-"
        print(
            f"{'live room WebSocket':<30} {c:>4} {r['accepted_per_s']:>10.1f} {r['tries_per_s']:>9.1f} "
            f"{r['p50']:>7.1f} {r['p99']:>7.1f} {cpu(r):>6}  {refusals}"
        )
    for c, r in ceiling:
        print(
            f"{'raw SQL, same transaction':<30} {c:>4} {r['per_s']:>10.1f} {r['per_s']:>9.1f} {r['p50']:>7.1f} "
            f"{r['p99']:>7.1f} {'-':>6}  -"
        )
    if not ceiling:
        print("raw SQL ceiling: PostgreSQL only (set DATABASE_URL)")
    for (c, r), (_c, s) in zip(storms, ceiling):
        if r["tries_per_s"]:
            print(
                f"  @ {c}: the SQL ceiling is {s['per_s'] / r['tries_per_s']:.1f}× the bids/s the API decides"
                " (accepted or refused, each under the lot's lock)"
            )
    if spread:
        print(
            f"bid → viewer: {spread['viewers']} WebSocket viewers, {spread['bids']} bids: delivered "
            f"{spread['delivered']}/{spread['expected']}, p50 {spread['p50']:.1f} ms, p99 {spread['p99']:.1f} ms"
        )

    # The ceiling is the same transaction decided (accepted or refused, each under the lot's lock).
    ceilings = dict(ceiling)
    figures = []
    for c, r in storms:
        refusals = sum(v for k, v in r["codes"].items() if k != "accepted")
        figures.append(
            figure(
                f"bids: decided @ {c} bidders, one lot",
                r["tries_per_s"],
                "bids/s",
                p50=r["p50"],
                p99=r["p99"],
                ceiling=ceilings[c]["per_s"] if c in ceilings else None,
                note=f"{r['accepted_per_s']:.1f} accepted/s, {refusals} refused as overtaken"
                + (f", {r['cpu_ms']:.1f} ms server CPU per bid" if "cpu_ms" in r else ""),
            )
        )
    for c, r in ws_storms:
        refusals = sum(v for k, v in r["codes"].items() if k != "accepted")
        figures.append(
            figure(
                f"bids: decided over WebSocket @ {c} bidders, one lot",
                r["tries_per_s"],
                "bids/s",
                p50=r["p50"],
                p99=r["p99"],
                ceiling=ceilings[c]["per_s"] if c in ceilings else None,
                note=f"{r['accepted_per_s']:.1f} accepted/s, {refusals} refused as overtaken"
                + (f", {r['cpu_ms']:.1f} ms server CPU per bid" if "cpu_ms" in r else ""),
            )
        )
    if spread:
        figures.append(
            figure(
                f"bids: bid → viewer, {spread['viewers']} viewers",
                spread["delivered"] / max(1, spread["expected"]) * 100,
                "% delivered",
                p50=spread["p50"],
                p99=spread["p99"],
                note=f"{spread['delivered']}/{spread['expected']} events over {spread['bids']} bids",
            )
        )
    write_figures(args.json, "bids", figures, servers=bases)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--setup":
        django_setup(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
