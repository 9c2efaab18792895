"""Winners charged automatically (issue #17 item 4): the one home of "bid with a saved card".

Opt-in is per lot-participation: a bid that says `pay_with_saved_method` (true or false) sets the bidder's
choice for that lot (kept on their `BidderAlias`, with an optional address `ship_to`); a bid that says
nothing leaves it as it was. A seller may require a saved card (`Lot.requires_saved_method`): only bidders
with an active saved card may bid or Buy It Now there, and every participation there is opted in.

At the close, inside the closing transaction and holding the lot lock, `arrange` marks the win's charge
due (with the winner's default card) and copies the chosen address, or the default one, onto the order;
nothing is sent to the provider there. `charge_win` runs after that transaction commits: a provider call
inside the lot lock would keep the lot row and the closing sweep waiting for the provider's latency, and a
charge made inside a transaction that then rolls back would take money for an order that was never
written. After commit the order exists before any money moves.

Exactly once: the charge's key is derived from the order's number, so a retried close, the retry sweep
and a second worker all ask `billing.charge_saved_method` for the same payment (one merchant_uid, created
under the order's row lock; the provider refuses a merchant_uid twice). The outcome is recorded with a
conditional update of the win (`charge="due"` → paid/declined), and only the writer of that update sends
the email. Paid: the payment ledger marked the order paid (the same `_settle` as a one-off payment's
confirm; `settle_wins` then marks the win paid). Declined, or not chargeable any more: the order keeps
today's 48-hour payment window and the buyer is emailed to pay on the order page. A lost answer leaves
the charge due; `retry_due_charges` reads it back under the same key.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.core.domain import Conflict, DomainError, Invalid
from bidcart.core.mail import send_user_email
from bidcart.core.money import format_money
from bidcart.core.site import absolute_url
from bidcart.orders.models import Order, SavedAddress
from bidcart.orders.models import Status as OrderStatus
from bidcart.orders.services import ADDRESS_FIELDS
from bidcart.payments import billing
from bidcart.payments.models import SavedPaymentMethod
from bidcart.payments.models import Status as PaymentStatus

from ..models import BidderAlias, Lot, Win
from .base import _after_commit

logger = logging.getLogger(__name__)

Charge = Win.Charge


def default_method(user_id: int) -> SavedPaymentMethod | None:
    """The card a win is charged to: the buyer's default active saved card."""
    return SavedPaymentMethod.objects.filter(
        user_id=user_id, state=SavedPaymentMethod.State.ACTIVE, is_default=True
    ).first()


# --- bidding ------------------------------------------------------------------------------------------


def check_bidder(user, lot: Lot, *, pay_with_saved_method: bool | None, address_id: int | None) -> None:
    """Refuse a bid (or Buy It Now) whose saved-card choice cannot hold: 409 saved_method_required when the
    lot requires a saved card, or the bidder asks to pay with one, and has none; 400 invalid_address for an
    address that is not theirs."""
    wants = lot.requires_saved_method or bool(pay_with_saved_method)
    if wants and default_method(user.pk) is None:
        if lot.requires_saved_method:
            raise Conflict(
                _(
                    "The seller accepts bids only from buyers with a saved card, charged automatically "
                    "if they win. Save a card under Saved cards, then bid again."
                ),
                code="saved_method_required",
            )
        raise Conflict(
            _("You have no saved card to pay with. Save a card under Saved cards, or bid without automatic payment."),
            code="saved_method_required",
        )
    if address_id is not None and not SavedAddress.objects.filter(pk=address_id, user=user).exists():
        raise Invalid(_("Choose one of your saved addresses."), code="invalid_address")


def remember_choice(lot: Lot, user, *, pay_with_saved_method: bool | None, address_id: int | None) -> None:
    """The participant's choice for this lot, after `check_bidder`; the caller holds the lot lock and the
    participation row exists (`_alias`)."""
    changes = {}
    if lot.requires_saved_method:
        changes["pay_with_saved_method"] = True
    elif pay_with_saved_method is not None:
        changes["pay_with_saved_method"] = bool(pay_with_saved_method)
    if address_id is not None:
        changes["ship_to_id"] = address_id
    if changes:
        BidderAlias.objects.filter(lot=lot, user=user).update(**changes)


# --- the close ----------------------------------------------------------------------------------------


def arrange(win: Win) -> bool:
    """Inside the closing transaction: when the winner opted in (or the lot requires it) and has a default
    card, the win's charge is due, the order gets the chosen or default address, and `charge_win` is run
    after commit. Answers whether a charge was arranged (then its outcome email replaces the won email)."""
    participation = BidderAlias.objects.filter(lot_id=win.lot_id, user_id=win.user_id).first()
    if not (win.lot.requires_saved_method or (participation is not None and participation.pay_with_saved_method)):
        return False
    method = default_method(win.user_id)
    if method is None:
        return False  # the card was deleted since: the buyer pays on the order page, as today
    address = None
    if participation is not None and participation.ship_to_id is not None:
        address = SavedAddress.objects.filter(pk=participation.ship_to_id, user_id=win.user_id).first()
    if address is None:
        address = SavedAddress.objects.filter(user_id=win.user_id, is_default=True).first()
    if address is not None:
        Order.objects.filter(pk=win.order_id).update(**{f: getattr(address, f) for f in ADDRESS_FIELDS})
    Win.objects.filter(pk=win.pk).update(charge=Charge.DUE, charge_method=method)
    win.charge, win.charge_method = Charge.DUE, method
    win_id = win.pk
    _after_commit(lambda: charge_win(win_id))
    return True


def charge_key(order: Order) -> str:
    """The idempotency key of a win's automatic charge: one per order."""
    return f"auction-win:{order.number}"


def charge_win(win_id: int) -> str:
    """Charge a win whose charge is due, after the close committed. Answers the win's charge state."""
    win = Win.objects.select_related("order", "charge_method", "lot", "user").filter(pk=win_id).first()
    if win is None or win.charge != Charge.DUE:
        return win.charge if win is not None else Charge.NONE
    reason = ""
    try:
        payment = billing.charge_saved_method(win.order, win.charge_method, key=charge_key(win.order), source="auction")
    except DomainError as refused:  # the card was deleted, the order was paid or given up meanwhile, no address
        if not Order.objects.filter(pk=win.order_id, status=OrderStatus.PENDING_PAYMENT).exists():
            # paid on the order page (or cancelled) before the charge: nothing to charge, nothing to say
            Win.objects.filter(pk=win.pk, charge=Charge.DUE).update(charge=Charge.NONE)
            return Charge.NONE
        payment, reason = None, refused.detail
    if payment is not None and payment.status in (PaymentStatus.CREATED, PaymentStatus.PENDING):
        return Charge.DUE  # the provider's answer was lost: retry_due_charges reads it back under the same key
    if payment is not None and payment.status == PaymentStatus.PAID:
        outcome = Charge.PAID
    else:
        outcome = Charge.DECLINED
        if payment is not None:
            reason = payment.buyer_message
    if Win.objects.filter(pk=win.pk, charge=Charge.DUE).update(charge=outcome):
        _email(win, outcome, str(reason or ""))
    return outcome


def retry_due_charges(batch: int = 50, *, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Wins whose charge is still due a minute after the close (the worker stopped after commit, or the
    provider's answer was lost): charged, or read back, under the same key."""
    cutoff = timezone.now() - older_than
    due = list(Win.objects.filter(charge=Charge.DUE, created_at__lte=cutoff).values_list("pk", flat=True)[:batch])
    return sum(1 for pk in due if charge_win(pk) != Charge.DUE)


def _email(win: Win, outcome: str, reason: str) -> None:
    order = Order.objects.get(pk=win.order_id)
    context = {
        "win": win,
        "lot": win.lot,
        "order": order,
        "price": format_money(win.price, win.lot.currency),
        "total": format_money(order.total, order.currency),
        "card": win.charge_method,
        "reason": reason,
        "order_url": absolute_url(reverse("orders:detail", args=[order.number])),
    }
    send_user_email(
        win.user, "auctions/email/charged" if outcome == Charge.PAID else "auctions/email/charge_declined", context
    )
