"""Catalog benchmark: the list and detail pages and the products API, served by the real server.

    .venv/bin/python bench/catalog.py [--products 10000] [--requests 400] [--concurrency 8,32]
                                      [--base-url URL[,URL…]] [--sql-seconds 3] [--json FILE]

A fresh data folder (SQLite) unless DATABASE_URL / REDIS_URL are set, in which case the same run
measures that PostgreSQL / Redis. Loads the products, starts `bidcart run --no-seed` on 127.0.0.1 (or,
with --base-url, sends the requests to servers already running on that database, spread round-robin),
sends a fixed number of requests per page and concurrency, and prints one table. On PostgreSQL it also
measures the raw SQL ceiling of each page: the very SQL statements the page runs, replayed over psycopg
from as many threads as the concurrency, no Django, no HTTP. A script, not a test: nothing here asserts
a timing.
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
from _server import (add_target_args, base_urls, bench_env, figure, free_port, in_threads, percentile, start_server,
                     stop_server, write_figures)

HERE = Path(__file__).resolve().parent
DB_HELPER = HERE / "_catalog_db.py"


def pages(products: int) -> list[tuple[str, list[str]]]:
    """(label, paths): each request takes the next path, so detail requests visit many products."""
    step = max(1, products // 100)
    slugs = [f"bench-p{i}" for i in range(0, products, step)]
    return [
        ("list page", ["/products/"]),
        ("list page, search + filter", ["/products/?search=cotton&category=bench-c0&in_stock=true"]),
        ("detail page", [f"/products/{s}/" for s in slugs]),
        ("API list", ["/api/v1/products/"]),
        ("API detail", [f"/api/v1/products/{s}/" for s in slugs]),
    ]


def django_cmd(env, *args: str, capture: bool = False) -> str:
    result = subprocess.run([sys.executable, *args], env=env, check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout or ""


async def run_scenario(bases: list[str], paths: list[str], requests: int, concurrency: int, deadline: float) -> dict:
    """`requests` GETs over `concurrency` connections spread over `bases`; stops early at `deadline`."""
    latencies: list[float] = []
    errors = 0
    next_index = 0
    per_base = max(1, -(-concurrency // len(bases)))
    limits = httpx.Limits(max_connections=per_base, max_keepalive_connections=per_base)
    clients = [httpx.AsyncClient(base_url=base, limits=limits, timeout=30) for base in bases]
    try:
        for i, path in enumerate(paths[:concurrency]):  # warm-up, not counted
            await clients[i % len(clients)].get(path)

        async def worker(client):
            nonlocal next_index, errors
            while next_index < requests and time.monotonic() < deadline:
                path = paths[next_index % len(paths)]
                next_index += 1
                t0 = time.perf_counter()
                try:
                    response = await client.get(path)
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker(clients[i % len(clients)]) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    return {"done": len(latencies), "rps": len(latencies) / elapsed if elapsed else 0.0,
            "p50": percentile(latencies, .50), "p99": percentile(latencies, .99), "errors": errors}


def sql_ceiling(database_url: str, statements: list[str], concurrency: int, seconds: float) -> dict:
    """A page's SQL statements, one after the other per "page", from `concurrency` psycopg threads (one
    connection each, autocommit as Django runs them) for `seconds`: pages per second."""
    import psycopg

    def pages(_i: int, until: float) -> list[float]:
        done = []
        with psycopg.connect(database_url, autocommit=True) as conn:
            while time.monotonic() < until:
                t0 = time.perf_counter()
                for sql in statements:
                    conn.execute(sql).fetchall()
                done.append(time.perf_counter() - t0)
        return done

    return in_threads(pages, concurrency, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400, help="requests per page and concurrency")
    parser.add_argument("--concurrency", default="8,32", help="comma-separated, e.g. 8,32")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds for all the HTTP scenarios together")
    parser.add_argument("--sql-seconds", type=float, default=3, help="seconds per page for the raw SQL ceiling (0: skip)")
    add_target_args(parser)
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    bases = base_urls(args)

    data_dir = tempfile.mkdtemp(prefix="bidcart-bench-")
    env = bench_env(data_dir, running=bool(bases))
    database_url = env.get("DATABASE_URL", "")
    proc = None
    rows, ceilings = [], {}
    try:
        print(f"data folder {data_dir}", flush=True)
        if not bases:
            django_cmd(env, "-m", "bidcart.cli", "manage", "migrate", "--verbosity", "0")
        django_cmd(env, str(DB_HELPER), "load", str(args.products))

        scenarios = pages(args.products)
        info = json.loads(django_cmd(env, str(DB_HELPER), "queries", *(p[0] for _, p in scenarios), capture=True))
        queries = {label: info["pages"][p[0]] for label, p in scenarios}

        if not bases:
            port = free_port()
            proc = start_server(env, port, Path(data_dir) / "server.log")
            bases = [f"http://127.0.0.1:{port}"]
        deadline = time.monotonic() + args.time_limit
        for label, paths in scenarios:
            for c in levels:
                result = asyncio.run(run_scenario(bases, paths, args.requests, c, deadline))
                rows.append((label, c, result))
                print(f"  {label} @ {c}: {result['done']} requests, {result['rps']:.0f}/s", flush=True)
    finally:
        if proc is not None:
            stop_server(proc)
        shutil.rmtree(data_dir, ignore_errors=True)
    if database_url.startswith("postgres") and args.sql_seconds > 0:
        for label, c, _r in rows:
            ceilings[(label, c)] = sql_ceiling(database_url, queries[label]["sql"], c, args.sql_seconds)
            print(f"  raw SQL, {label} @ {c}: {ceilings[(label, c)]['per_s']:.0f} pages/s", flush=True)

    servers = f"{len(bases)} server(s) at {', '.join(bases)}" if proc is None else "one uvicorn worker (bidcart run)"
    print()
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} ({platform.system()} {platform.machine()}), "
          f"database {info['vendor']}, cache {'redis' if env.get('REDIS_URL') else 'locmem'}")
    print(f"{args.products} products, {args.requests} requests per row, {servers}")
    header = (f"{'page':<28} {'conc':>4} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'queries':>7}"
              f" {'SQL pages/s':>11}")
    print(header)
    print("-" * len(header))
    figures = []
    for label, c, r in rows:
        q = queries[label]
        q_text = str(q["queries"]) if q["status"] == 200 else f"{q['queries']} ({q['status']})"
        short = "" if r["done"] == args.requests else f"  (time limit: {r['done']} done)"
        ceiling = ceilings.get((label, c))
        print(f"{label:<28} {c:>4} {r['rps']:>7.1f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['errors']:>6} {q_text:>7}"
              f" {format(ceiling['per_s'], '.1f') if ceiling else '-':>11}{short}")
        figures.append(figure(f"catalog: {label} @ {c}", r["rps"], "req/s", p50=r["p50"], p99=r["p99"],
                              ceiling=ceiling["per_s"] if ceiling else None,
                              note=f"{q['queries']} SQL queries; {r['errors']} errors" if r["errors"] else f"{q['queries']} SQL queries"))
    if not ceilings:
        print("raw SQL ceiling: PostgreSQL only (set DATABASE_URL)")
    write_figures(args.json, "catalog", figures, products=args.products, requests=args.requests, servers=bases,
                  database=info["vendor"])


if __name__ == "__main__":
    main()
