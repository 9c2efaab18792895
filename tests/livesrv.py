"""A real uvicorn server running bidcart's ASGI application in a background thread, for tests that
need real HTTP and WebSockets (e2e, services). Same process, so Django's test mail outbox works."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import uvicorn

from bidcart.cli import server_limits


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(app="bidcart.asgi:application", host="127.0.0.1"):
    port = free_port()
    config = uvicorn.Config(
        app, host=host, port=port, lifespan="off", log_level="warning", ws="auto", **server_limits()
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
