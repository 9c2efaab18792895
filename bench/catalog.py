"""Catalog benchmark: the list and detail pages and the products API, served by the real server.

    .venv/bin/python bench/catalog.py [--products 10000] [--requests 400] [--concurrency 8,32]

A fresh data folder (SQLite) unless DATABASE_URL / REDIS_URL are set, in which case the same run
measures that PostgreSQL / Redis. Loads the products, starts `bidcart run --no-seed` on 127.0.0.1,
sends a fixed number of requests per page and concurrency, and prints one table. A script, not a
test: nothing here asserts a timing.
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
from _server import bench_env, free_port, start_server, stop_server

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


async def run_scenario(base: str, paths: list[str], requests: int, concurrency: int, deadline: float) -> dict:
    """`requests` GETs over `concurrency` connections; stops early at `deadline` (time.monotonic())."""
    latencies: list[float] = []
    errors = 0
    next_index = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        for path in paths[:concurrency]:  # warm-up, not counted
            await client.get(path)

        async def worker():
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
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"done": len(latencies), "rps": len(latencies) / elapsed if elapsed else 0.0,
            "p50": pct(0.50), "p99": pct(0.99), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400, help="requests per page and concurrency")
    parser.add_argument("--concurrency", default="8,32", help="comma-separated, e.g. 8,32")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds for all the HTTP scenarios together")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]

    data_dir = tempfile.mkdtemp(prefix="bidcart-bench-")
    env = bench_env(data_dir)
    proc = None
    try:
        print(f"data folder {data_dir}", flush=True)
        django_cmd(env, "-m", "bidcart.cli", "manage", "migrate", "--verbosity", "0")
        django_cmd(env, str(DB_HELPER), "load", str(args.products))

        scenarios = pages(args.products)
        info = json.loads(django_cmd(env, str(DB_HELPER), "queries", *(p[0] for _, p in scenarios), capture=True))
        queries = {label: info["pages"][p[0]] for label, p in scenarios}

        port = free_port()
        proc = start_server(env, port, Path(data_dir) / "server.log")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + args.time_limit
        rows = []
        for label, paths in scenarios:
            for c in levels:
                result = asyncio.run(run_scenario(base, paths, args.requests, c, deadline))
                rows.append((label, c, result))
                print(f"  {label} @ {c}: {result['done']} requests, {result['rps']:.0f}/s", flush=True)
    finally:
        if proc is not None:
            stop_server(proc)
        shutil.rmtree(data_dir, ignore_errors=True)

    print()
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} ({platform.system()} {platform.machine()}), "
          f"database {info['vendor']}, cache {'redis' if env.get('REDIS_URL') else 'locmem'}")
    print(f"{args.products} products, {args.requests} requests per row, one uvicorn worker (bidcart run)")
    header = f"{'page':<28} {'conc':>4} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'queries':>7}"
    print(header)
    print("-" * len(header))
    for label, c, r in rows:
        q = queries[label]
        q_text = str(q["queries"]) if q["status"] == 200 else f"{q['queries']} ({q['status']})"
        short = "" if r["done"] == args.requests else f"  (time limit: {r['done']} done)"
        print(f"{label:<28} {c:>4} {r['rps']:>7.1f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['errors']:>6} {q_text:>7}{short}")


if __name__ == "__main__":
    main()
