"""Bids and Buy It Now: the rules a buyer meets at an open lot, the engine under the lot lock, the room's
events after commit.

A bid, in as few round trips as the rules allow. A hot lot's bids queue on its row lock, so what counts is
what happens while the lock is held. An accepted bid costs, on PostgreSQL + Redis:

- before the lock: the rate limit (one Redis round trip, core/ratelimit.py) and one SELECT of the bidder as
  they stand now (active, verified, how many active strikes, their alias on this lot, whether they watch it,
  their maximum so far): facts the lot's lock does not protect (a strike or a verification racing a bid is
  decided by whichever commits first either way);
- under the lock: `SELECT … FOR UPDATE` of the lot (the server clock read after it), the proxy engine in
  Python, then one statement that inserts the bid and updates the lot (a writable CTE; the ORM's INSERT and
  UPDATE elsewhere), COMMIT. A bidder's first bid on a lot also reads and writes their alias under the lock;
- after commit: the room's events and the outbid notice go to the announcer (announce.py: the bid row is
  the outbox, so a process dying before it announced loses nothing).

A refusal under the lock carries the locked lot and the bidder's standing (`error.lot`, `error.you`), so the
answer (protocol.bid_answer) needs no further query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.core import numbers, ratelimit
from bidcart.core.domain import Conflict, DomainError, Invalid, NotAuthenticated
from bidcart.core.money import format_money

from .. import announce, conf, engine, selectors
from ..models import Bid, BidderAlias, Lot, Strike, Watch, Win
from . import autocharge
from .base import OPEN, _alias, _lock, _no_such_lot
from .closing import _close_as_sold


def _check_open(lot: Lot, now: datetime) -> None:
    if lot.status == Lot.Status.CANCELLED:
        raise Conflict(_("This lot was cancelled."), code="lot_not_live")
    if lot.status not in OPEN or now >= lot.ends_at:
        raise Conflict(_("This auction has ended."), code="lot_ended")
    if now < lot.starts_at:
        raise Conflict(_("This auction has not started yet."), code="lot_not_live")


def _check_buyer(user, lot: Lot, now: datetime) -> None:
    """Buy It Now's buyer meets a bidder's rules (under the lot lock)."""
    _check_bidder(user, _bidder(user, lot.pk), lot, now)


def parse_amount(value) -> int:
    """A whole positive amount in minor units, read by core.numbers (ASCII digits, within MAX_AMOUNT);
    400 invalid_amount otherwise, whichever way the bid came (API, page, live room)."""
    try:
        return numbers.parse_amount(value)
    except numbers.InvalidNumber:
        raise Invalid(_("Enter the amount as a whole number of won."), code="invalid_amount") from None


@dataclass
class BidResult:
    lot: Lot
    bid: Bid
    leading: bool
    my_max: int
    extended: bool
    you: dict | None = None  # the bidder's own standing once the bid was in (selectors.my_state's fields)


_ANY_USER, _ANY_LOT = -7_700_001, -7_700_002  # stand-ins for the bidder query's parameters


def _bidder_query(user_id: int, lot_id: int):
    from bidcart.accounts.models import User

    def first(qs, field):
        return Subquery(qs.values(field)[:1], output_field=IntegerField())

    strikes = (
        Strike.objects.filter(user=OuterRef("pk"), lifted_at__isnull=True)
        .order_by()
        .values("user")
        .annotate(n=Count("id"))
        .values("n")
    )
    return User.objects.filter(pk=user_id, is_active=True).annotate(
        active_strikes=Coalesce(Subquery(strikes, output_field=IntegerField()), Value(0)),
        lot_alias=first(BidderAlias.objects.filter(lot_id=lot_id, user=OuterRef("pk")), "number"),
        lot_max=first(Bid.objects.filter(lot_id=lot_id, bidder=OuterRef("pk")).order_by("-max_amount"), "max_amount"),
        watching=Exists(Watch.objects.filter(lot_id=lot_id, user=OuterRef("pk"))),
    )[:1]


@lru_cache(maxsize=4)
def _bidder_sql(vendor: str) -> tuple[str, tuple]:
    """The bidder query compiled once per process (building it took about a fifth of a bid's CPU): its SQL
    and its parameters, the user's and the lot's still stand-ins."""
    return _bidder_query(_ANY_USER, _ANY_LOT).query.sql_with_params()


def _bidder(user, lot_id: int):
    """The bidder as they stand now, in one query: None if they no longer exist or were deactivated."""
    from bidcart.accounts.models import User

    sql, params = _bidder_sql(connection.vendor)
    actual = {_ANY_USER: user.pk, _ANY_LOT: int(lot_id)}
    found = list(User.objects.raw(sql, [actual.get(p, p) if isinstance(p, int) else p for p in params]))
    return found[0] if found else None


def _check_bidder(user, bidder, lot: Lot, now: datetime) -> None:
    if user.pk == lot.seller_id:
        raise Conflict(_("Sellers cannot bid on their own lots."), code="seller_cannot_bid")
    if bidder is None or not bidder.is_verified:
        raise Conflict(_("Verify your email address and phone number to bid."), code="not_verified")
    if bidder.active_strikes >= int(conf.get("AUCTION_STRIKES_TO_BLOCK")):
        until = selectors.blocked_until(bidder, now)
        if until is not None:
            raise Conflict(
                _("Bidding is blocked until %(until)s because of unpaid wins.")
                % {"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
                code="bidding_blocked",
            )


def _standing(user, bidder, lot: Lot, *, alias: int | None, my_max: int | None) -> dict:
    return {
        "my_max": my_max,
        "leading": lot.leader_id == user.pk,
        "alias": selectors.alias_label(alias),
        "watching": bool(bidder.watching) if bidder is not None else False,
        "is_seller": lot.seller_id == user.pk,
    }


LOT_FIELDS = [
    "current_price",
    "leader",
    "leader_max",
    "second_max",
    "bid_count",
    "leader_alias",
    "alias_count",
    "status",
    "seq",
    "ends_at",
    "updated_at",
]


def _write(bid: Bid, lot: Lot) -> None:
    """INSERT the bid and UPDATE the lot. On PostgreSQL one statement (a writable CTE), so the lock is held
    one round trip less; elsewhere the ORM's two."""
    if connection.vendor != "postgresql":
        bid.save(force_insert=True)
        lot.save(update_fields=LOT_FIELDS)
        return
    qn = connection.ops.quote_name
    inserted = [f for f in Bid._meta.concrete_fields if not f.primary_key]
    updated = [Lot._meta.get_field(name) for name in LOT_FIELDS]
    sql = (
        f"WITH new_bid AS (INSERT INTO {qn(Bid._meta.db_table)} ({', '.join(qn(f.column) for f in inserted)})"
        f" VALUES ({', '.join(['%s'] * len(inserted))}) RETURNING {qn(Bid._meta.pk.column)})"
        f" UPDATE {qn(Lot._meta.db_table)} SET {', '.join(f'{qn(f.column)} = %s' for f in updated)}"
        f" WHERE {qn(Lot._meta.pk.column)} = %s RETURNING (SELECT {qn(Bid._meta.pk.column)} FROM new_bid)"
    )
    params = [f.get_db_prep_save(getattr(bid, f.attname), connection) for f in inserted]
    params += [f.get_db_prep_save(getattr(lot, f.attname), connection) for f in updated] + [lot.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        bid.pk = cursor.fetchone()[0]
    bid._state.adding, bid._state.db = False, connection.alias


def place_bid(
    user, lot_id: int, max_amount, *, pay_with_saved_method: bool | None = None, address_id: int | None = None
) -> BidResult:
    """Offer a maximum. `pay_with_saved_method` (None: as before on this lot) and `address_id`: the bidder's
    choice to be charged automatically if they win (`autocharge`). Refusals raise a core.domain kind with a
    reason code: Conflict lot_not_live, lot_ended, seller_cannot_bid, not_verified, bidding_blocked,
    saved_method_required, bid_too_low, max_not_raised; Invalid invalid_amount, invalid_address; NotFound
    not_found; NotAuthenticated not_authenticated; Throttled rate_limited (RATE_LIMIT_BID, per user,
    whichever way the bid came: API, page, live room)."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("Log in to bid."), code="not_authenticated")
    ratelimit.hit("bid", user.pk)
    amount = parse_amount(max_amount)
    bidder = _bidder(user, lot_id)
    with transaction.atomic():
        lot = _lock(lot_id)
        if lot is None:
            raise _no_such_lot()
        now = timezone.now()  # after the lock: the server's clock decides, not the queue
        alias = bidder.lot_alias if bidder is not None else None
        try:
            _check_open(lot, now)
            _check_bidder(user, bidder, lot, now)
            autocharge.check_bidder(user, lot, pay_with_saved_method=pay_with_saved_method, address_id=address_id)
            rules, before = lot.rules(), lot.state()
            try:
                outcome = engine.apply_bid(rules, before, user.pk, amount)
            except engine.NotRaised as refused:
                raise Conflict(
                    _("Your new maximum must be above your current maximum of %(max)s.")
                    % {"max": format_money(before.leader_max, lot.currency)},
                    code="max_not_raised",
                ) from refused
            except engine.TooLow as refused:
                raise Conflict(
                    _("The minimum bid is %(min)s.") % {"min": format_money(refused.min_next_bid, lot.currency)},
                    code="bid_too_low",
                ) from refused
        except DomainError as refusal:
            # the answer's lot and standing, as they stood under the lock: nothing to read again
            my_max = lot.leader_max if lot.leader_id == user.pk else (bidder.lot_max if bidder is not None else None)
            refusal.lot, refusal.you = lot, _standing(user, bidder, lot, alias=alias, my_max=my_max)
            raise
        if alias is None:  # a first bid on this lot (or a chat line or another tab's bid took one meanwhile)
            alias = _alias(lot, user)
        autocharge.remember_choice(lot, user, pay_with_saved_method=pay_with_saved_method, address_id=address_id)
        after = outcome.state
        lot.current_price, lot.leader_id, lot.leader_max, lot.second_max, lot.bid_count = (
            after.price,
            after.leader,
            after.leader_max,
            after.second_max,
            after.bid_count,
        )
        if after.leader == user.pk:
            lot.leader_alias = alias
        if lot.status == Lot.Status.SCHEDULED:
            lot.status = Lot.Status.LIVE
        lot.seq += 1
        bid = Bid(
            lot=lot,
            bidder_id=user.pk,
            alias=alias,
            max_amount=amount,
            price_after=after.price,
            leading_after=outcome.leading,
            seq=lot.seq,
            created_at=now,
            announce_pending=True,
        )
        new_end = engine.soft_close_end(lot.ends_at, now, lot.soft_close_seconds)
        extended = new_end != lot.ends_at
        if extended:
            lot.ends_at = new_end
            lot.seq += 1
        lot.updated_at = now
        _write(bid, lot)
        state = selectors.lot_state(lot, now)
        announce.after_commit(
            announce.Announcement(
                bid_id=bid.pk,
                lot_id=lot.pk,
                state=state,
                seq=bid.seq,
                extended=extended,
                outbid_user=outcome.outbid,
                row=selectors.history_row(alias, after.price, outcome.leading, now, bid.seq, leader=lot.leader_alias),
            )
        )
    you = _standing(
        user, bidder, lot, alias=alias, my_max=max(amount, (bidder.lot_max or 0) if bidder is not None else 0)
    )
    return BidResult(lot=lot, bid=bid, leading=outcome.leading, my_max=amount, extended=extended, you=you)


def buy_now(user, lot_id: int) -> Win:
    """Buy the lot at its Buy It Now price (offered while nobody has bid, or while the reserve is
    unmet): the lot ends at once and the buyer gets an order to pay (charged to their saved card at once
    where the lot requires one)."""
    with transaction.atomic():
        lot = _lock(lot_id)
        if lot is None:
            raise _no_such_lot()
        now = timezone.now()
        _check_open(lot, now)
        _check_buyer(user, lot, now)
        autocharge.check_bidder(user, lot, pay_with_saved_method=None, address_id=None)
        if not lot.buy_now_available:
            raise Conflict(_("Buy It Now is no longer available for this lot."), code="buy_now_unavailable")
        return _close_as_sold(lot, user.pk, price=lot.buy_now_price, via=Lot.SoldVia.BUY_NOW, now=now)
