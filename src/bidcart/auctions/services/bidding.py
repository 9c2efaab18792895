"""Bids and Buy It Now: the rules a buyer meets at an open lot, the engine under the lot lock, the room's
events after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.core import numbers, ratelimit
from bidcart.core.domain import Conflict, Invalid, NotAuthenticated
from bidcart.core.money import format_money

from .. import engine, live, protocol, selectors
from ..models import Bid, Lot, Notice, Win
from . import autocharge
from .base import OPEN, _after_commit, _alias, _lock, _no_such_lot
from .closing import _close_as_sold
from .notices import notify


def _check_open(lot: Lot, now: datetime) -> None:
    if lot.status == Lot.Status.CANCELLED:
        raise Conflict(_("This lot was cancelled."), code="lot_not_live")
    if lot.status not in OPEN or now >= lot.ends_at:
        raise Conflict(_("This auction has ended."), code="lot_ended")
    if now < lot.starts_at:
        raise Conflict(_("This auction has not started yet."), code="lot_not_live")


def _check_buyer(user, lot: Lot, now: datetime) -> None:
    from bidcart.accounts.models import User

    if user.pk == lot.seller_id:
        raise Conflict(_("Sellers cannot bid on their own lots."), code="seller_cannot_bid")
    user = User.objects.filter(pk=user.pk, is_active=True).first()  # fresh: a socket's user object can be hours old
    if user is None or not user.is_verified:
        raise Conflict(_("Verify your email address and phone number to bid."), code="not_verified")
    until = selectors.blocked_until(user, now)
    if until is not None:
        raise Conflict(_("Bidding is blocked until %(until)s because of unpaid wins.")
                       % {"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")}, code="bidding_blocked")


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


def place_bid(user, lot_id: int, max_amount, *, pay_with_saved_method: bool | None = None,
              address_id: int | None = None) -> BidResult:
    """Offer a maximum. `pay_with_saved_method` (None: as before on this lot) and `address_id`: the bidder's
    choice to be charged automatically if they win (`autocharge`). Refusals raise a core.domain kind with a
    reason code: Conflict lot_not_live, lot_ended, seller_cannot_bid, not_verified, bidding_blocked,
    saved_method_required, bid_too_low, max_not_raised; Invalid invalid_amount, invalid_address; NotFound
    not_found; NotAuthenticated not_authenticated; Throttled rate_limited (RATE_LIMIT_BID, per user,
    whichever way the bid came)."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("Log in to bid."), code="not_authenticated")
    ratelimit.hit("bid", user.pk)
    amount = parse_amount(max_amount)
    with transaction.atomic():
        lot = _lock(lot_id)
        if lot is None:
            raise _no_such_lot()
        now = timezone.now()  # after the lock: the server's clock decides, not the queue
        _check_open(lot, now)
        _check_buyer(user, lot, now)
        autocharge.check_bidder(user, lot, pay_with_saved_method=pay_with_saved_method, address_id=address_id)
        rules, before = lot.rules(), lot.state()
        try:
            outcome = engine.apply_bid(rules, before, user.pk, amount)
        except engine.NotRaised as refused:
            raise Conflict(_("Your new maximum must be above your current maximum of %(max)s.")
                           % {"max": format_money(before.leader_max, lot.currency)}, code="max_not_raised") from refused
        except engine.TooLow as refused:
            raise Conflict(_("The minimum bid is %(min)s.") % {"min": format_money(refused.min_next_bid, lot.currency)},
                           code="bid_too_low") from refused
        alias = _alias(lot, user)
        autocharge.remember_choice(lot, user, pay_with_saved_method=pay_with_saved_method, address_id=address_id)
        after = outcome.state
        lot.current_price, lot.leader_id, lot.leader_max, lot.second_max, lot.bid_count = (
            after.price, after.leader, after.leader_max, after.second_max, after.bid_count,
        )
        if after.leader == user.pk:
            lot.leader_alias = alias
        if lot.status == Lot.Status.SCHEDULED:
            lot.status = Lot.Status.LIVE
        lot.seq += 1
        bid = Bid.objects.create(
            lot=lot, bidder=user, alias=alias, max_amount=amount, price_after=after.price,
            leading_after=outcome.leading, seq=lot.seq, created_at=now,
        )
        new_end = engine.soft_close_end(lot.ends_at, now, lot.soft_close_seconds)
        extended = new_end != lot.ends_at
        if extended:
            lot.ends_at = new_end
            lot.seq += 1
        lot.save(update_fields=[
            "current_price", "leader", "leader_max", "second_max", "bid_count", "leader_alias", "alias_count",
            "status", "seq", "ends_at", "updated_at",
        ])
        state = selectors.lot_state(lot, now)
        row = selectors.history_row(alias, after.price, outcome.leading, now, bid.seq, leader=lot.leader_alias)
        outbid_user = outcome.outbid
        lot_pk, bid_seq = lot.pk, bid.seq
        _after_commit(lambda: _announce_bid(lot_pk, state, row, bid_seq, extended, outbid_user))
    return BidResult(lot=lot, bid=bid, leading=outcome.leading, my_max=amount, extended=extended)


def _announce_bid(lot_id: int, state: dict, row: dict, bid_seq: int, extended: bool, outbid_user: int | None) -> None:
    live.publish(lot_id, protocol.bid(state, row, bid_seq))
    if extended:
        live.publish(lot_id, protocol.extended(state, bid_seq + 1))
    if outbid_user is not None:
        live.publish_to_user(lot_id, outbid_user, protocol.outbid(state, bid_seq))
        # one unread outbid notice per lot: a bidding war doesn't flood the inbox
        updated = Notice.objects.filter(user_id=outbid_user, lot_id=lot_id, kind=Notice.Kind.OUTBID, read_at__isnull=True).update(
            data={"price": state["current_price"], "currency": state["currency"]}, created_at=timezone.now(),
        )
        if not updated:
            notify(outbid_user, lot_id, Notice.Kind.OUTBID, price=state["current_price"], currency=state["currency"])


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
