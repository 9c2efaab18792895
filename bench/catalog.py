"""Catalog benchmark: the list and detail pages and the products API, served by the real server.

    .venv/bin/python bench/catalog.py [--products 10000] [--seconds 10] [--concurrency 8,32]
                                      [--base-url URL[,URL…]] [--sql-seconds 3] [--json FILE]

A fresh data folder (SQLite) unless DATABASE_URL / REDIS_URL are set, in which case the same run
measures that PostgreSQL / Redis. Loads the products, starts `bidcart run --no-seed` on 127.0.0.1 (or,
with --base-url, sends the requests to servers already running on that database, its connections split
between them), drives each page with wrk (bench/_wrk.py: a C load generator, so the figure is the server's)
for --seconds per page and concurrency, and prints one table. The first row is the floor: /livez, the
cheapest request through the same server and middleware stack (no database); each page's "of the floor" is
its rate divided by the floor's. On PostgreSQL it also
measures the raw SQL ceiling of each page: the very SQL statements the page runs on its first visit after a
catalog change (the catalog cache empty), replayed over psycopg from as many threads as the concurrency, no
Django, no HTTP. A repeat visit, which is what wrk measures, comes from the catalog cache and runs no SQL:
its bound is the floor, so the table gives such a page's share of the floor, not of the SQL ceiling. A script, not
a test: nothing here asserts
a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _server import (
    add_target_args,
    base_urls,
    bench_env,
    figure,
    free_port,
    in_threads,
    start_server,
    stop_server,
    write_figures,
)
from _wrk import ensure_wrk, run_wrk

HERE = Path(__file__).resolve().parent
DB_HELPER = HERE / "_catalog_db.py"


FLOOR = "floor: /livez"


def pages(products: int) -> list[tuple[str, list[str]]]:
    """(label, paths): each request takes the next path, so detail requests visit many products."""
    step = max(1, products // 100)
    slugs = [f"bench-p{i}" for i in range(0, products, step)]
    return [
        (FLOOR, ["/livez"]),
        ("list page", ["/products/"]),
        ("list page, search + filter", ["/products/?search=cotton&category=bench-c0&in_stock=true"]),
        ("detail page", [f"/products/{s}/" for s in slugs]),
        ("API list", ["/api/v1/products/"]),
        ("API detail", [f"/api/v1/products/{s}/" for s in slugs]),
    ]


def django_cmd(env, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, *args], env=env, check=True, text=True, stdout=subprocess.PIPE if capture else None
    )
    return result.stdout or ""


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
    parser.add_argument("--seconds", type=float, default=10, help="seconds of wrk per page and concurrency")
    parser.add_argument("--concurrency", default="8,32", help="comma-separated, e.g. 8,32")
    parser.add_argument(
        "--sql-seconds", type=float, default=3, help="seconds per page for the raw SQL ceiling (0: skip)"
    )
    add_target_args(parser)
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    bases = base_urls(args)
    ensure_wrk()

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
        measured = [(label, p) for label, p in scenarios if label != FLOOR]
        info = json.loads(django_cmd(env, str(DB_HELPER), "queries", *(p[0] for _, p in measured), capture=True))
        queries = {label: info["pages"][p[0]] for label, p in measured}
        queries[FLOOR] = {"queries": 0, "cold": 0, "status": 200, "sql": []}

        if not bases:
            port = free_port()
            proc = start_server(env, port, Path(data_dir) / "server.log")
            bases = [f"http://127.0.0.1:{port}"]
        for label, paths in scenarios:
            for c in levels:
                result = run_wrk(bases, paths, c, args.seconds)
                rows.append((label, c, result))
                print(f"  {label} @ {c}: {result['done']} requests, {result['rps']:.0f}/s", flush=True)
    finally:
        if proc is not None:
            stop_server(proc)
        shutil.rmtree(data_dir, ignore_errors=True)
    if database_url.startswith("postgres") and args.sql_seconds > 0:
        for label, c, _r in rows:
            if label == FLOOR:
                continue
            ceilings[(label, c)] = sql_ceiling(database_url, queries[label]["sql"], c, args.sql_seconds)
            print(f"  raw SQL, {label} @ {c}: {ceilings[(label, c)]['per_s']:.0f} pages/s", flush=True)

    servers = f"{len(bases)} server(s) at {', '.join(bases)}" if proc is None else "one uvicorn worker (bidcart run)"
    print()
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} ({platform.system()} "
        f"{platform.machine()}), "
        f"database {info['vendor']}, cache {'redis' if env.get('REDIS_URL') else 'locmem'}"
    )
    print(
        f"{args.products} products, wrk for {args.seconds:g} s per row, {servers}, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end"
    )
    header = (
        f"{'page':<28} {'conc':>4} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'queries':>7}"
        f" {'SQL pages/s':>11} {'of floor':>8}"
    )
    floor = {c: r["rps"] for label, c, r in rows if label == FLOOR}
    print(header)
    print("-" * len(header))
    figures = []
    for label, c, r in rows:
        q = queries[label]
        # warm/cold: SQL queries on a repeat visit (what wrk meets) / on the first visit after a catalog change
        q_text = f"{q['queries']}/{q['cold']}" if q["status"] == 200 else f"{q['queries']}/{q['cold']} ({q['status']})"
        ceiling = ceilings.get((label, c))
        of_floor = f"{r['rps'] / floor[c]:.0%}" if label != FLOOR and floor.get(c) else "-"
        print(
            f"{label:<28} {c:>4} {r['rps']:>7.1f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['errors']:>6} {q_text:>7}"
            f" {format(ceiling['per_s'], '.1f') if ceiling else '-':>11} {of_floor:>8}"
        )
        note = f"{q['queries']} SQL queries ({q['cold']} on the first visit after a catalog change)" + (
            f"; {of_floor} of the floor" if of_floor != "-" else ""
        )
        figures.append(
            figure(
                f"catalog: {label} @ {c}",
                r["rps"],
                "req/s",
                p50=r["p50"],
                p99=r["p99"],
                # a page served from the catalog cache runs no SQL: its bound is the floor, not the SQL
                ceiling=ceiling["per_s"] if ceiling and q["queries"] else None,
                note=f"{note}; {r['errors']} errors" if r["errors"] else note,
            )
        )
    if not ceilings:
        print("raw SQL ceiling: PostgreSQL only (set DATABASE_URL)")
    write_figures(
        args.json,
        "catalog",
        figures,
        products=args.products,
        seconds=args.seconds,
        servers=bases,
        database=info["vendor"],
    )


if __name__ == "__main__":
    main()
