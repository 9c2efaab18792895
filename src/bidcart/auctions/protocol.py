"""The live room's protocol: every message the server sends on `/ws/auctions/<lot>/`, built here and only
here. docs/live-room.md describes each one, and tests/auctions/test_live_protocol.py checks that the
server sends exactly the documented fields.

Events (to everyone in the room, through `live.publish`, which adds `lot_id` and `server_time`):
`bid`, `extended`, `outbid` (only to the outbid bidder), `ended`, `started`, `chat`, `chat_hidden`,
`viewers` (no `seq`). Answers (to one socket): `snapshot`, `pong`, `bid_result`, `chat_sent`,
`reported`, `error`.

Every event that changes the lot carries the lot's sequence number `seq`; a client that sees a gap asks for
a `snapshot`. Fields are only ever added, never renamed or removed: apps in the field read them.
"""

from __future__ import annotations

from bidcart.core.domain import NotAuthenticated

from . import selectors
from .models import Lot

CLOSE_NOT_FOUND = 4404  # no such lot
CLOSE_UNAUTHORIZED = 4401  # the token was invalid, or the session/password it rode on is no longer valid
# (4429, a flood, is core.consumers.CLOSE_FLOODED)


# --- answers to one socket ------------------------------------------------------------------------------


def snapshot(lot: Lot, user, viewers: int) -> dict:
    state = selectors.lot_state(lot)
    return {
        "type": "snapshot",
        "seq": lot.seq,
        "server_time": state["server_time"],
        "lot": state,
        "history": selectors.history(lot),
        "chat": selectors.chat(lot),
        "you": selectors.my_state(user, lot),
        "viewers": viewers,
    }


def bid_answer(user, lot: Lot | int | None, *, result=None, error=None) -> dict:
    """The answer to a bid, the one builder whichever way it came (the API's POST, the socket's `bid`):
    accepted (`leading`, `my_max`, `extended`) or refused (`reason`, `detail`), with the lot's state and the
    bidder's own standing, so a refused bidder can try again at once. `lot` may be the id the bid named (read
    here for a refusal); a bid refused before it reached a lot (not logged in) carries neither."""
    if result is not None:
        lot = result.lot
        answer = {
            "accepted": True,
            "leading": result.leading,
            "my_max": result.my_max,
            "extended": result.extended,
            "reason": None,
            "detail": None,
        }
    else:
        answer = {
            "accepted": False,
            "leading": False,
            "my_max": None,
            "extended": False,
            "reason": error.code,
            "detail": str(error.detail),
        }
        if isinstance(error, NotAuthenticated):
            lot = None
        else:
            lot = getattr(error, "lot", None) or lot  # the service read the lot under its lock: no query here
            if lot is not None and not isinstance(lot, Lot):
                lot = Lot.objects.filter(pk=lot).first()
    # the service's own account of the bidder's standing when it has one (read with the bid: no query here)
    you = getattr(result if result is not None else error, "you", None)
    if you is None and lot is not None:
        you = selectors.my_state(user, lot)
    if result is None and you is not None:
        answer["leading"], answer["my_max"] = you["leading"], you["my_max"]
    return {**answer, "lot": selectors.lot_state(lot) if lot is not None else None, "you": you}


def bid_result(answer: dict, ref=None) -> dict:
    return {"type": "bid_result", "ref": ref, **answer}


def bid_refused(reason: str, detail: str, ref=None) -> dict:
    """A bid refused before it reached the auction (not logged in, the database unavailable)."""
    return bid_result(
        {
            "accepted": False,
            "leading": False,
            "my_max": None,
            "extended": False,
            "reason": reason,
            "detail": detail,
            "lot": None,
            "you": None,
        },
        ref,
    )


def pong(server_time: str, t=None) -> dict:
    return {"type": "pong", "server_time": server_time, "t": t}


def chat_sent(message_id: int, ref=None) -> dict:
    return {"type": "chat_sent", "ref": ref, "message_id": message_id}


def reported(message_id, ref=None) -> dict:
    return {"type": "reported", "ref": ref, "message_id": message_id}


# `error` messages: core.consumers.error_message(code, detail, ref, **extra)


# --- events to the room -------------------------------------------------------------------------------


def bid(state: dict, row: dict, seq: int) -> dict:
    return {"type": "bid", "seq": seq, "lot": state, "bid": row}


def extended(state: dict, seq: int) -> dict:
    return {"type": "extended", "seq": seq, "lot": state, "ends_at": state["ends_at"]}


def outbid(state: dict, seq: int) -> dict:
    """Only to the bidder who lost the lead; numbered like the bid that caused it."""
    return {"type": "outbid", "seq": seq, "lot": state}


def ended(state: dict, *, winner: bool, reason: str | None = None) -> dict:
    """Sold (`winner` true), unsold, or cancelled (`reason`, the staff's or seller's words)."""
    return {"type": "ended", "seq": state["seq"], "lot": state, "winner": winner, "reason": reason}


def started(state: dict) -> dict:
    return {"type": "started", "seq": state["seq"], "lot": state}


def chat(row: dict) -> dict:
    return {"type": "chat", "seq": row["seq"], "message": row}


def chat_hidden(seq: int, message_id: int) -> dict:
    return {"type": "chat_hidden", "seq": seq, "message_id": message_id}


def viewers(count: int) -> dict:
    """How many sockets watch the lot; no `seq` (it is not the lot's state)."""
    return {"type": "viewers", "seq": None, "count": count}
