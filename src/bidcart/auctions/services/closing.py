"""Closing a lot: sold to the leader (or the Buy It Now buyer) with an order to pay, unsold, or cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.core.domain import Conflict, Invalid
from bidcart.core.mail import send_user_email
from bidcart.core.money import format_money
from bidcart.core.site import absolute_url
from bidcart.orders import services as order_services
from bidcart.orders.models import Kind as OrderKind

from .. import conf, live, protocol, selectors
from ..models import Bid, Lot, Notice, Watch, Win
from . import autocharge
from .base import OPEN, _after_commit, _lock, _no_such_lot
from .notices import notify


def award(lot: Lot, buyer, *, price: int, kind: str, now: datetime) -> Win:
    """The buyer's win and its order, the one way an auction makes one (closing, Buy It Now, a second-chance
    offer accepted): one line, the lot at `price`, AUCTION_SHIPPING_FEE, to be paid within
    AUCTION_PAYMENT_HOURS. Inside the caller's transaction."""
    order = order_services.create_order(
        buyer,
        kind=OrderKind.AUCTION,
        currency=lot.currency,
        shipping=int(conf.get("AUCTION_SHIPPING_FEE")),
        payment_due_at=now + conf.payment_window(),
        address=None,
        now=now,
        lines=[
            order_services.NewLine(
                product_name=lot.title, unit_price=price, quantity=1, seller_id=lot.seller_id, sku=f"LOT-{lot.pk}"
            )
        ],
    )
    return Win.objects.create(lot=lot, user=buyer, order=order, price=price, kind=kind, created_at=now)


def _close_as_sold(lot: Lot, buyer_id: int, *, price: int, via: str, now: datetime) -> Win:
    """Inside the caller's transaction, holding the lot lock: the lot is sold, the buyer's order is
    written with its payment deadline, and the room, the buyer and the seller hear of it after commit."""
    from bidcart.accounts.models import User

    buyer = User.objects.get(pk=buyer_id)
    kind = Win.Kind.BUY_NOW if via == Lot.SoldVia.BUY_NOW else Win.Kind.AUCTION
    win = award(lot, buyer, price=price, kind=kind, now=now)
    lot.status, lot.final_price, lot.closed_at, lot.sold_via = Lot.Status.SOLD, price, now, via
    if via == Lot.SoldVia.BUY_NOW:
        lot.ends_at = max(now, lot.starts_at + timedelta(microseconds=1))
    lot.seq += 1
    lot.save(update_fields=["status", "final_price", "closed_at", "sold_via", "ends_at", "seq", "updated_at"])
    state = selectors.lot_state(lot, now)
    lot_id, win_id, seller_id = lot.pk, win.pk, lot.seller_id
    notify(buyer_id, lot_id, Notice.Kind.WON, price=price, currency=lot.currency, order=win.order.number)
    notify(seller_id, lot_id, Notice.Kind.SOLD, price=price, currency=lot.currency)
    _after_commit(lambda: live.publish(lot_id, protocol.ended(state, winner=True)))
    if not autocharge.arrange(win):  # charged to a saved card after commit: its outcome is the buyer's email
        _after_commit(lambda: _email_winner(win_id))
    return win


def _email_winner(win_id: int) -> None:
    win = Win.objects.select_related("lot", "order", "user").get(pk=win_id)
    url = reverse("orders:detail", args=[win.order.number])
    context = {
        "win": win,
        "lot": win.lot,
        "order": win.order,
        "order_url": absolute_url(url),
        "price": format_money(win.price, win.lot.currency),
    }
    send_user_email(win.user, "auctions/email/won", context)


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
        Lot.objects.filter(status__in=OPEN, ends_at__lte=timezone.now())
        .order_by("ends_at")
        .values_list("pk", flat=True)[:batch]
    )
    return sum(1 for pk in due if close_lot(pk))


def cancel_lot(actor, lot_id: int, reason: str) -> Lot:
    """Staff cancel an open lot with a reason; a seller may cancel their own lot while nobody has bid."""
    reason = (reason or "").strip()[:500]
    with transaction.atomic():
        lot = _lock(lot_id)
        if lot is None:
            raise _no_such_lot()
        if not actor.is_staff:
            if lot.seller_id != actor.pk:
                raise _no_such_lot()
            if lot.bid_count:
                raise Conflict(_("A lot with bids can only be cancelled by staff."), code="lot_has_bids")
        if not reason:
            if actor.is_staff:
                raise Invalid(_("Give a reason for cancelling."), code="reason_required")
            reason = _("Withdrawn by the seller.")
        if lot.status not in OPEN:
            raise Conflict(_("Only a lot that has not closed can be cancelled."), code="lot_ended")
        now = timezone.now()
        lot.status, lot.cancel_reason, lot.cancelled_by, lot.closed_at = Lot.Status.CANCELLED, reason, actor, now
        lot.seq += 1
        lot.save(update_fields=["status", "cancel_reason", "cancelled_by", "closed_at", "seq", "updated_at"])
        state = selectors.lot_state(lot, now)
        lot_pk = lot.pk
        people = set(Bid.objects.filter(lot=lot).values_list("bidder_id", flat=True)) | set(
            Watch.objects.filter(lot=lot).values_list("user_id", flat=True)
        )
        Notice.objects.bulk_create(
            [
                Notice(user_id=uid, lot_id=lot_pk, kind=Notice.Kind.CANCELLED, data={"reason": reason})
                for uid in sorted(people)
            ]
        )
        _after_commit(lambda: live.publish(lot_pk, protocol.ended(state, winner=False, reason=reason)))
    return lot
