"""What every benchmark needs: an environment for a production-like server (DEBUG off), a free port,
and a real `bidcart run` process started, waited for and stopped. Imported by the bench scripts (run as
`python bench/<name>.py`, so this folder is on sys.path)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def bench_env(data_dir: str, **extra: str) -> dict[str, str]:
    """DATABASE_URL / REDIS_URL pass through only if the caller set them."""
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "BIDCART_ADMIN_PATH", "ALLOWED_HOSTS")}
    # A benchmark measures capacity: a few bidders bidding flat out would meet RATE_LIMIT_BID first.
    env.setdefault("RATE_LIMIT_BID", "off")
    env.update({
        "BIDCART_DATA_DIR": data_dir, "DEBUG": "0", "SECRET_KEY": "bench-not-a-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "DJANGO_SETTINGS_MODULE": "bidcart.settings", "LOG_LEVEL": "WARNING",
        **extra,
    })
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env, port: int, log_path: Path, ready: tuple[int, ...] = (200,)) -> subprocess.Popen:
    """`bidcart run` on `port`, once /healthz answers one of `ready`; exits the script if it never does."""
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "bidcart.cli", "run", "--no-seed", "--port", str(port)],
                            env={**env, "HOST": "127.0.0.1"}, stdout=log, stderr=subprocess.STDOUT)
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
