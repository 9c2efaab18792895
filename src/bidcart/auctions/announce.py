"""After a bid commits, the room hears of it and the outbid bidder gets their event and notice: off the bid's
request, after commit, never lost.

The bid row is the outbox. `place_bid` inserts it with `announce_pending` set, in the bid's own transaction,
and on commit hands an `Announcement` to this process's announcer thread (an in-memory queue: the request
answers at once, without waiting for Redis or the notice's SQL). The announcer publishes the events
(`live.py`), keeps the outbid bidder's one unread notice, then clears `announce_pending` of the bids it
announced: one UPDATE per batch, however many bids it took from the queue.

Never lost: if the process dies between the commit and that UPDATE (the queue dies with it), the bid is
still pending in the database, and the `announce_pending_bids` sweep (tasks.py) announces it once it is
GRACE old: its `bid` event with the lot as it stands then, and the outbid notice, derived from the log
(the bidder of the previous leading bid, if this one took the lead from someone else). A bid is announced
at least once: a repeated `bid` event has a `seq` the clients have already seen (they ignore it), and the
notice is the one unread outbid notice per lot, updated rather than added.

With AUCTION_ANNOUNCE_IN_BACKGROUND off (the tests), an announcement runs in the committing thread.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.db import close_old_connections, transaction
from django.utils import timezone

from . import conf, live, protocol, selectors
from .models import Bid, Lot, Notice

log = logging.getLogger(__name__)

GRACE = timedelta(seconds=10)  # a pending bid this old was not announced by its process: the sweep does it
BATCH = 200

_queue: queue.SimpleQueue = queue.SimpleQueue()
_thread: threading.Thread | None = None
_thread_pid: int | None = None
_thread_lock = threading.Lock()


@dataclass(frozen=True)
class Announcement:
    bid_id: int
    lot_id: int
    state: dict  # the lot's public state once the bid was in (selectors.lot_state)
    row: dict  # the bid's history row (selectors.history_row)
    seq: int  # the bid's sequence number; `extended` is seq + 1
    extended: bool
    outbid_user: int | None


def after_commit(announcement: Announcement) -> None:
    """Called by the bid's transaction: the announcement goes out once (and only if) it commits."""
    transaction.on_commit(lambda: submit(announcement), robust=True)


def submit(announcement: Announcement) -> None:
    if not conf.get("AUCTION_ANNOUNCE_IN_BACKGROUND"):
        announce([announcement])
        return
    _queue.put(announcement)
    _ensure_thread()


def _ensure_thread() -> None:
    global _thread, _thread_pid
    if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
        return
    with _thread_lock:
        if _thread is None or _thread_pid != os.getpid() or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="bidcart-announcer", daemon=True)
            _thread_pid = os.getpid()
            _thread.start()


def _run() -> None:
    while True:
        batch = [_queue.get()]
        while len(batch) < BATCH:
            try:
                batch.append(_queue.get_nowait())
            except queue.Empty:
                break
        close_old_connections()  # a broken or stale connection is replaced, not reused
        try:
            announce(batch)
        except Exception:  # the bids stay pending: the sweep announces them
            log.exception("announcing %d bid(s) failed; the sweep will retry", len(batch))


def announce(batch: list[Announcement]) -> None:
    """Publish each bid's events, keep each outbid bidder's notice (once per bidder and lot in the batch,
    with the latest price), then mark the batch announced."""
    notices: dict[tuple[int, int], dict] = {}
    for a in batch:
        live.publish(a.lot_id, protocol.bid(a.state, a.row, a.seq))
        if a.extended:
            live.publish(a.lot_id, protocol.extended(a.state, a.seq + 1))
        if a.outbid_user is not None:
            live.publish_to_user(a.lot_id, a.outbid_user, protocol.outbid(a.state, a.seq))
            notices[(a.outbid_user, a.lot_id)] = a.state
    for (user_id, lot_id), state in notices.items():
        _outbid_notice(user_id, lot_id, state)
    Bid.objects.filter(pk__in=[a.bid_id for a in batch], announce_pending=True).update(announce_pending=False)


def _outbid_notice(user_id: int, lot_id: int, state: dict) -> None:
    """One unread outbid notice per lot: a bidding war doesn't flood the inbox."""
    data = {"price": state["current_price"], "currency": state["currency"]}
    if not Notice.objects.filter(user_id=user_id, lot_id=lot_id, kind=Notice.Kind.OUTBID, read_at__isnull=True).update(
        data=data,
        created_at=timezone.now(),
    ):
        Notice.objects.create(user_id=user_id, lot_id=lot_id, kind=Notice.Kind.OUTBID, data=data)


def replay_pending(grace: timedelta = GRACE, batch: int = BATCH) -> int:
    """The sweep: announce the bids whose process committed them but never announced them (it died, or its
    announcer failed). Cleared only once announced, so a sweep that dies half-way leaves the rest pending;
    two sweeps at once may both announce a bid, which is harmless (see above)."""
    cutoff = timezone.now() - grace
    pending = list(Bid.objects.filter(announce_pending=True, created_at__lt=cutoff).order_by("id")[:batch])
    lots: dict[int, Lot] = {}
    done = []
    for bid in pending:
        lot = lots.get(bid.lot_id) or lots.setdefault(bid.lot_id, Lot.objects.get(pk=bid.lot_id))
        before = (
            Bid.objects.filter(lot_id=bid.lot_id, id__lt=bid.pk, leading_after=True)
            .order_by("-id")
            .values_list("bidder_id", "alias")
            .first()
        )
        outbid = before[0] if bid.leading_after and before and before[0] != bid.bidder_id else None
        state = selectors.lot_state(lot)
        row = selectors.history_row(
            bid.alias, bid.price_after, bid.leading_after, bid.created_at, bid.seq, leader=before[1] if before else None
        )
        live.publish(lot.pk, protocol.bid(state, row, bid.seq))
        if outbid is not None:
            live.publish_to_user(lot.pk, outbid, protocol.outbid(state, bid.seq))
            _outbid_notice(outbid, lot.pk, state)
        done.append(bid.pk)
    Bid.objects.filter(pk__in=done).update(announce_pending=False)
    if done:
        log.warning("announced %d bid(s) their process had not announced", len(done))
    return len(done)
