"""Live-room broadcasts: best effort, after commit, never in the way of a bid.

Services call `publish(lot_id, data)` / `publish_to_user(lot_id, user_id, data)` from
`transaction.on_commit`, so a rolled-back write never announces anything; `data` is built by `protocol.py`. The
channel layer is treated as lossy: every event carries
the lot's sequence number and a client that sees a gap asks for a snapshot.

How a broadcast stays out of the bid's way:
- In a server process, consumers register the event loop they run on. A broadcast from a worker thread
  (a sync view, the job loop) is handed to that loop with `run_coroutine_threadsafe` and not waited
  for; a failure is logged by a done-callback. This is also what keeps the in-memory channel layer
  correct: its queues belong to the server's loop.
- Elsewhere (a Celery worker, a management command) it is sent from this thread with a timeout
  (AUCTION_BROADCAST_TIMEOUT, 1 s) and a failure is logged.
Nothing here raises.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timezone

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from . import conf

log = logging.getLogger(__name__)

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def lot_group(lot_id: int) -> str:
    return f"auctions.lot.{lot_id}"


def user_group(lot_id: int, user_id: int) -> str:
    return f"auctions.lot.{lot_id}.user.{user_id}"


def account_group(user_id: int) -> str:
    """Every live-room socket of one user, whatever the lot: told to re-check its sign-in."""
    return f"auctions.account.{user_id}"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def register_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called by consumers: broadcasts from other threads of this process go through this loop."""
    global _loop
    with _loop_lock:
        _loop = loop


def _server_loop() -> asyncio.AbstractEventLoop | None:
    loop = _loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


def _log_failure(future) -> None:
    try:
        exc = future.exception()
    except BaseException:  # cancelled
        return
    if exc is not None:
        log.warning("auction broadcast failed: %r", exc)


def _send(group: str, message: dict) -> None:
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        loop = _server_loop()
        if loop is not None:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                loop.create_task(layer.group_send(group, message)).add_done_callback(_log_failure)
            else:
                asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).add_done_callback(_log_failure)
            return
        timeout = float(conf.get("AUCTION_BROADCAST_TIMEOUT"))

        async def send_with_timeout():
            await asyncio.wait_for(layer.group_send(group, message), timeout)

        async_to_sync(send_with_timeout)()
    except Exception as exc:  # a broadcast must never fail the write that caused it
        log.warning("auction broadcast to %s failed: %r", group, exc)


def event(lot_id: int, data: dict) -> dict:
    """A channel-layer message carrying a protocol event, stamped with its lot and the server's time."""
    return {"type": "lot.event", "data": {**data, "lot_id": lot_id, "server_time": now_iso()}}


def publish(lot_id: int, data: dict) -> None:
    """An event for everyone in the lot's room. `data` carries `type` and `seq`."""
    _send(lot_group(lot_id), event(lot_id, data))


def publish_to_user(lot_id: int, user_id: int, data: dict) -> None:
    """An event for one user's connections to the lot's room (e.g. outbid)."""
    _send(user_group(lot_id, user_id), event(lot_id, data))


def recheck_sign_in(user_id: int) -> None:
    """The user logged out or changed their password: each of their sockets checks its sign-in again and
    closes if it no longer holds (best effort, like every broadcast; the check before each bid, chat line
    or report stays the guarantee)."""
    _send(account_group(user_id), {"type": "sign_in.recheck"})
