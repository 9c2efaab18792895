"""Every auction write: one function per use case, transactional.

The lot row is the lock. `place_bid`, `buy_now`, `close_lot`, `cancel_lot` and `relist` take it with
`select_for_update` (SQLite: the IMMEDIATE transaction is the lock) and decide on the server clock read
*after* the lock is held, so a bid that waited behind the closing sweep sees the lot closed and a bid
the sweep waited behind is already in the price. Each write bumps the lot's sequence number for every
live-room event it causes; the events are published after commit (`live.py`) and never block or fail
the write. Sweeps claim rows with `skip_locked` on PostgreSQL and re-check their condition under the
lock, so running two at once is safe.

The package, by sub-domain: `listing` (create, validate, scheduled lots going live), `bidding` (bids, Buy It
Now), `closing` (close, the closing sweep, cancel), `after_close` (settling wins, strikes, second-chance
offers, relist), `autocharge` (winners charged to a saved card at the close), `notices` (watchlist, inbox, reminder
and email sweeps) and `chat` (chat and its
moderation). Everything is importable from `bidcart.auctions.services`, as before.
"""

from ..selectors import can_relist  # noqa: F401  (a read; relist() and the pages ask it)
from . import autocharge  # noqa: F401
from .after_close import (  # noqa: F401
    LAPSED_STATUSES,
    accept_offer,
    decline_offer,
    expire_offers,
    lift_strike,
    relist,
    runner_up,
    settle_wins,
)
from .base import OPEN  # noqa: F401
from .bidding import BidResult, buy_now, parse_amount, place_bid  # noqa: F401
from .chat import hide_message, mute_user, post_message, report_message  # noqa: F401
from .closing import award, cancel_lot, close_ended_lots, close_lot  # noqa: F401
from .listing import create_lot, start_scheduled_lots, validate_terms  # noqa: F401
from .notices import email_notices, mark_notices_read, notify, send_ending_soon, unwatch, watch  # noqa: F401
