"""Every auction write: one function per use case, transactional.

The lot row is the lock. `place_bid`, `buy_now`, `close_lot`, `cancel_lot` and `relist` take it with
`select_for_update` (SQLite: the IMMEDIATE transaction is the lock) and decide on the server clock read
*after* the lock is held, so a bid that waited behind the closing sweep sees the lot closed and a bid
the sweep waited behind is already in the price. Each write bumps the lot's sequence number for every
live-room event it causes; the events are published after commit (`live.py`) and never block or fail
the write. Sweeps claim rows with `skip_locked` on PostgreSQL and re-check their condition under the
lock, so running two at once is safe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status as http

from bidcart.catalog.models import Category
from bidcart.core import images as pictures
from bidcart.core import numbers, ratelimit
from bidcart.core.money import format_money
from bidcart.core.errors import DomainError
from bidcart.core.locks import claim
from bidcart.core.mail import send_user_email
from bidcart.orders import services as order_services
from bidcart.orders.models import Kind as OrderKind
from bidcart.orders.models import PAID_STATUSES, Order, OrderEvent
from bidcart.orders.models import Status as OrderStatus

from . import conf, engine, live, protocol, selectors
from .models import (
    Bid, BidderAlias, ChatMessage, ChatMute, ChatReport, Lot, LotImage, Notice, SecondChanceOffer, Strike, Watch, Win,
)

log = logging.getLogger(__name__)

OPEN = (Lot.Status.SCHEDULED, Lot.Status.LIVE)


class AuctionError(DomainError):
    status_code = http.HTTP_409_CONFLICT
    code = "auction_error"


def _error(code: str, detail: str, status_code: int = http.HTTP_409_CONFLICT) -> AuctionError:
    return AuctionError(detail, code=code, status_code=status_code)


def _not_found() -> AuctionError:
    return _error("not_found", _("No such lot."), http.HTTP_404_NOT_FOUND)


def _lock(lot_id, *, skip_locked: bool = False, **filters) -> Lot | None:
    qs = Lot.objects.filter(pk=lot_id, **filters)
    if connection.features.has_select_for_update:
        if skip_locked and connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        else:
            qs = qs.select_for_update()
    return qs.first()


def _after_commit(func) -> None:
    """Run `func` after commit; an exception there is logged, never raised into the committed write."""
    transaction.on_commit(func, robust=True)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}" if getattr(settings, "SITE_URL", "") else path


def money(amount: int, currency: str) -> str:
    return format_money(amount, currency)


# --- lots -------------------------------------------------------------------------------------------

def _require_seller(user) -> None:
    if not (getattr(user, "is_authenticated", False) and user.can_sell):
        raise _error("not_a_seller", _("Only sellers can list lots."), http.HTTP_403_FORBIDDEN)
    if not user.is_verified:
        raise _error("not_verified", _("Verify your email address and phone number before listing a lot."), http.HTTP_403_FORBIDDEN)


def _invalid(code: str, detail: str) -> AuctionError:
    return _error(code, detail, http.HTTP_400_BAD_REQUEST)


def validate_terms(*, start_price, reserve_price, buy_now_price, starts_at: datetime, ends_at: datetime,
                   soft_close_seconds: int, now: datetime) -> None:
    if not isinstance(start_price, int) or start_price < 1:
        raise _invalid("start_price_invalid", _("The start price must be a whole amount of at least 1."))
    if reserve_price is not None and reserve_price < start_price:
        raise _invalid("reserve_below_start", _("The reserve price cannot be below the start price."))
    if buy_now_price is not None:
        percent = int(conf.get("AUCTION_BUY_NOW_MIN_PERCENT"))
        if buy_now_price * 100 < start_price * percent:
            raise _invalid(
                "buy_now_too_low",
                _("Buy It Now must be at least %(percent)d%% of the start price (%(min)s or more).")
                % {"percent": percent, "min": money(-(-start_price * percent // 100), "KRW")},
            )
        if reserve_price is not None and reserve_price > buy_now_price:
            raise _invalid("reserve_above_buy_now", _("The reserve price cannot be above the Buy It Now price."))
    if ends_at <= starts_at:
        raise _invalid("ends_before_start", _("The end must be after the start."))
    if ends_at <= now:
        raise _invalid("ends_in_past", _("The end must be in the future."))
    if ends_at - max(starts_at, now) > timedelta(days=int(conf.get("AUCTION_MAX_DURATION_DAYS"))):
        raise _invalid("too_long", _("A lot can run for at most %(days)d days.") % {"days": conf.get("AUCTION_MAX_DURATION_DAYS")})
    if soft_close_seconds < 0 or soft_close_seconds > 3600:
        raise _invalid("soft_close_invalid", _("The soft-close window must be between 0 and 3,600 seconds."))


def create_lot(seller, *, title: str, category: Category, start_price: int, ends_at: datetime, description: str = "",
               reserve_price: int | None = None, buy_now_price: int | None = None, starts_at: datetime | None = None,
               soft_close_seconds: int | None = None, currency: str = "KRW", images=()) -> Lot:
    """List a lot. It is live at once when `starts_at` is now or past (or not given), scheduled otherwise.
    Its images go through the same checks and re-encoding as product images (core/images.py): every file
    is checked before anything is stored, and a refusal stores nothing."""
    _require_seller(seller)
    now = timezone.now()
    starts_at = starts_at or now
    title = (title or "").strip()
    if not title:
        raise _invalid("title_required", _("A lot needs a title."))
    currency = (currency or "KRW").upper()
    if currency not in conf.get("AUCTION_CURRENCIES"):
        raise _invalid("currency_unsupported", _("Lots can only be listed in %(list)s.") % {"list": ", ".join(conf.get("AUCTION_CURRENCIES"))})
    soft_close_seconds = conf.soft_close() if soft_close_seconds is None else int(soft_close_seconds)
    validate_terms(start_price=start_price, reserve_price=reserve_price, buy_now_price=buy_now_price, starts_at=starts_at,
                   ends_at=ends_at, soft_close_seconds=soft_close_seconds, now=now)
    images = list(images)
    if len(images) > int(conf.get("AUCTION_MAX_IMAGES")):
        raise _invalid("too_many_images", _("At most %(n)d images.") % {"n": conf.get("AUCTION_MAX_IMAGES")})
    extensions = [pictures.check(upload) for upload in images]
    table = engine.validate_table(conf.increment_table(currency))
    stored = []
    try:
        for upload, extension in zip(images, extensions):
            stored.append(pictures.store(upload, "lots", extension))
        with transaction.atomic():
            lot = Lot.objects.create(
                seller=seller, title=title[:200], description=description or "", category=category, currency=currency,
                start_price=start_price, reserve_price=reserve_price, buy_now_price=buy_now_price,
                starts_at=starts_at, ends_at=ends_at, scheduled_end=ends_at, soft_close_seconds=soft_close_seconds,
                increment_table=[list(row) for row in table],
                status=Lot.Status.LIVE if starts_at <= now else Lot.Status.SCHEDULED,
            )
            LotImage.objects.bulk_create([
                LotImage(lot=lot, image=p.name, width=p.width, height=p.height, position=position, alt=title[:200])
                for position, p in enumerate(stored)
            ])
    except BaseException:
        pictures.delete([p.name for p in stored])  # nothing listed: no files left behind
        raise
    return lot


# --- rules shared by bids and Buy It Now ------------------------------------------------------------

def _check_open(lot: Lot, now: datetime) -> None:
    if lot.status == Lot.Status.CANCELLED:
        raise _error("lot_not_live", _("This lot was cancelled."))
    if lot.status not in OPEN or now >= lot.ends_at:
        raise _error("lot_ended", _("This auction has ended."))
    if now < lot.starts_at:
        raise _error("lot_not_live", _("This auction has not started yet."))


def _check_buyer(user, lot: Lot, now: datetime) -> None:
    from bidcart.accounts.models import User

    if user.pk == lot.seller_id:
        raise _error("seller_cannot_bid", _("Sellers cannot bid on their own lots."))
    user = User.objects.filter(pk=user.pk, is_active=True).first()  # fresh: a socket's user object can be hours old
    if user is None or not user.is_verified:
        raise _error("not_verified", _("Verify your email address and phone number to bid."))
    until = selectors.blocked_until(user, now)
    if until is not None:
        raise _error(
            "bidding_blocked",
            _("Bidding is blocked until %(until)s because of unpaid wins.")
            % {"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
        )


def parse_amount(value) -> int:
    """A whole positive amount in minor units, read by core.numbers (ASCII digits, within MAX_AMOUNT);
    400 invalid_amount otherwise, whichever way the bid came (API, page, live room)."""
    try:
        return numbers.parse_amount(value)
    except numbers.InvalidNumber:
        raise _invalid("invalid_amount", _("Enter the amount as a whole number of won.")) from None


def _alias(lot: Lot, user) -> int:
    """The user's per-lot alias number; a new one takes the next number. The caller holds the lot lock
    and saves `alias_count`."""
    number = BidderAlias.objects.filter(lot=lot, user=user).values_list("number", flat=True).first()
    if number is None:
        lot.alias_count += 1
        number = lot.alias_count
        BidderAlias.objects.create(lot=lot, user=user, number=number)
    return number


# --- bids -------------------------------------------------------------------------------------------

@dataclass
class BidResult:
    lot: Lot
    bid: Bid
    leading: bool
    my_max: int
    extended: bool


def place_bid(user, lot_id: int, max_amount) -> BidResult:
    """Offer a maximum. Refusals raise AuctionError with a reason code: 409 lot_not_live, lot_ended,
    seller_cannot_bid, not_verified, bidding_blocked, bid_too_low, max_not_raised; 400 invalid_amount;
    404 not_found; 429 rate_limited (RATE_LIMIT_BID, per user, whichever way the bid came)."""
    ratelimit.hit("bid", user.pk)
    amount = parse_amount(max_amount)
    with transaction.atomic():
        lot = _lock(lot_id)
        if lot is None:
            raise _not_found()
        now = timezone.now()  # after the lock: the server's clock decides, not the queue
        _check_open(lot, now)
        _check_buyer(user, lot, now)
        rules, before = lot.rules(), lot.state()
        try:
            outcome = engine.apply_bid(rules, before, user.pk, amount)
        except engine.NotRaised as refused:
            raise _error("max_not_raised", _("Your new maximum must be above your current maximum of %(max)s.")
                         % {"max": money(before.leader_max, lot.currency)}) from refused
        except engine.TooLow as refused:
            raise _error("bid_too_low", _("The minimum bid is %(min)s.") % {"min": money(refused.min_next_bid, lot.currency)}) from refused
        alias = _alias(lot, user)
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


# --- Buy It Now and closing ---------------------------------------------------------------------------

def _close_as_sold(lot: Lot, buyer_id: int, *, price: int, via: str, now: datetime) -> Win:
    """Inside the caller's transaction, holding the lot lock: the lot is sold, the buyer's order is
    written with its payment deadline, and the room, the buyer and the seller hear of it after commit."""
    from bidcart.accounts.models import User
    from bidcart.orders.services import NewLine

    buyer = User.objects.get(pk=buyer_id)
    order = order_services.create_order(
        buyer, kind=OrderKind.AUCTION, currency=lot.currency, shipping=int(conf.get("AUCTION_SHIPPING_FEE")),
        payment_due_at=now + conf.payment_window(), address=None, now=now,
        lines=[NewLine(product_name=lot.title, unit_price=price, quantity=1, seller_id=lot.seller_id, sku=f"LOT-{lot.pk}")],
    )
    win = Win.objects.create(
        lot=lot, user=buyer, order=order, price=price, created_at=now,
        kind=Win.Kind.BUY_NOW if via == Lot.SoldVia.BUY_NOW else Win.Kind.AUCTION,
    )
    lot.status, lot.final_price, lot.closed_at, lot.sold_via = Lot.Status.SOLD, price, now, via
    if via == Lot.SoldVia.BUY_NOW:
        lot.ends_at = max(now, lot.starts_at + timedelta(microseconds=1))
    lot.seq += 1
    lot.save(update_fields=["status", "final_price", "closed_at", "sold_via", "ends_at", "seq", "updated_at"])
    state = selectors.lot_state(lot, now)
    lot_id, win_id, seller_id = lot.pk, win.pk, lot.seller_id
    notify(buyer_id, lot_id, Notice.Kind.WON, price=price, currency=lot.currency, order=order.number)
    notify(seller_id, lot_id, Notice.Kind.SOLD, price=price, currency=lot.currency)
    _after_commit(lambda: live.publish(lot_id, protocol.ended(state, winner=True)))
    _after_commit(lambda: _email_winner(win_id))
    return win


def _email_winner(win_id: int) -> None:
    win = Win.objects.select_related("lot", "order", "user").get(pk=win_id)
    url = reverse("orders:detail", args=[win.order.number])
    context = {"win": win, "lot": win.lot, "order": win.order, "order_url": absolute(url), "price": money(win.price, win.lot.currency)}
    send_user_email(win.user, "auctions/email/won", context)


def buy_now(user, lot_id: int) -> Win:
    """Buy the lot at its Buy It Now price (offered while nobody has bid, or while the reserve is
    unmet): the lot ends at once and the buyer gets an order to pay."""
    with transaction.atomic():
        lot = _lock(lot_id)
        if lot is None:
            raise _not_found()
        now = timezone.now()
        _check_open(lot, now)
        _check_buyer(user, lot, now)
        if not lot.buy_now_available:
            raise _error("buy_now_unavailable", _("Buy It Now is no longer available for this lot."))
        return _close_as_sold(lot, user.pk, price=lot.buy_now_price, via=Lot.SoldVia.BUY_NOW, now=now)


def close_lot(lot_id: int) -> str | None:
    """Finalise one lot past its end: sold to the leader at the current price when the reserve is met,
    unsold otherwise. Answers the new status, or None when there is nothing to do (still open after a
    soft-close extension, already closed, or claimed by another sweep right now)."""
    with transaction.atomic():
        lot = _lock(lot_id, skip_locked=True, status__in=OPEN)
        if lot is None:
            return None
        now = timezone.now()
        if now < lot.ends_at:
            return None
        if lot.leader_id is not None and lot.reserve_met:
            _close_as_sold(lot, lot.leader_id, price=lot.current_price, via=Lot.SoldVia.AUCTION, now=now)
            return Lot.Status.SOLD
        lot.status, lot.closed_at = Lot.Status.UNSOLD, now
        lot.seq += 1
        lot.save(update_fields=["status", "closed_at", "seq", "updated_at"])
        state = selectors.lot_state(lot, now)
        lot_pk, seller_id, leader_id = lot.pk, lot.seller_id, lot.leader_id
        notify(seller_id, lot_pk, Notice.Kind.UNSOLD, reserve=lot.has_reserve and leader_id is not None)
        _after_commit(lambda: live.publish(lot_pk, protocol.ended(state, winner=False)))
        return Lot.Status.UNSOLD


def close_ended_lots(batch: int = 100) -> int:
    """The closing sweep: every open lot past its end, one transaction each."""
    due = list(
        Lot.objects.filter(status__in=OPEN, ends_at__lte=timezone.now()).order_by("ends_at").values_list("pk", flat=True)[:batch]
    )
    return sum(1 for pk in due if close_lot(pk))


def start_scheduled_lots(batch: int = 100) -> int:
    """Scheduled lots whose start has come become live (bids don't wait for this: `place_bid` goes by
    the clock); the room hears it."""
    now = timezone.now()
    due = list(
        Lot.objects.filter(status=Lot.Status.SCHEDULED, starts_at__lte=now, ends_at__gt=now).values_list("pk", flat=True)[:batch]
    )
    started = 0
    for pk in due:
        with transaction.atomic():
            lot = _lock(pk, skip_locked=True, status=Lot.Status.SCHEDULED)
            if lot is None:
                continue
            lot.status = Lot.Status.LIVE
            lot.seq += 1
            lot.save(update_fields=["status", "seq", "updated_at"])
            state = selectors.lot_state(lot)
            _after_commit(lambda pk=pk, state=state: live.publish(pk, protocol.started(state)))
            started += 1
    return started


def cancel_lot(actor, lot_id: int, reason: str) -> Lot:
    """Staff cancel an open lot with a reason; a seller may cancel their own lot while nobody has bid."""
    reason = (reason or "").strip()[:500]
    with transaction.atomic():
        lot = _lock(lot_id)
        if lot is None:
            raise _not_found()
        if not actor.is_staff:
            if lot.seller_id != actor.pk:
                raise _not_found()
            if lot.bid_count:
                raise _error("lot_has_bids", _("A lot with bids can only be cancelled by staff."))
        if not reason:
            if actor.is_staff:
                raise _invalid("reason_required", _("Give a reason for cancelling."))
            reason = _("Withdrawn by the seller.")
        if lot.status not in OPEN:
            raise _error("lot_ended", _("Only a lot that has not closed can be cancelled."))
        now = timezone.now()
        lot.status, lot.cancel_reason, lot.cancelled_by, lot.closed_at = Lot.Status.CANCELLED, reason, actor, now
        lot.seq += 1
        lot.save(update_fields=["status", "cancel_reason", "cancelled_by", "closed_at", "seq", "updated_at"])
        state = selectors.lot_state(lot, now)
        lot_pk = lot.pk
        people = set(Bid.objects.filter(lot=lot).values_list("bidder_id", flat=True)) | set(
            Watch.objects.filter(lot=lot).values_list("user_id", flat=True)
        )
        Notice.objects.bulk_create([Notice(user_id=uid, lot_id=lot_pk, kind=Notice.Kind.CANCELLED, data={"reason": reason})
                                    for uid in sorted(people)])
        _after_commit(lambda: live.publish(lot_pk, protocol.ended(state, winner=False, reason=reason)))
    return lot


# --- after closing: payment, strikes, second chance, relist -------------------------------------------

LAPSED_STATUSES = {OrderStatus.EXPIRED, OrderStatus.CANCELLED}


def settle_wins(batch: int = 100) -> int:
    """Follow each win's order: paid → the win is paid; expired or cancelled by the buyer → a strike
    for the buyer and, for an auction win, a second-chance offer to the runner-up (else the seller may
    relist). The orders app's expiry sweep expires unpaid orders; this one reacts."""
    due = list(
        Win.objects.filter(status=Win.Status.AWAITING_PAYMENT, order__status__in=PAID_STATUSES | LAPSED_STATUSES)
        .values_list("pk", flat=True)[:batch]
    )
    done = 0
    for pk in due:
        with transaction.atomic():
            win = claim(Win.objects.filter(pk=pk, status=Win.Status.AWAITING_PAYMENT), of=("self",)).select_related("order", "lot").first()
            if win is None:
                continue
            now = timezone.now()
            if win.order.status in PAID_STATUSES:
                Win.objects.filter(pk=pk).update(status=Win.Status.PAID, settled_at=now)
            elif win.order.status in LAPSED_STATUSES:
                Win.objects.filter(pk=pk).update(status=Win.Status.UNPAID, settled_at=now)
                _lapse(win, now)
            else:
                continue
            done += 1
    return done


def _cancelled_by_someone_else(order: Order) -> bool:
    event = OrderEvent.objects.filter(order=order, to_status=OrderStatus.CANCELLED).order_by("-id").first()
    return event is not None and event.actor_id is not None and event.actor_id != order.user_id


def _lapse(win: Win, now: datetime) -> None:
    lot = win.lot
    if not (win.order.status == OrderStatus.CANCELLED and _cancelled_by_someone_else(win.order)):
        Strike.objects.create(user=win.user, win=win, reason=_("Did not pay for %(title)s") % {"title": lot.title}, created_at=now)
        notify(win.user_id, lot.pk, Notice.Kind.STRIKE, order=win.order.number)
    notify(lot.seller_id, lot.pk, Notice.Kind.UNPAID, order=win.order.number)
    offer = _offer_second_chance(lot, now) if win.kind == Win.Kind.AUCTION else None
    if offer is None:
        notify(lot.seller_id, lot.pk, Notice.Kind.RELIST)


def runner_up(lot: Lot) -> tuple[int, int] | None:
    """(user id, their maximum) of the best bidder who has not won or been offered this lot yet:
    highest maximum, earliest on ties."""
    excluded = set(Win.objects.filter(lot=lot).values_list("user_id", flat=True)) | set(
        SecondChanceOffer.objects.filter(lot=lot).values_list("user_id", flat=True)
    )
    for bidder_id, amount in Bid.objects.filter(lot=lot).order_by("-max_amount", "id").values_list("bidder_id", "max_amount"):
        if bidder_id not in excluded:
            return bidder_id, amount
    return None


def _offer_second_chance(lot: Lot, now: datetime) -> SecondChanceOffer | None:
    from bidcart.accounts.models import User

    found = runner_up(lot)
    if found is None:
        return None
    user_id, price = found
    if lot.reserve_price is not None and price < lot.reserve_price:
        return None  # below the seller's reserve: the seller decides (relist)
    user = User.objects.get(pk=user_id)
    if not user.is_active or selectors.blocked_until(user, now) is not None:
        return None
    offer = SecondChanceOffer.objects.create(lot=lot, user=user, price=price, created_at=now, expires_at=now + conf.second_chance_window())
    notify(user.pk, lot.pk, Notice.Kind.SECOND_CHANCE, price=price, currency=lot.currency, offer=offer.pk)
    offer_id = offer.pk
    _after_commit(lambda: _email_runner_up(offer_id))
    return offer


def _email_runner_up(offer_id: int) -> None:
    offer = SecondChanceOffer.objects.select_related("lot", "user").get(pk=offer_id)
    context = {"offer": offer, "lot": offer.lot, "price": money(offer.price, offer.lot.currency), "url": absolute(reverse("auctions:mine"))}
    send_user_email(offer.user, "auctions/email/second_chance", context)


def _own_offer(user, offer_id: int) -> SecondChanceOffer:
    qs = SecondChanceOffer.objects.filter(pk=offer_id, user=user)
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()
    offer = qs.select_related("lot").first()
    if offer is None:
        raise _error("not_found", _("No such offer."), http.HTTP_404_NOT_FOUND)
    return offer


def accept_offer(user, offer_id: int) -> Win:
    """The runner-up buys the lot at their own maximum: a new auction order with its own deadline."""
    with transaction.atomic():
        offer = _own_offer(user, offer_id)
        now = timezone.now()
        if offer.status != SecondChanceOffer.Status.OPEN:
            raise _error("offer_closed", _("This offer is no longer open."))
        if now >= offer.expires_at:
            raise _error("offer_expired", _("This offer has expired."))
        until = selectors.blocked_until(user, now)
        if until is not None:
            raise _error("bidding_blocked", _("Buying at auction is blocked for you until %(until)s.")
                         % {"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")})
        from bidcart.orders.services import NewLine

        lot = offer.lot
        order = order_services.create_order(
            user, kind=OrderKind.AUCTION, currency=lot.currency, shipping=int(conf.get("AUCTION_SHIPPING_FEE")),
            payment_due_at=now + conf.payment_window(), address=None, now=now,
            lines=[NewLine(product_name=lot.title, unit_price=offer.price, quantity=1, seller_id=lot.seller_id, sku=f"LOT-{lot.pk}")],
        )
        win = Win.objects.create(lot=lot, user=user, order=order, price=offer.price, kind=Win.Kind.SECOND_CHANCE, created_at=now)
        offer.status, offer.responded_at, offer.win = SecondChanceOffer.Status.ACCEPTED, now, win
        offer.save(update_fields=["status", "responded_at", "win"])
        notify(lot.seller_id, lot.pk, Notice.Kind.SOLD, price=offer.price, currency=lot.currency, second_chance=True)
    return win


def decline_offer(user, offer_id: int) -> SecondChanceOffer:
    with transaction.atomic():
        offer = _own_offer(user, offer_id)
        if offer.status != SecondChanceOffer.Status.OPEN:
            raise _error("offer_closed", _("This offer is no longer open."))
        offer.status, offer.responded_at = SecondChanceOffer.Status.DECLINED, timezone.now()
        offer.save(update_fields=["status", "responded_at"])
        notify(offer.lot.seller_id, offer.lot_id, Notice.Kind.RELIST)
    return offer


def expire_offers(batch: int = 100) -> int:
    now = timezone.now()
    due = list(SecondChanceOffer.objects.filter(status=SecondChanceOffer.Status.OPEN, expires_at__lte=now)
               .values_list("pk", "lot_id", "lot__seller_id")[:batch])
    expired = 0
    for pk, lot_id, seller_id in due:
        if SecondChanceOffer.objects.filter(pk=pk, status=SecondChanceOffer.Status.OPEN).update(
            status=SecondChanceOffer.Status.EXPIRED, responded_at=now
        ):
            notify(seller_id, lot_id, Notice.Kind.RELIST)
            expired += 1
    return expired


def can_relist(lot: Lot) -> bool:
    """Unsold, or sold but nobody paid and no second-chance offer is pending; relisted only once."""
    if lot.status not in (Lot.Status.SOLD, Lot.Status.UNSOLD) or lot.relists.exists():
        return False
    if lot.wins.filter(status__in=[Win.Status.AWAITING_PAYMENT, Win.Status.PAID]).exists():
        return False
    return not lot.second_chance_offers.filter(status=SecondChanceOffer.Status.OPEN).exists()


def relist(seller, lot_id: int) -> Lot:
    """One click: a copy of the lot goes live now for as long as the original ran."""
    with transaction.atomic():
        lot = _lock(lot_id)
        if lot is None or (lot.seller_id != seller.pk and not seller.is_staff):
            raise _not_found()
        if not can_relist(lot):
            raise _error("relist_unavailable", _("This lot cannot be relisted now."))
        now = timezone.now()
        duration = max(lot.scheduled_end - lot.starts_at, timedelta(minutes=10))
        copy = Lot.objects.create(
            seller=lot.seller, title=lot.title, description=lot.description, category=lot.category, currency=lot.currency,
            start_price=lot.start_price, reserve_price=lot.reserve_price, buy_now_price=lot.buy_now_price,
            starts_at=now, ends_at=now + duration, scheduled_end=now + duration, soft_close_seconds=lot.soft_close_seconds,
            increment_table=lot.increment_table, status=Lot.Status.LIVE, relisted_from=lot,
        )
        LotImage.objects.bulk_create(
            [LotImage(lot=copy, image=i.image.name, width=i.width, height=i.height, alt=i.alt, position=i.position)
             for i in lot.images.all()]
        )
    return copy


# --- watchlist and notices ---------------------------------------------------------------------------

def watch(user, lot_id: int) -> bool:
    if not Lot.objects.filter(pk=lot_id).exists():
        raise _not_found()
    try:
        with transaction.atomic():
            Watch.objects.create(user=user, lot_id=lot_id)
    except IntegrityError:
        pass
    return True


def unwatch(user, lot_id: int) -> bool:
    Watch.objects.filter(user=user, lot_id=lot_id).delete()
    return False


def notify(user_id: int, lot_id: int | None, kind: str, **data) -> Notice:
    return Notice.objects.create(user_id=user_id, lot_id=lot_id, kind=kind, data=data)


def mark_notices_read(user) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def send_ending_soon(batch: int = 100) -> int:
    """Watchers hear AUCTION_ENDING_SOON_MINUTES before the end, once per lot."""
    now = timezone.now()
    lead = timedelta(minutes=int(conf.get("AUCTION_ENDING_SOON_MINUTES")))
    due = list(Lot.objects.filter(status__in=OPEN, ending_soon_sent=False, starts_at__lte=now, ends_at__gt=now,
                                  ends_at__lte=now + lead).values_list("pk", flat=True)[:batch])
    sent = 0
    for pk in due:
        with transaction.atomic():
            if not Lot.objects.filter(pk=pk, ending_soon_sent=False).update(ending_soon_sent=True):
                continue  # another sweep took it
            users = Watch.objects.filter(lot_id=pk).values_list("user_id", flat=True)
            Notice.objects.bulk_create([Notice(user_id=u, lot_id=pk, kind=Notice.Kind.ENDING_SOON) for u in users])
            sent += 1
    return sent


def email_notices(batch: int = 100) -> int:
    """The notices of AUCTION_EMAIL_NOTICES (outbid, ending soon) also go out by email: once per notice, from
    a sweep rather than the bid's request. An outbid notice waits AUCTION_OUTBID_EMAIL_DELAY_SECONDS after the
    latest outbid, and none is sent if by then it was read, its bidder leads again or the lot is over."""
    now = timezone.now()
    delay = timedelta(seconds=int(conf.get("AUCTION_OUTBID_EMAIL_DELAY_SECONDS")))
    due = list(
        Notice.objects.filter(kind__in=list(conf.get("AUCTION_EMAIL_NOTICES")), emailed_at__isnull=True, read_at__isnull=True)
        .exclude(kind=Notice.Kind.OUTBID, created_at__gt=now - delay)
        .select_related("user", "lot").order_by("created_at")[:batch]
    )
    sent = 0
    for notice in due:
        if not Notice.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(emailed_at=now):
            continue  # another sweep took it
        lot = notice.lot
        if lot is None or lot.status not in OPEN or lot.ends_at <= now:
            continue
        if notice.kind == Notice.Kind.OUTBID:
            if lot.leader_id == notice.user_id:
                continue
            notice.data = {"price": lot.current_price, "currency": lot.currency}  # the price as it stands now
        url = absolute(reverse("auctions:lot", args=[lot.pk]))
        sent += send_user_email(notice.user, "auctions/email/notice", {"notice": notice, "lot": lot, "url": url})
    return sent


# --- chat ---------------------------------------------------------------------------------------------

def post_message(user, lot_id: int, text) -> ChatMessage:
    """A chat line in the lot's room, from a logged-in user who isn't muted there, within the length and
    rate limits, while the lot is open."""
    if not getattr(user, "is_authenticated", False):
        raise _error("not_authenticated", _("Log in to chat."), http.HTTP_401_UNAUTHORIZED)
    text = " ".join(str(text or "").split()) if not isinstance(text, (dict, list)) else ""
    limit = int(conf.get("AUCTION_CHAT_MAX_LENGTH"))
    if not text:
        raise _invalid("message_empty", _("Write a message first."))
    if len(text) > limit:
        raise _invalid("message_too_long", _("A message can have at most %(n)d characters.") % {"n": limit})
    lot = Lot.objects.filter(pk=lot_id).first()
    if lot is None:
        raise _not_found()
    if lot.status not in OPEN or timezone.now() >= lot.ends_at:
        raise _error("chat_closed", _("The chat closes when the auction ends."))
    if ChatMute.objects.filter(lot=lot, user=user).exists():
        raise _error("chat_muted", _("You have been muted in this room."), http.HTTP_403_FORBIDDEN)
    ratelimit.hit("chat", f"{lot.pk}:{user.pk}")  # RATE_LIMIT_CHAT, per user and room
    role = ChatMessage.Role.SELLER if user.pk == lot.seller_id else ChatMessage.Role.STAFF if user.is_staff else ChatMessage.Role.BIDDER
    with transaction.atomic():
        lot = _lock(lot.pk)
        alias = _alias(lot, user) if role == ChatMessage.Role.BIDDER else None
        lot.seq += 1
        lot.save(update_fields=["seq", "alias_count"])
        message = ChatMessage.objects.create(lot=lot, user=user, alias=alias, role=role, text=text, seq=lot.seq)
        row = selectors.chat_row(message)
        _after_commit(lambda: live.publish(lot.pk, protocol.chat(row)))
    return message


def _message_id(value) -> int:
    try:
        return numbers.parse_id(value)
    except numbers.InvalidNumber:
        raise _invalid("invalid_message", _("Invalid message.")) from None


def report_message(user, lot_id: int, message_id: int, reason: str) -> ChatReport:
    """Report a visible message of this lot's room (a message of another room is "no such message", whichever
    way the report came: the API's URL names the lot, the socket is joined to one)."""
    message_id = _message_id(message_id)
    if reason not in ChatReport.Reason.values:
        raise _invalid("reason_invalid", _("Choose profanity, advertisement or spam."))
    message = ChatMessage.objects.filter(pk=message_id, lot_id=lot_id, hidden_at__isnull=True).first()
    if message is None:
        raise _error("not_found", _("No such message."), http.HTTP_404_NOT_FOUND)
    if message.user_id == user.pk:
        raise _invalid("own_message", _("You cannot report your own message."))
    report, _created = ChatReport.objects.get_or_create(message=message, reporter=user, defaults={"reason": reason})
    return report


def _require_staff(user) -> None:
    if not getattr(user, "is_staff", False):
        raise _error("not_staff", _("Only staff can moderate the chat."), http.HTTP_403_FORBIDDEN)


def hide_message(staff, message_id: int) -> ChatMessage:
    _require_staff(staff)
    message_id = _message_id(message_id)
    with transaction.atomic():
        message = ChatMessage.objects.filter(pk=message_id).first()
        if message is None:
            raise _error("not_found", _("No such message."), http.HTTP_404_NOT_FOUND)
        lot = _lock(message.lot_id)
        now = timezone.now()
        if not ChatMessage.objects.filter(pk=message.pk, hidden_at__isnull=True).update(hidden_at=now, hidden_by=staff):
            return message
        ChatReport.objects.filter(message=message, handled_at__isnull=True).update(handled_at=now)
        lot.seq += 1
        lot.save(update_fields=["seq"])
        seq, lot_pk, pk = lot.seq, lot.pk, message.pk
        _after_commit(lambda: live.publish(lot_pk, protocol.chat_hidden(seq, pk)))
    message.refresh_from_db()
    return message


def mute_user(staff, lot_id: int, user_id: int, reason: str = "") -> ChatMute:
    _require_staff(staff)
    mute, _created = ChatMute.objects.get_or_create(lot_id=lot_id, user_id=user_id, defaults={"created_by": staff, "reason": reason[:200]})
    return mute


def lift_strike(staff, strike: Strike) -> Strike:
    _require_staff(staff)
    Strike.objects.filter(pk=strike.pk, lifted_at__isnull=True).update(lifted_at=timezone.now(), lifted_by=staff)
    strike.refresh_from_db()
    return strike
