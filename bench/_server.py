"""What every benchmark needs: an environment for a production-like server (DEBUG off), a free port,
a real `bidcart run` process started, waited for and stopped — or the base URLs of servers already
running (`--base-url`, e.g. the scripts/services-up stack that bench/run_all starts) — percentiles, and
the figures as JSON for bench/run_all's table. Imported by the bench scripts (run as
`python bench/<name>.py`, so this folder is on sys.path)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def add_target_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        default="",
        help="comma-separated base URLs of bidcart web servers already running (e.g. the services-up "
        "stack), spread over round-robin; their DATABASE_URL, REDIS_URL and SECRET_KEY must be "
        "exported: the setup writes to that database and signs the JWTs with that key",
    )
    parser.add_argument("--json", default="", help="also write the figures to this file (bench/run_all reads it)")


def base_urls(args) -> list[str]:
    return [u.strip().rstrip("/") for u in args.base_url.split(",") if u.strip()]


def bench_env(data_dir: str, *, running: bool = False, **extra: str) -> dict[str, str]:
    """DATABASE_URL / REDIS_URL pass through only if the caller set them. For servers already `running`,
    the caller's SECRET_KEY too (tokens made by the setup must be valid there)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "BIDCART_ADMIN_PATH", "ALLOWED_HOSTS")
    }
    # A benchmark measures capacity: a few bidders bidding flat out would meet RATE_LIMIT_BID first.
    env.setdefault("RATE_LIMIT_BID", "off")
    env.setdefault("RATE_LIMIT_WS_CONNECT", "off")  # a hundred viewers from one address join the room at once
    env.setdefault("RATE_LIMIT_WS_MESSAGES", "off")  # a bidder bidding flat out over the live room
    secret = "bench-not-a-secret-" + "x" * 40
    if running:
        if not os.environ.get("SECRET_KEY") or not os.environ.get("DATABASE_URL"):
            sys.exit("--base-url: export the servers' DATABASE_URL and SECRET_KEY (and REDIS_URL) first")
        secret = os.environ["SECRET_KEY"]
    env.update(
        {
            "BIDCART_DATA_DIR": data_dir,
            "DEBUG": "0",
            "SECRET_KEY": secret,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "bidcart.settings",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env, port: int, log_path: Path, ready: tuple[int, ...] = (200,)) -> subprocess.Popen:
    """`bidcart run` on `port`, once /healthz answers one of `ready`; exits the script if it never does."""
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bidcart.cli", "run", "--no-seed", "--port", str(port)],
        env={**env, "HOST": "127.0.0.1"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in ready:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    sys.exit(f"the server did not answer /healthz in 60 s:\n{log_path.read_text()}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` and every live descendant (Linux /proc):
    what a server spent, whatever else the machine was doing."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += (int(stats[current][11]) + int(stats[current][12])) / tick  # utime, stime
        todo.extend(children.get(current, []))
    return total


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile of durations in seconds, in milliseconds."""
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] * 1000


def in_threads(job, concurrency: int, seconds: float) -> dict:
    """`job(i, until)` in `concurrency` threads (`until` is a time.monotonic() deadline); each answers the
    durations of what it did, in seconds. The rate over all of them, and their p50 / p99 in ms."""
    until = time.monotonic() + seconds
    results: list[list[float]] = [[] for _ in range(concurrency)]

    def run(i: int) -> None:
        results[i] = job(i, until)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies = [d for r in results for d in r]
    return {
        "per_s": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "done": len(latencies),
    }


def figure(
    name: str,
    value: float,
    unit: str,
    *,
    p50: float | None = None,
    p99: float | None = None,
    ceiling: float | None = None,
    note: str = "",
) -> dict:
    """One row of bench/run_all's table; `ceiling` is the raw rate of the same work without bidcart."""
    return {"figure": name, "value": value, "unit": unit, "p50": p50, "p99": p99, "ceiling": ceiling, "note": note}


def write_figures(path: str, bench: str, figures: list[dict], **info) -> None:
    if path:
        Path(path).write_text(json.dumps({"bench": bench, "figures": figures, "info": info}, indent=1))
