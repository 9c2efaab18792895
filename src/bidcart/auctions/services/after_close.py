"""After a lot closes: following the winner's payment, strikes for unpaid wins, second-chance offers to the
runner-up, relisting."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.core.domain import Conflict, NotFound
from bidcart.core.locks import claim, locked
from bidcart.core.mail import send_user_email
from bidcart.core.money import format_money
from bidcart.core.site import absolute_url
from bidcart.orders.models import PAID_STATUSES, Order, OrderEvent
from bidcart.orders.models import Status as OrderStatus

from .. import conf, selectors
from ..models import Bid, Lot, LotImage, Notice, SecondChanceOffer, Strike, Win
from .base import _after_commit, _lock, _no_such_lot, _require_staff
from .closing import award
from .notices import notify

LAPSED_STATUSES = {OrderStatus.EXPIRED, OrderStatus.CANCELLED}


def settle_wins(batch: int = 100) -> int:
    """Follow each win's order: paid → the win is paid; expired or cancelled by the buyer → a strike
    for the buyer and, for an auction win, a second-chance offer to the runner-up (else the seller may
    relist). The orders app's expiry sweep expires unpaid orders; this one reacts."""
    due = list(
        Win.objects.filter(
            status=Win.Status.AWAITING_PAYMENT, order__status__in=PAID_STATUSES | LAPSED_STATUSES
        ).values_list("pk", flat=True)[:batch]
    )
    done = 0
    for pk in due:
        with transaction.atomic():
            win = (
                claim(Win.objects.filter(pk=pk, status=Win.Status.AWAITING_PAYMENT), of=("self",))
                .select_related("order", "lot")
                .first()
            )
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
        Strike.objects.create(
            user=win.user, win=win, reason=_("Did not pay for %(title)s") % {"title": lot.title}, created_at=now
        )
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
    for bidder_id, amount in (
        Bid.objects.filter(lot=lot).order_by("-max_amount", "id").values_list("bidder_id", "max_amount")
    ):
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
    offer = SecondChanceOffer.objects.create(
        lot=lot, user=user, price=price, created_at=now, expires_at=now + conf.second_chance_window()
    )
    notify(user.pk, lot.pk, Notice.Kind.SECOND_CHANCE, price=price, currency=lot.currency, offer=offer.pk)
    offer_id = offer.pk
    _after_commit(lambda: _email_runner_up(offer_id))
    return offer


def _email_runner_up(offer_id: int) -> None:
    offer = SecondChanceOffer.objects.select_related("lot", "user").get(pk=offer_id)
    context = {
        "offer": offer,
        "lot": offer.lot,
        "price": format_money(offer.price, offer.lot.currency),
        "url": absolute_url(reverse("auctions:mine")),
    }
    send_user_email(offer.user, "auctions/email/second_chance", context)


def _own_offer(user, offer_id: int) -> SecondChanceOffer:
    offer = locked(SecondChanceOffer.objects.filter(pk=offer_id, user=user)).select_related("lot").first()  # + its lot
    if offer is None:
        raise NotFound(_("No such offer."), code="not_found")
    return offer


def accept_offer(user, offer_id: int) -> Win:
    """The runner-up buys the lot at their own maximum: a new auction order with its own deadline."""
    with transaction.atomic():
        offer = _own_offer(user, offer_id)
        now = timezone.now()
        if offer.status != SecondChanceOffer.Status.OPEN:
            raise Conflict(_("This offer is no longer open."), code="offer_closed")
        if now >= offer.expires_at:
            raise Conflict(_("This offer has expired."), code="offer_expired")
        until = selectors.blocked_until(user, now)
        if until is not None:
            raise Conflict(
                _("Buying at auction is blocked for you until %(until)s.")
                % {"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
                code="bidding_blocked",
            )
        lot = offer.lot
        win = award(lot, user, price=offer.price, kind=Win.Kind.SECOND_CHANCE, now=now)
        offer.status, offer.responded_at, offer.win = SecondChanceOffer.Status.ACCEPTED, now, win
        offer.save(update_fields=["status", "responded_at", "win"])
        notify(lot.seller_id, lot.pk, Notice.Kind.SOLD, price=offer.price, currency=lot.currency, second_chance=True)
    return win


def decline_offer(user, offer_id: int) -> SecondChanceOffer:
    with transaction.atomic():
        offer = _own_offer(user, offer_id)
        if offer.status != SecondChanceOffer.Status.OPEN:
            raise Conflict(_("This offer is no longer open."), code="offer_closed")
        offer.status, offer.responded_at = SecondChanceOffer.Status.DECLINED, timezone.now()
        offer.save(update_fields=["status", "responded_at"])
        notify(offer.lot.seller_id, offer.lot_id, Notice.Kind.RELIST)
    return offer


def expire_offers(batch: int = 100) -> int:
    now = timezone.now()
    due = list(
        SecondChanceOffer.objects.filter(status=SecondChanceOffer.Status.OPEN, expires_at__lte=now).values_list(
            "pk", "lot_id", "lot__seller_id"
        )[:batch]
    )
    expired = 0
    for pk, lot_id, seller_id in due:
        if SecondChanceOffer.objects.filter(pk=pk, status=SecondChanceOffer.Status.OPEN).update(
            status=SecondChanceOffer.Status.EXPIRED, responded_at=now
        ):
            notify(seller_id, lot_id, Notice.Kind.RELIST)
            expired += 1
    return expired


def relist(seller, lot_id: int) -> Lot:
    """One click: a copy of the lot goes live now for as long as the original ran."""
    with transaction.atomic():
        lot = _lock(lot_id)
        if lot is None or (lot.seller_id != seller.pk and not seller.is_staff):
            raise _no_such_lot()
        if not selectors.can_relist(lot):
            raise Conflict(_("This lot cannot be relisted now."), code="relist_unavailable")
        now = timezone.now()
        duration = max(lot.scheduled_end - lot.starts_at, timedelta(minutes=10))
        copy = Lot.objects.create(
            seller=lot.seller,
            title=lot.title,
            description=lot.description,
            category=lot.category,
            currency=lot.currency,
            start_price=lot.start_price,
            reserve_price=lot.reserve_price,
            buy_now_price=lot.buy_now_price,
            starts_at=now,
            ends_at=now + duration,
            scheduled_end=now + duration,
            soft_close_seconds=lot.soft_close_seconds,
            increment_table=lot.increment_table,
            status=Lot.Status.LIVE,
            relisted_from=lot,
            requires_saved_method=lot.requires_saved_method,
        )
        LotImage.objects.bulk_create(
            [
                LotImage(lot=copy, image=i.image.name, width=i.width, height=i.height, alt=i.alt, position=i.position)
                for i in lot.images.all()
            ]
        )
    return copy


def lift_strike(staff, strike: Strike) -> Strike:
    _require_staff(staff)
    Strike.objects.filter(pk=strike.pk, lifted_at__isnull=True).update(lifted_at=timezone.now(), lifted_by=staff)
    strike.refresh_from_db()
    return strike
