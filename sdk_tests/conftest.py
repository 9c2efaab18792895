"""The official SDKs against a real pgsim over HTTP.

pgsim runs as a subprocess (`python -m bidcart.pgsim`, i.e. `bidcart pgsim`) under the
project's Python (PGSIM_PYTHON, set by scripts/test-sdk), so this virtualenv only holds
the SDKs and their pins. Webhooks go to `receiver`, a small HTTP server in this process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
_skipped: list[str] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    def __init__(self):
        self.deliveries: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                outer.deliveries.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "raw": raw,
                        "json": json.loads(raw),
                    }
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, path: str, count: int = 1, timeout: float = 10, where=lambda body: True) -> list[dict]:
        """Deliveries at `path` whose JSON body satisfies `where`, once there are `count`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [d for d in self.deliveries if d["path"] == path and where(d["json"])]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {count} webhook(s) at {path}: {self.deliveries}")


@pytest.fixture(scope="session")
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="session")
def pgsim(receiver):
    """Base URL of a pgsim subprocess with the control API on."""
    python = os.environ.get("PGSIM_PYTHON") or sys.executable
    port = free_port()
    # Only this suite's settings: a PGSIM_STATE_FILE or credentials exported by the caller
    # must not leak into the simulator under test.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGSIM_")}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        PGSIM_IAMPORT_WEBHOOK_URL=f"{receiver.url}/iamport",
        PGSIM_PORTONE_WEBHOOK_URL=f"{receiver.url}/portone",
        PGSIM_PAYPAL_WEBHOOK_URL=f"{receiver.url}/paypal",
        PGSIM_WEBHOOK_BACKOFF="0.2,0.5",
        PGSIM_ALLOWED_ORIGINS="http://shop.example",
    )
    proc = subprocess.Popen(
        [python, "-m", "bidcart.pgsim", "--port", str(port), "--control"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/_control/", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"pgsim did not start:\n{proc.stdout.read()}")
        time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def control(pgsim):
    return (httpx.get(f"{pgsim}/_control/")).json()


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    # A skipped SDK test hides a broken compatibility claim: fail the run instead.
    if _skipped and session.exitstatus == 0:
        print(f"\nSDK tests must not skip: {_skipped}")
        session.exitstatus = 1
