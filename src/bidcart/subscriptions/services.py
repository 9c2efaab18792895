"""Every subscription write: offering a product on a schedule, subscribing, the buyer's changes, and the sweep
that runs the cycles.

The sweep (`run_cycles`, every minute from `tasks.py`) is safe to run twice at once and to retry:

1. *Open* the cycles that are due. Due subscriptions are claimed with a row lock (SKIP LOCKED on
   PostgreSQL); under that lock the cycle row `(subscription, number)` is written (unique), the order is
   placed with its stock allocated, and the subscription moves on to its next date, all in one transaction.
2. *Charge* open cycles. Each is claimed by a conditional UPDATE of `claimed_until` (one sweep wins; a
   claim lapses if its sweep dies), then charged with `payments.billing.charge_saved_method` under the key
   `sub-{id}-cycle-{n}-try-{attempt}`: a retried task, or a second sweep after a lapsed claim, names the
   same payment, and the provider itself refuses a merchant_uid twice. A decline is retried after
   `SUBSCRIPTION_RETRY_DAYS` (1 and 3 days after the first decline) with a new key; after the last one the
   cycle fails, its order is cancelled (stock released) and the subscription pauses, with an email.
3. *Remind* buyers `SUBSCRIPTION_REMINDER_DAYS` before a renewal, once per cycle (a conditional UPDATE of
   `reminded_cycle`).

Out of stock at a cycle: that cycle is skipped (no order, no charge), the buyer is told by email, and the
subscription goes on to its next date. A product no longer sold, or a card that was deleted, pauses it.
Each cycle charges the option's price of the day (the reminder email says the amount).
"""

from __future__ import annotations

import calendar
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.catalog import cache as catalog_cache
from bidcart.catalog.models import Product, Variant
from bidcart.core.domain import Conflict, DomainError, Forbidden, Invalid, NotFound
from bidcart.core.locks import claim
from bidcart.core.mail import send_user_email
from bidcart.core.site import absolute_url
from bidcart.orders import services as orders
from bidcart.orders.models import PAID_STATUSES, Order
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import billing
from bidcart.payments.models import CAPTURED, CLOSED, SavedPaymentMethod

from .models import INTERVAL_CODES, Cycle, Interval, Plan, Subscription

logger = logging.getLogger(__name__)

SEOUL = ZoneInfo("Asia/Seoul")
State = Subscription.State
Reason = Subscription.PauseReason
MAX_QUANTITY = 99
FIRST_DATE_WITHIN_DAYS = 90  # a first (or changed next) date at most this far ahead
CLAIM = timedelta(minutes=5)  # a charging sweep's claim on a cycle; lapses if that sweep dies


def retry_days() -> tuple[int, ...]:
    return tuple(settings.SUBSCRIPTION_RETRY_DAYS)


# --- dates -------------------------------------------------------------------------------------------


def seoul_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(SEOUL).date()


def delivery_moment(day: date) -> datetime:
    """The moment a cycle dated `day` (a Seoul date) is charged: SUBSCRIPTION_CHARGE_HOUR in Seoul."""
    return datetime.combine(day, time(settings.SUBSCRIPTION_CHARGE_HOUR), tzinfo=SEOUL)


def following(day: date, interval: str, anchor_day: int) -> date:
    """The date after `day` on this interval; monthly keeps to `anchor_day` (clamped to a short month)."""
    if interval == Interval.MONTHLY:
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))
    return day + timedelta(weeks={"1w": 1, "2w": 2, "4w": 4}[interval])


def _check_date(day: date, now: datetime | None = None) -> None:
    today = seoul_today(now)
    if not today < day <= today + timedelta(days=FIRST_DATE_WITHIN_DAYS):
        raise Invalid(
            _("Choose a date from tomorrow to %(days)d days ahead.") % {"days": FIRST_DATE_WITHIN_DAYS},
            code="invalid_date",
        )


# --- the seller's offer ------------------------------------------------------------------------------


def set_plan(seller, product_id: int, intervals: list[str]) -> Plan:
    """Offer `product_id` (the seller's own) on these intervals; none: no longer offered to new subscribers
    (running subscriptions go on)."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None or (product.seller_id != seller.pk and not seller.is_staff):
        raise NotFound(_("No such product."), code="not_found")
    if not getattr(seller, "can_sell", True) and not seller.is_staff:
        raise Forbidden(_("Only sellers can offer subscriptions."), code="not_a_seller")
    unknown = [code for code in intervals if code not in INTERVAL_CODES]
    if unknown:
        raise Invalid(
            _("Unknown interval. Choose from every week, 2 weeks, 4 weeks or month."), code="invalid_interval"
        )
    chosen = [code for code in INTERVAL_CODES if code in intervals]
    plan, _created = Plan.objects.update_or_create(product=product, defaults={"intervals": chosen})
    catalog_cache.changed()  # the product page offers it (or no longer does)
    return plan


# --- subscribing -------------------------------------------------------------------------------------


def _own_method(user, method_id: int) -> SavedPaymentMethod:
    method = SavedPaymentMethod.objects.filter(pk=method_id, user=user, state=SavedPaymentMethod.State.ACTIVE).first()
    if method is None:
        raise NotFound(_("No such card. Register a card first."), code="method_not_found")
    return method


def subscribe(
    user,
    *,
    variant_id: int,
    quantity: int,
    interval: str,
    method_id: int,
    shipping_address: dict,
    first_date: date,
    now: datetime | None = None,
) -> Subscription:
    """Start a subscription: its first cycle is charged on `first_date` (Seoul), then every `interval`."""
    now = now or timezone.now()
    variant = Variant.objects.select_related("product__subscription_plan").filter(pk=variant_id).first()
    plan = getattr(variant.product, "subscription_plan", None) if variant else None
    if variant is None or not variant.product.active:
        raise NotFound(_("No such product."), code="not_found")
    if plan is None or not plan.intervals:
        raise Conflict(_("This product is not offered as a subscription."), code="not_subscribable")
    if interval not in plan.intervals:
        raise Invalid(_("This product is not offered at that interval."), code="invalid_interval")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid(_("Choose a quantity from 1 to %(max)d.") % {"max": MAX_QUANTITY}, code="invalid_quantity")
    _check_date(first_date, now)
    method = _own_method(user, method_id)
    try:
        address = orders.clean_address(shipping_address)
    except DomainError as error:
        raise Invalid(error.detail, code=error.code) from None
    next_at = delivery_moment(first_date)
    return Subscription.objects.create(
        user=user,
        product=variant.product,
        variant=variant,
        quantity=quantity,
        interval=interval,
        method=method,
        anchor_day=first_date.day,
        next_at=next_at,
        created_at=now,
        # the first cycle needs no "renews soon" email when the buyer just chose its date
        reminded_cycle=1 if next_at <= now + timedelta(days=settings.SUBSCRIPTION_REMINDER_DAYS) else 0,
        **address,
    )


# --- the buyer's changes -----------------------------------------------------------------------------


def _lock_own(user, subscription_id: int) -> Subscription:
    sub = Subscription.objects.select_for_update().filter(pk=subscription_id, user=user).first()
    if sub is None:
        raise NotFound(_("No such subscription."), code="not_found")
    if sub.state == State.CANCELLED:
        raise Conflict(_("This subscription was cancelled."), code="subscription_cancelled")
    return sub


def skip_next(user, subscription_id: int, *, now: datetime | None = None) -> Subscription:
    """The next cycle will not be delivered or charged; the one after it comes on its usual date."""
    with transaction.atomic():
        sub = _lock_own(user, subscription_id)
        if sub.state != State.ACTIVE:
            raise Conflict(_("Resume the subscription before skipping a delivery."), code="subscription_paused")
        Cycle.objects.create(
            subscription=sub,
            number=sub.next_cycle,
            due_at=sub.next_at,
            state=Cycle.State.SKIPPED,
            note="skipped by the buyer",
        )
        _advance(sub, now or timezone.now(), at_least_one=True)
    return sub


def pause(user, subscription_id: int) -> Subscription:
    with transaction.atomic():
        sub = _lock_own(user, subscription_id)
        if sub.state == State.ACTIVE:
            _pause(sub, Reason.BUYER, email=False)
    return sub


def resume(user, subscription_id: int, *, method_id: int | None = None, now: datetime | None = None) -> Subscription:
    """Active again, optionally with another card; a next date already past moves to the next one ahead."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = _lock_own(user, subscription_id)
        if method_id is not None:
            sub.method = _own_method(user, method_id)
        elif sub.method.state != SavedPaymentMethod.State.ACTIVE:
            raise Conflict(
                _("The card of this subscription was deleted. Choose another card."), code="method_not_found"
            )
        sub.state, sub.pause_reason = State.ACTIVE, Reason.NONE
        sub.save(update_fields=["method", "state", "pause_reason", "updated_at"])
        _advance(sub, now, at_least_one=False)
    return sub


def change_method(user, subscription_id: int, method_id: int) -> Subscription:
    """Charge another of the buyer's cards from now on (a cycle retrying after a decline too)."""
    with transaction.atomic():
        sub = _lock_own(user, subscription_id)
        sub.method = _own_method(user, method_id)
        sub.save(update_fields=["method", "updated_at"])
    return sub


def change_next_date(user, subscription_id: int, day: date, *, now: datetime | None = None) -> Subscription:
    """Move the next cycle to `day` (Seoul); the ones after follow from it."""
    with transaction.atomic():
        sub = _lock_own(user, subscription_id)
        _check_date(day, now)
        sub.next_at = delivery_moment(day)
        if sub.interval == Interval.MONTHLY:
            sub.anchor_day = day.day
        sub.save(update_fields=["next_at", "anchor_day", "updated_at"])
    return sub


def cancel(user, subscription_id: int, *, now: datetime | None = None) -> Subscription:
    """No more cycles. A cycle waiting to retry a declined charge ends with it (its order is cancelled)."""
    with transaction.atomic():
        sub = _lock_own(user, subscription_id)
        sub.state, sub.cancelled_at = State.CANCELLED, now or timezone.now()
        sub.save(update_fields=["state", "cancelled_at", "updated_at"])
        _drop_open_cycles(sub, note="subscription cancelled")
    return sub


def _advance(sub: Subscription, now: datetime, *, at_least_one: bool) -> None:
    """Move `next_at` (and the cycle number, if a cycle was used up) to the first date after now."""
    day = sub.next_at.astimezone(SEOUL).date()
    if at_least_one:
        sub.next_cycle += 1
        day = following(day, sub.interval, sub.anchor_day)
    while delivery_moment(day) <= now:  # a sweep down for weeks makes one cycle, not a backlog
        day = following(day, sub.interval, sub.anchor_day)
    sub.next_at = delivery_moment(day)
    sub.save(update_fields=["next_cycle", "next_at", "updated_at"])


def _pause(sub: Subscription, reason: str, *, email: bool = True, cycle: Cycle | None = None) -> None:
    sub.state, sub.pause_reason = State.PAUSED, reason
    sub.save(update_fields=["state", "pause_reason", "updated_at"])
    _drop_open_cycles(sub, note=f"subscription paused ({reason})", keep=cycle)
    if email:
        _email(sub, "paused", cycle=cycle)


def _drop_open_cycles(sub: Subscription, *, note: str, keep: Cycle | None = None) -> None:
    """End the subscription's open cycles that no sweep is charging now (a claimed one finishes its charge)."""
    now = timezone.now()
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    for cycle in (
        Cycle.objects.filter(subscription=sub, state__in=Cycle.OPEN)
        .filter(unclaimed)
        .exclude(pk=getattr(keep, "pk", None))
    ):
        if (
            Cycle.objects.filter(pk=cycle.pk, state__in=Cycle.OPEN)
            .filter(unclaimed)
            .update(state=Cycle.State.CANCELLED, note=note[:300], next_attempt_at=None)
        ):
            _cancel_order(cycle.order, note)


def _cancel_order(order: Order | None, note: str) -> None:
    if order is None:
        return
    try:
        orders.transition(order, OrderStatus.CANCELLED, note=note)
    except DomainError:
        pass  # paid or cancelled meanwhile


# --- the sweep ---------------------------------------------------------------------------------------


def run_cycles(now: datetime | None = None, batch: int = 50) -> dict[str, int]:
    """Open due cycles, charge open ones, remind upcoming renewals. Answers how many of each."""
    now = now or timezone.now()
    opened = open_due_cycles(now, batch)
    charged = charge_open_cycles(now, batch)
    reminded = send_reminders(now, batch)
    return {"opened": opened, "charged": charged, "reminded": reminded}


def open_due_cycles(now: datetime, batch: int = 50) -> int:
    opened = 0
    with transaction.atomic():
        due = Subscription.objects.filter(state=State.ACTIVE, next_at__lte=now).select_related("method", "user")
        for sub in list(claim(due.order_by("next_at", "id"), of=("self",))[:batch]):
            opened += _open_cycle(sub, now)
    return opened


def _open_cycle(sub: Subscription, now: datetime) -> int:
    """Under `sub`'s row lock: write cycle `next_cycle` with its order, and move on to the next date."""
    if sub.method.state != SavedPaymentMethod.State.ACTIVE:
        _pause(sub, Reason.METHOD)
        return 0
    cycle = Cycle(subscription=sub, number=sub.next_cycle, due_at=sub.next_at, created_at=now)
    try:
        with transaction.atomic():
            cycle.order = orders.place_standing_order(
                sub.user,
                variant_id=sub.variant_id,
                quantity=sub.quantity,
                shipping_address=sub.address,
                payment_due_at=now + timedelta(days=1),
            )
    except DomainError as error:
        if error.code != "insufficient_stock":  # no longer sold: nothing to deliver until the buyer decides
            _pause(sub, Reason.UNAVAILABLE)
            return 0
        cycle.state, cycle.note = Cycle.State.OUT_OF_STOCK, "out of stock"
        cycle.save()
        _advance(sub, now, at_least_one=True)
        _email(sub, "out_of_stock", cycle=cycle)
        return 1
    cycle.state, cycle.next_attempt_at = Cycle.State.DUE, now
    cycle.save()
    _advance(sub, now, at_least_one=True)
    return 1


def _claimable(now: datetime):
    return Cycle.objects.filter(state__in=Cycle.OPEN, next_attempt_at__lte=now).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def charge_open_cycles(now: datetime, batch: int = 50) -> int:
    charged = 0
    for pk in list(_claimable(now).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:batch]):
        # one sweep wins the claim (a conditional UPDATE); the other moves on
        if _claimable(now).filter(pk=pk).update(claimed_until=now + CLAIM):
            charge_cycle(pk, now)
            charged += 1
    return charged


def charge_cycle(cycle_id: int, now: datetime) -> None:
    """Charge a claimed cycle's order to the subscription's card, once for its current attempt, and record
    the outcome. Called again for the same attempt (a lapsed claim), it answers the same payment."""
    cycle = Cycle.objects.select_related("subscription__method", "subscription__user", "order").get(pk=cycle_id)
    sub, key = cycle.subscription, cycle.charge_key()
    if sub.state != State.ACTIVE:  # paused or cancelled after this cycle opened: never charge it
        with transaction.atomic():
            if Cycle.objects.filter(pk=cycle.pk, state__in=Cycle.OPEN).update(
                state=Cycle.State.CANCELLED, claimed_until=None, next_attempt_at=None, note="subscription not active"
            ):
                _cancel_order(cycle.order, f"subscription cycle {cycle.number}: subscription {sub.state}")
        return
    try:
        payment = billing.charge_saved_method(cycle.order, sub.method, key=key)
    except DomainError as error:
        _charge_refused(cycle, error, now)
        return
    if payment.status in CAPTURED:
        _paid(cycle, key)
    elif payment.status in CLOSED:
        _declined(cycle, key, payment.failure or "declined", now)  # the provider's words, for staff
    # else: the provider's answer was lost; the claim lapses and the same key reads it back


def _lock_cycle(cycle: Cycle, key: str) -> Cycle | None:
    """The cycle under its lock if it is still open at the attempt `key` names (else it was recorded)."""
    locked = Cycle.objects.select_for_update(of=("self",)).select_related("subscription", "order").get(pk=cycle.pk)
    return locked if locked.state in Cycle.OPEN and locked.charge_key() == key else None


def _paid(cycle: Cycle, key: str) -> None:
    with transaction.atomic():
        cycle = _lock_cycle(cycle, key)
        if cycle is None:
            return
        cycle.state, cycle.claimed_until, cycle.next_attempt_at = Cycle.State.PAID, None, None
        cycle.save(update_fields=["state", "claimed_until", "next_attempt_at", "updated_at"])
        _email(cycle.subscription, "charged", cycle=cycle)


def _declined(cycle: Cycle, key: str, reason: str, now: datetime) -> None:
    with transaction.atomic():
        cycle = _lock_cycle(cycle, key)
        if cycle is None:
            return
        sub = Subscription.objects.select_for_update().get(pk=cycle.subscription_id)
        days = retry_days()
        cycle.attempts += 1
        cycle.claimed_until, cycle.note = None, reason[:300]
        if cycle.attempts <= len(days) and sub.state == State.ACTIVE:
            wait = days[cycle.attempts - 1] - (days[cycle.attempts - 2] if cycle.attempts > 1 else 0)
            cycle.state, cycle.next_attempt_at = Cycle.State.RETRYING, now + timedelta(days=wait)
            cycle.save(update_fields=["attempts", "state", "next_attempt_at", "claimed_until", "note", "updated_at"])
            # the order (and its stock) stays reserved until the retry, and a day more
            orders.extend_payment_window(
                cycle.order,
                cycle.next_attempt_at + timedelta(days=1),
                note=f"subscription cycle {cycle.number}: retry after a decline",
            )
            _email(sub, "declined", cycle=cycle)
            return
        cycle.state, cycle.next_attempt_at = Cycle.State.FAILED, None
        cycle.save(update_fields=["attempts", "state", "next_attempt_at", "claimed_until", "note", "updated_at"])
        _cancel_order(cycle.order, f"subscription cycle {cycle.number}: declined {cycle.attempts} times")
        if sub.state == State.ACTIVE:
            _pause(sub, Reason.DECLINED, cycle=cycle)


def _charge_refused(cycle: Cycle, error: DomainError, now: datetime) -> None:
    """bidcart itself refused the charge: the order was paid or cancelled meanwhile, the card deleted."""
    key = cycle.charge_key()
    if error.code == "charge_in_progress":  # an earlier attempt's answer is still being read back
        return
    with transaction.atomic():
        cycle = _lock_cycle(cycle, key)
        if cycle is None:
            return
        order = Order.objects.get(pk=cycle.order_id)
        paid = order.status in PAID_STATUSES
        cycle.state = Cycle.State.PAID if paid else Cycle.State.CANCELLED
        cycle.claimed_until, cycle.next_attempt_at, cycle.note = None, None, error.detail[:300]
        cycle.save(update_fields=["state", "claimed_until", "next_attempt_at", "note", "updated_at"])
        if paid:
            return
        _cancel_order(order, f"subscription cycle {cycle.number}: {error.code}")
        sub = Subscription.objects.select_for_update().get(pk=cycle.subscription_id)
        if sub.state == State.ACTIVE and error.code in ("not_found", "provider_unavailable"):
            _pause(sub, Reason.METHOD, cycle=cycle)


def send_reminders(now: datetime, batch: int = 200) -> int:
    """ "Renews on …" SUBSCRIPTION_REMINDER_DAYS before each cycle, once per cycle."""
    soon = now + timedelta(days=settings.SUBSCRIPTION_REMINDER_DAYS)
    due = Subscription.objects.filter(
        state=State.ACTIVE, next_at__gt=now, next_at__lte=soon, reminded_cycle__lt=F("next_cycle")
    ).select_related("user", "variant")
    sent = 0
    for sub in list(due[:batch]):
        if Subscription.objects.filter(pk=sub.pk, next_cycle=sub.next_cycle, reminded_cycle__lt=sub.next_cycle).update(
            reminded_cycle=sub.next_cycle
        ):
            _email(sub, "renewal")
            sent += 1
    return sent


# --- emails ------------------------------------------------------------------------------------------


def _email(sub: Subscription, kind: str, *, cycle: Cycle | None = None) -> None:
    """After the transaction commits: one email of `kind` about `sub` (and `cycle`), in the buyer's language."""
    sub_id, cycle_id = sub.pk, getattr(cycle, "pk", None)
    transaction.on_commit(lambda: send_subscription_email(sub_id, kind, cycle_id=cycle_id))


def send_subscription_email(subscription_id: int, kind: str, *, cycle_id: int | None = None) -> bool:
    from . import selectors

    sub = Subscription.objects.select_related("user", "product", "variant", "method").filter(pk=subscription_id).first()
    if sub is None:
        return False
    cycle = Cycle.objects.select_related("order").filter(pk=cycle_id).first() if cycle_id else None
    order = cycle.order if cycle else None
    amount, currency = selectors.expected_total(sub)
    context = {
        "kind": kind,
        "subscription": sub,
        "cycle": cycle,
        "order": order,
        "amount": amount,
        "currency": currency,
        # its last attempt: the template says why it was declined, in the buyer's language
        "payment": order.payments.order_by("-id").first() if order else None,
        "url": absolute_url(reverse("subscriptions:detail", args=[sub.pk])),
    }
    sent = send_user_email(sub.user, "subscriptions/email/notice", context)
    if not sent:
        logger.warning("subscription %s: %s email not sent", sub.pk, kind)
    return sent
