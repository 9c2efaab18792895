"""Every payment write. Adapters translate; this module decides.

Exactly once: the browser's return, the provider's webhook and the reconciliation sweep may all arrive
for one payment at the same moment. Each takes the payment's row lock (`select_for_update`; on SQLite
the IMMEDIATE transaction serialises writers) and applies a change only from the status it expects; the
ledger's unique `dedupe_key` makes "captured", "this webhook" and "this refund" happen once even if that
reasoning had a hole. A confirm that finds the payment already settled answers it without calling the
provider, so nothing is ever charged twice.

Never trust the browser: what the buyer's browser brings back only says *which* payment to look at. The
provider's own answer (approve, capture, or a fresh fetch) is compared with the amount, currency and
merchant_uid the server decided; a mismatch cancels the payment at the provider and leaves the order
unpaid.

The provider is called while the row lock is held. That serialises every path for one payment (the
point), costs one pooled connection per payment in flight, and is bounded by PAYMENT_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Iterable, Mapping

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from bidcart.core import (
    domain,  # domain.ProviderError: the refusal; .providers.ProviderError: the adapter's failure
    metrics,
    money,
)
from bidcart.core.locks import claim
from bidcart.core.mail import send_user_email
from bidcart.core.site import absolute_url
from bidcart.orders import services as orders
from bidcart.orders.models import Order
from bidcart.orders.models import Status as OrderStatus

from . import banks, outcomes, providers
from .models import CAPTURED, CLOSED, OPEN, Method, Payment, PaymentEvent, Refund, Status, WebhookDelivery
from .providers import Next, ProviderError, Snapshot, Urls, WebhookRejected
from .providers.http import Call

logger = logging.getLogger(__name__)

# --- the log ----------------------------------------------------------------------------------------


def _event(payment: Payment, type_: str, *, source: str = "", dedupe_key: str = "", **fields) -> PaymentEvent | None:
    """Append to the log. With a dedupe_key, answer None if that event is already there (a savepoint
    keeps the surrounding transaction usable on PostgreSQL)."""
    fields.setdefault("message", "")
    fields["message"] = str(fields["message"])[:500]
    if not dedupe_key:
        return PaymentEvent.objects.create(payment=payment, type=type_, source=source, **fields)
    try:
        with transaction.atomic():
            return PaymentEvent.objects.create(
                payment=payment, type=type_, source=source, dedupe_key=dedupe_key, **fields
            )
    except IntegrityError:
        return None


def _call_logger(payment: Payment, source: str):
    def on_call(call: Call) -> None:
        PaymentEvent.objects.create(
            payment=payment,
            type=PaymentEvent.Type.REQUEST,
            source=source,
            payload=call.as_payload(),
            message=f"{call.method} {call.url} → {call.status or call.error}"[:500],
        )

    return on_call


def _adapter(payment: Payment, source: str) -> providers.Provider:
    return providers.get(payment.provider, on_call=_call_logger(payment, source))


def _set_status(
    payment: Payment, to: str, *, expected: Iterable[str], source: str, message: str = "", **changes
) -> bool:
    """Move the payment to `to` only from one of the `expected` statuses (conditional UPDATE)."""
    now = timezone.now()
    if not Payment.objects.filter(pk=payment.pk, status__in=list(expected)).update(
        status=to, updated_at=now, **changes
    ):
        return False
    # a failure's raw provider text goes to the log for staff; buyers read `outcomes` instead
    _event(
        payment,
        PaymentEvent.Type.STATUS,
        source=source,
        from_status=payment.status,
        to_status=to,
        message=message or changes.get("failure", ""),
    )
    transaction.on_commit(lambda: metrics.payments.labels(payment.provider, to).inc())
    payment.status = to
    for key, value in changes.items():
        setattr(payment, key, value)
    return True


def _store_psp(payment: Payment, psp: Mapping) -> None:
    merged = {**payment.psp, **{k: v for k, v in psp.items() if v not in (None, "")}}
    if merged != payment.psp:
        payment.psp = merged
        Payment.objects.filter(pk=payment.pk).update(psp=merged)


def _error(payment: Payment, error: ProviderError, source: str) -> None:
    _event(
        payment,
        PaymentEvent.Type.ERROR,
        source=source,
        message=f"{error.code or 'error'}: {error.message}",
        payload={"code": error.code, "status": error.http_status, "outcome_unknown": error.outcome_unknown},
    )


def _lock(merchant_uid: str, *, buyer=None) -> Payment:
    """The payment, locked. Given a `buyer` (a person acting over a transport), only that person's own
    payment: someone else's is refused as not found, the same over the API and on the pages (the one home
    of that rule)."""
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("order", "buyer")
        .filter(merchant_uid=merchant_uid)
        .first()
    )
    if payment is None or (buyer is not None and payment.buyer_id != buyer.pk):
        raise domain.NotFound(_("No such payment."), code="not_found")
    return payment


# --- starting ---------------------------------------------------------------------------------------


def urls_for(payment: Payment, site_url: str) -> Urls:
    """The payment's return and webhook addresses: under SITE_URL, else under the request's `site_url`."""
    uid = payment.merchant_uid
    return Urls(
        approve=absolute_url(reverse("payments:return", args=[uid]), base=site_url),
        cancel=absolute_url(reverse("payments:cancel", args=[uid]), base=site_url),
        fail=absolute_url(reverse("payments:fail", args=[uid]), base=site_url),
        notify=absolute_url(reverse("payments:webhook", args=[payment.provider]), base=site_url),
    )


def charge_in(provider: str, amount: int, currency: str) -> tuple[int, str]:
    """What the provider is asked to charge for `amount` `currency` (its class decides: PayPal converts
    KRW into PAYPAL_CURRENCY), refused with a clear 400 where the provider cannot take it."""
    cls = providers.adapter_class(provider)
    provider_amount, provider_currency = cls.charge_in(getattr(settings, cls.settings_key), amount, currency)
    if cls.currencies is not None and provider_currency.upper() not in cls.currencies:
        raise domain.Invalid(
            _("%(provider)s cannot take payments in this currency; choose another payment method.")
            % {"provider": cls.label},
            code="currency_unavailable",
        )
    if provider_amount <= 0:
        # 1원 in USD rounds to $0.00, which no provider charges.
        raise domain.Invalid(
            _("This amount is too small to pay with %(provider)s; choose another payment method.")
            % {"provider": cls.label},
            code="amount_too_small",
        )
    return provider_amount, provider_currency


def check_payable(order: Order) -> None:
    """Under the order's row lock: what every new payment attempt needs of its order (paying on the
    provider's page here, or a saved card's charge in billing)."""
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise domain.Conflict(_("This order is not awaiting payment."), code="order_not_payable")
    if not order.is_payable:
        raise domain.Conflict(_("The time to pay this order has passed."), code="order_expired")
    if not order.has_address:
        raise domain.Invalid(_("Give a shipping address before paying."), code="address_required")
    if order.payments.filter(status__in=CAPTURED).exists():
        raise domain.Conflict(_("This order is already paid."), code="already_paid")


def new_attempt(order: Order, *, provider: str, described: str, **fields) -> Payment:
    """A new attempt's row for the order's total, in what `provider` charges (charge_in), and its first
    event ("created", `described` and the provider's amount)."""
    provider_amount, provider_currency = charge_in(provider, order.total, order.currency)
    payment = Payment.objects.create(
        order=order,
        buyer_id=order.user_id,
        provider=provider,
        amount=order.total,
        currency=order.currency,
        provider_amount=provider_amount,
        provider_currency=provider_currency,
        **fields,
    )
    _event(
        payment,
        PaymentEvent.Type.STATUS,
        source="api",
        to_status=Status.CREATED,
        amount=payment.amount,
        message=f"{described} {provider_amount} {provider_currency}",
    )
    return payment


def start_payment(
    user, order: Order, *, provider: str, method: str = Method.CARD, mobile: bool = False, site_url: str = ""
) -> tuple[Payment, Next]:
    """Begin paying `order` with `provider`: a new payment attempt, registered at the provider."""
    if order.user_id != user.pk:
        raise domain.NotFound(_("No such order."), code="not_found")
    if provider not in providers.enabled():
        raise domain.Invalid(_("That payment method is not available."), code="provider_unavailable")
    if method not in providers.adapter_class(provider).methods:
        raise domain.Invalid(
            _("%(provider)s does not offer that payment method.") % {"provider": provider}, code="method_unavailable"
        )
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        check_payable(order)
        payment = new_attempt(order, provider=provider, described=f"{provider} {method}", method=method)
    # Registering at the provider happens after the payment row is committed: if this call dies
    # half-way, the row exists and reconciliation finds whatever the provider did.
    with transaction.atomic():
        payment = _lock(payment.merchant_uid)
        adapter = _adapter(payment, "api")
        try:
            nxt = adapter.start(payment, urls=urls_for(payment, site_url), mobile=mobile)
        except ProviderError as error:
            _error(payment, error, "api")
            if not error.outcome_unknown:
                _set_status(
                    payment, Status.FAILED, expected=[Status.CREATED], source="api", failure=error.message[:300]
                )
        else:
            _store_psp(payment, nxt.psp)
            _set_status(payment, Status.PENDING, expected=[Status.CREATED], source="api")
    if payment.status != Status.PENDING:
        raise domain.ProviderError(
            _("The payment provider did not answer; try again or choose another method."), code="provider_error"
        )
    return payment, nxt


# --- settling ---------------------------------------------------------------------------------------


def _provider_refunded(payment: Payment) -> int:
    """What bidcart has recorded as refunded, in provider minor units."""
    return (
        Refund.objects.filter(payment=payment, status=Refund.Status.SUCCEEDED).aggregate(s=Sum("provider_amount"))["s"]
        or 0
    )


def _mismatch(payment: Payment, snap: Snapshot) -> str:
    if snap.currency != payment.provider_currency:
        return f"currency {snap.currency} ≠ {payment.provider_currency}"
    if snap.amount != payment.provider_amount:
        return f"amount {snap.amount} ≠ {payment.provider_amount}"
    if snap.merchant_uid is not None and snap.merchant_uid != payment.merchant_uid:
        return f"merchant_uid {snap.merchant_uid} ≠ {payment.merchant_uid}"
    return ""


def _settle(payment: Payment, snap: Snapshot, adapter: providers.Provider, source: str) -> None:
    """Apply the provider's truth to a locked payment."""
    _store_psp(payment, snap.psp)
    if snap.state == "paid":
        if payment.status in OPEN:
            problem = _mismatch(payment, snap)
            if problem:
                _refuse_tampered(payment, snap, adapter, source, problem)
                return
            _capture(payment, source)
        elif payment.status in CLOSED:
            _settle_late(payment, snap, adapter, source)
        if payment.status in CAPTURED:
            _sync_external_refunds(payment, snap, source)
    elif snap.state == "awaiting_deposit":
        if _set_status(
            payment, Status.AWAITING_DEPOSIT, expected=[Status.CREATED, Status.PENDING], source=source, vbank=snap.vbank
        ):
            _hold_order_for_deposit(payment, snap.vbank.get("due"))
            transaction.on_commit(lambda: send_vbank_email(payment.pk))
    elif snap.state == "failed":
        _set_status(payment, Status.FAILED, expected=OPEN, source=source, failure=(snap.failure or "declined")[:300])
    elif snap.state == "cancelled":
        _set_status(payment, Status.CANCELLED, expected=OPEN, source=source, failure=(snap.failure or "")[:300])


def _settle_late(payment: Payment, snap: Snapshot, adapter, source: str) -> None:
    """The provider holds money for a payment this shop had closed (a cancel landing that won the race
    with the approval, an approval or a bank deposit after the shop expired it). That money is settled
    like any capture: the order takes it if it can still be paid, otherwise it goes straight back."""
    if snap.amount - snap.refunded <= 0 or payment.cancel_owed:
        return  # given back already, or the sweep is already giving it back
    problem = _mismatch(payment, snap)
    if problem:  # not what the shop asked for: refuse it as at the first answer
        _event(
            payment,
            PaymentEvent.Type.MISMATCH,
            source=source,
            message=f"after {payment.status}: {problem}",
            payload={"reported_amount": snap.amount, "reported_currency": snap.currency},
        )
        _cancel_refused(payment, adapter, source)
        return
    _event(
        payment,
        PaymentEvent.Type.NOTE,
        source=source,
        message=f"the provider reports {payment.provider_amount} {payment.provider_currency} paid for a payment closed "
        f"here as {payment.status}: settling it",
    )
    _capture(payment, source, closed=True)


def _hold_order_for_deposit(payment: Payment, due: str | None) -> None:
    """A bank deposit takes longer than a card: keep the order reserved until the account's deadline,
    capped at PAYMENT_VBANK_MAX_HOURS, so it doesn't expire under a buyer who is about to pay."""
    deadline = parse_datetime(due) if due else None
    latest = timezone.now() + timedelta(hours=settings.PAYMENT_VBANK_MAX_HOURS)
    until = min(deadline, latest) if deadline else latest
    orders.extend_payment_window(payment.order, until, note=f"awaiting a bank deposit ({payment.merchant_uid})")


def _capture(payment: Payment, source: str, *, closed: bool = False) -> None:
    now = timezone.now()
    if not _set_status(payment, Status.PAID, expected=OPEN + CLOSED if closed else OPEN, source=source, paid_at=now):
        return
    if (
        _event(
            payment,
            PaymentEvent.Type.CAPTURED,
            source=source,
            dedupe_key="captured",
            amount=payment.amount,
            psp_reference=_main_reference(payment),
        )
        is None
    ):
        return
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    if order.status == OrderStatus.PENDING_PAYMENT:
        try:
            orders.mark_paid(order, note=f"{payment.provider} {payment.merchant_uid}")
            return
        except domain.DomainError:
            order.refresh_from_db()
    # The order expired, was cancelled or was paid by another attempt meanwhile: the buyer must not be
    # charged for nothing, so this payment goes straight back.
    logger.warning(
        "payment %s captured for order %s that is %s: refunding", payment.merchant_uid, order.number, order.status
    )
    note = f"{outcomes.RAW_GIVEN_BACK}: captured for order {order.number} that is {order.status}, giving it back"
    _event(payment, PaymentEvent.Type.NOTE, source=source, dedupe_key=ORPHAN, message=note)
    payment.failure = note[:300]  # what the buyer is told (outcomes.GIVEN_BACK) comes from here
    Payment.objects.filter(pk=payment.pk).update(failure=payment.failure)
    _give_back_captured(payment, source)


# The log's mark of a payment captured for an order that did not take it: its refunds never move the order.
ORPHAN = "orphan"


def _pays_its_order(payment: Payment) -> bool:
    return not payment.events.filter(dedupe_key=ORPHAN).exists()


def _give_back_captured(payment: Payment, source: str) -> bool:
    """Refund at the provider what a payment captured for an order that can't take it (expired, cancelled,
    or paid by another attempt); the buyer is emailed. If the provider refuses or doesn't answer, the
    payment carries `cancel_owed` and the reconciliation sweep tries again. True once nothing is held."""
    refundable = payment.totals()["refundable"]
    owed = False
    if refundable > 0:
        try:
            account = _refund_account(payment, None)
        except domain.DomainError:
            # a deposit goes back by transfer to an account only the buyer can name (the order page asks
            # for it): owed until then, and the sweep tries again
            account, owed = None, True
            _event(
                payment,
                PaymentEvent.Type.NOTE,
                source=source,
                dedupe_key="refund_account_awaited",
                message="money to give back: waiting for the buyer's refund account",
            )
        if not owed:
            refund = _refund_locked(
                payment,
                amount=refundable,
                reason=_("The order was no longer awaiting payment."),
                actor=None,
                source=source,
                follow_order=False,
                refundable=refundable,
                refund_account=account,
            )
            owed = refund.status != Refund.Status.SUCCEEDED
    if payment.cancel_owed != owed:
        payment.cancel_owed = owed
        Payment.objects.filter(pk=payment.pk).update(cancel_owed=owed, updated_at=timezone.now())
    return not owed


def _main_reference(payment: Payment) -> str:
    for key in providers.adapter_class(payment.provider).reference_keys:
        if payment.psp.get(key):
            return str(payment.psp[key])[:100]
    return ""


def _refuse_tampered(payment: Payment, snap: Snapshot, adapter, source: str, problem: str) -> None:
    """The provider reports something other than what the server asked for: cancel it there, keep the
    order unpaid, record everything."""
    _event(
        payment,
        PaymentEvent.Type.MISMATCH,
        source=source,
        amount=None,
        message=problem,
        payload={
            "reported_amount": snap.amount,
            "reported_currency": snap.currency,
            "reported_merchant_uid": snap.merchant_uid,
        },
    )
    if not _cancel_refused(payment, adapter, source):
        logger.error(
            "payment %s: amount mismatch (%s) and the cancel at the provider failed; reconciliation retries it",
            payment.merchant_uid,
            problem,
        )
    _set_status(
        payment, Status.FAILED, expected=OPEN, source=source, failure=f"{outcomes.RAW_MISMATCH}: {problem}"[:300]
    )


def _cancel_refused(payment: Payment, adapter, source: str) -> bool:
    """Give back, at the provider, a payment bidcart refused. Until that succeeds the payment carries
    `cancel_owed`, so the buyer's money is never left at the provider for an order they don't get."""
    try:
        after = adapter.cancel(payment, reason="amount mismatch")
    except ProviderError as error:
        _error(payment, error, source)
        owed = True
    else:
        _event(payment, PaymentEvent.Type.NOTE, source=source, message=f"cancelled at the provider: {after.state}")
        # money still held, or a virtual account still open for deposits
        owed = (after.state == "paid" and after.refunded < after.amount) or after.state == "awaiting_deposit"
    if payment.cancel_owed != owed:
        payment.cancel_owed = owed
        payment.save(update_fields=["cancel_owed", "updated_at"])
    return not owed


def _sync_external_refunds(payment: Payment, snap: Snapshot, source: str) -> None:
    """Refunds made outside bidcart (the provider's console) show up in the provider's totals."""
    known = _provider_refunded(payment)
    extra = snap.refunded - known
    if extra <= 0:
        return
    amount = (
        payment.totals()["refundable"]
        if snap.refunded >= payment.provider_amount
        else money.share(extra, payment.provider_amount, payment.amount)
    )
    if amount <= 0:
        return
    refund = Refund.objects.create(
        payment=payment,
        amount=amount,
        provider_amount=extra,
        reason=_("Refunded at the provider"),
        status=Refund.Status.SUCCEEDED,
        completed_at=timezone.now(),
    )
    _record_refund(payment, refund, source, follow_order=True)


# --- confirming -------------------------------------------------------------------------------------


def confirm_payment(merchant_uid: str, params: Mapping[str, str], *, source: str = "return", buyer=None) -> Payment:
    """The buyer's browser (or app) came back from the provider: finish and verify the payment. The API
    names the `buyer` asking (refused unless it is theirs); the provider's return URL needs no session."""
    with transaction.atomic():
        payment = _lock(merchant_uid, buyer=buyer)
        if payment.status in CAPTURED:
            return payment  # settled already: answer it, never call the provider to charge again
        adapter = _adapter(payment, source)
        if payment.status in CLOSED:
            # closed here, but the provider may have taken the money since (PortOne's window approved
            # after a cancel landing): read it, never approve or capture anew
            if not payment.cancel_owed and (snap := _fetch_or_none(payment, adapter, source)) is not None:
                _settle(payment, snap, adapter, source)
            return payment
        try:
            snap = adapter.confirm(payment, params)
        except ProviderError as error:
            _error(payment, error, source)
            if error.outcome_unknown:
                return payment  # may have gone through: reconciliation will find out
            snap = _fetch_or_none(payment, adapter, source)
            if snap is None:
                return payment
        _settle(payment, snap, adapter, source)
    return payment


def _finish_approved(payment: Payment, adapter, snap: Snapshot) -> Snapshot:
    """The buyer approved at the provider and left before coming back (a PayPal order APPROVED, not
    captured): finish it for them while the order can still be paid. Raises ProviderError."""
    if snap.state == "pending" and snap.approved and payment.status in OPEN and payment.order.is_payable:
        return adapter.confirm(payment, {})
    return snap


def _read(payment: Payment, adapter) -> Snapshot:
    """What the provider says of the payment. A saved card's charge is read the way its provider allows
    when the answer to the charge was lost (`BillingKeys.fetch_charge`: PayPal by sending the same request
    again under its PayPal-Request-Id, which PayPal answers with the order it made)."""
    if payment.saved_method_id and getattr(adapter, "supports_billing_keys", False):
        return adapter.fetch_charge(payment, payment.saved_method.reference)
    return adapter.fetch(payment)


def _fetch_or_none(payment: Payment, adapter, source: str) -> Snapshot | None:
    try:
        return _read(payment, adapter)
    except ProviderError as error:
        _error(payment, error, source)
        return None


def abandon_payment(merchant_uid: str, *, failed: bool, source: str = "return") -> Payment:
    """The browser landed on the cancel or fail URL. That says what the buyer (or whoever has the link)
    meant, not what the provider did: the intent is logged and the provider's answer decides. A payment
    the provider still holds open stays open (PortOne's window can still approve it); the provider's
    "failed" or "cancelled" closes it, its "paid" is captured as from the return, and what stays open is
    closed by the reconciliation sweep when its time is up. None of the four providers can void an
    unpaid attempt, so there is nothing to cancel there first."""
    with transaction.atomic():
        payment = _lock(merchant_uid)
        if payment.status not in OPEN:
            return payment
        # once per kind: the landing is a plain GET anyone with the link can repeat
        _event(
            payment,
            PaymentEvent.Type.NOTE,
            source=source,
            dedupe_key="intent:fail" if failed else "intent:cancel",
            message="landed on the fail URL" if failed else "landed on the cancel URL (the buyer's intent)",
        )
        adapter = _adapter(payment, source)
        snap = _fetch_or_none(payment, adapter, source)
        if snap is not None:
            _settle(payment, snap, adapter, source)
    return payment


# --- webhooks ---------------------------------------------------------------------------------------


def receive_webhook(
    provider: str, *, headers: Mapping[str, str], body: bytes, remote_ip: str | None
) -> WebhookDelivery:
    """Store the raw delivery first, in its own transaction, so nothing a provider sends is ever lost."""
    return WebhookDelivery.objects.create(
        provider=provider,
        headers=dict(headers),
        body=body.decode("utf-8", errors="replace"),
        remote_ip=remote_ip,
    )


def process_webhook(delivery: WebhookDelivery) -> str:
    """Verify and act on a stored delivery. Answers its final state; raises on a failure the provider
    should retry (the view answers 503)."""
    calls: list[Call] = []
    delivery.attempts += 1
    try:
        adapter = providers.get(delivery.provider, on_call=calls.append)
        notice = adapter.parse_webhook(headers=_lower(delivery.headers), body=delivery.body.encode())
    except WebhookRejected as rejected:
        return _finish(delivery, WebhookDelivery.State.REJECTED, error=str(rejected))
    except (KeyError, ProviderError) as error:
        _finish(delivery, WebhookDelivery.State.FAILED, error=f"verification failed: {error}")
        raise
    delivery.event_id = notice.event_id[:120]
    payment = _find_payment(delivery.provider, notice.merchant_uid, notice.psp)
    if payment is None and notice.billing_key:
        return _process_key_notice(delivery, notice.billing_key)
    if payment is None:
        return _finish(delivery, WebhookDelivery.State.IGNORED, error="no such payment")
    delivery.payment = payment
    try:
        with transaction.atomic():
            payment = _lock(payment.merchant_uid)
            body = _json_or_text(delivery.body)
            if (
                _event(
                    payment,
                    PaymentEvent.Type.WEBHOOK,
                    source="webhook",
                    dedupe_key=f"webhook:{notice.event_id}"[:120],
                    message=notice.event_type,
                    payload={"event_id": notice.event_id, "body": providers.http.redact(body)},
                )
                is None
            ):
                return _finish(delivery, WebhookDelivery.State.DUPLICATE)
            for call in calls:  # e.g. PayPal's verify-webhook-signature
                _call_logger(payment, "webhook")(call)
            adapter = _adapter(payment, "webhook")
            snap = _read(payment, adapter)  # the webhook is a hint; the provider's answer is the truth
            _settle(payment, _finish_approved(payment, adapter, snap), adapter, "webhook")
            return _finish(delivery, WebhookDelivery.State.PROCESSED)  # committed with what it did
    except ProviderError as error:
        _finish(delivery, WebhookDelivery.State.FAILED, error=f"{error.code}: {error.message}")
        raise


def _process_key_notice(delivery: WebhookDelivery, key: str) -> str:
    """A billing-key event (a card deleted in the provider's console or the buyer's app): the saved card
    follows what the provider answers for the key, never the event's body."""
    from . import billing  # billing builds on this module's ledger helpers; imported here, not at the top

    try:
        changed = billing.sync_saved_method(delivery.provider, key)
    except ProviderError as error:  # the provider did not answer: 503, delivered again
        _finish(delivery, WebhookDelivery.State.FAILED, error=f"{error.code}: {error.message}")
        raise
    if changed is None:
        return _finish(delivery, WebhookDelivery.State.IGNORED, error="no such saved card")
    return _finish(delivery, WebhookDelivery.State.PROCESSED)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _json_or_text(body: str):
    try:
        return json.loads(body)
    except ValueError:
        return {"_text": body[:2000]}


def _finish(delivery: WebhookDelivery, state: str, *, error: str = "") -> str:
    delivery.state = state
    delivery.error = error
    delivery.processed_at = timezone.now()
    delivery.save()
    transaction.on_commit(lambda: metrics.webhooks.labels(delivery.provider, state).inc())
    return state


def _find_payment(provider: str, merchant_uid: str | None, psp: Mapping) -> Payment | None:
    qs = Payment.objects.filter(provider=provider)
    if merchant_uid:
        found = qs.filter(merchant_uid=merchant_uid).first()
        if found:
            return found
    for key, value in psp.items():
        if value:
            found = qs.filter(**{f"psp__{key}": value}).first()
            if found:
                return found
    return None


def replay_webhooks(*, failed_only: bool = True, limit: int = 500) -> dict[str, int]:
    """Process stored deliveries again (`bidcart manage replay_webhooks [--failed]`)."""
    states = [WebhookDelivery.State.FAILED, WebhookDelivery.State.RECEIVED] if failed_only else None
    qs = WebhookDelivery.objects.order_by("received_at", "id")
    if states:
        qs = qs.filter(state__in=states)
    counts: dict[str, int] = {}
    for delivery in qs[:limit]:
        try:
            state = process_webhook(delivery)
        except Exception:  # noqa: BLE001 - recorded on the delivery; go on with the rest
            state = WebhookDelivery.State.FAILED
        counts[state] = counts.get(state, 0) + 1
    return counts


# --- reconciliation ---------------------------------------------------------------------------------


def reconcile(now=None, batch: int = 100) -> int:
    """Settle payments left open: fetch each from its provider, finish what the buyer approved, cancel
    what was abandoned. Safe to run twice at once (SKIP LOCKED claims on PostgreSQL)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.PAYMENT_RECONCILE_AFTER_MINUTES)
    uids = list(
        Payment.objects.filter(status__in=OPEN, updated_at__lte=cutoff)
        .order_by("updated_at")
        .values_list("merchant_uid", flat=True)[:batch]
    )
    settled = 0
    for uid in uids:
        if reconcile_payment(uid, now=now):
            settled += 1
    owed = (
        Payment.objects.filter(cancel_owed=True).order_by("updated_at").values_list("merchant_uid", flat=True)[:batch]
    )
    for uid in list(owed):
        retry_owed_cancel(uid)
    for uid in _recently_closed(now, cutoff, batch):
        if recheck_closed_payment(uid, now=now):
            settled += 1
    return settled


def _recently_closed(now, cutoff, batch: int) -> list[str]:
    """Payments closed here without money, registered at a provider that can complete them on its own
    (they once were `pending`) and started within PAYMENT_RECHECK_CLOSED_HOURS: the provider may still
    take money for them (a late approval, a deposit into an account the shop expired). Each is read
    again at most once per PAYMENT_RECONCILE_AFTER_MINUTES."""
    since = now - timedelta(hours=settings.PAYMENT_RECHECK_CLOSED_HOURS)
    registered = PaymentEvent.objects.filter(
        payment=OuterRef("pk"), type=PaymentEvent.Type.STATUS, to_status=Status.PENDING
    )
    can_turn_paid = [name for name in providers.enabled() if providers.adapter_class(name).completes_on_its_own]
    qs = (
        Payment.objects.filter(
            status__in=CLOSED,
            cancel_owed=False,
            created_at__gte=since,
            updated_at__lte=cutoff,
            provider__in=can_turn_paid,
        )
        .filter(Exists(registered))
        .order_by("updated_at")
    )
    return list(qs.values_list("merchant_uid", flat=True)[:batch])


def recheck_closed_payment(merchant_uid: str, *, now=None) -> bool:
    """Read a recently closed payment from its provider and settle any money it reports. True if it was
    paid meanwhile (and is now captured, or being given back)."""
    now = now or timezone.now()
    with transaction.atomic():
        payment = (
            claim(Payment.objects.filter(merchant_uid=merchant_uid, status__in=CLOSED), of=("self",))
            .select_related("order")
            .first()
        )
        if payment is None:
            return False
        adapter = _adapter(payment, "reconcile")
        snap = _fetch_or_none(payment, adapter, "reconcile")
        if snap is not None:
            _settle(payment, snap, adapter, "reconcile")
        Payment.objects.filter(pk=payment.pk).update(updated_at=now)
    return payment.status not in CLOSED or payment.cancel_owed


def retry_owed_cancel(merchant_uid: str) -> bool:
    """Try again to give back money the shop refused and the provider still holds. True once it is back."""
    with transaction.atomic():
        payment = (
            claim(Payment.objects.filter(merchant_uid=merchant_uid, cancel_owed=True), of=("self",))
            .select_related("order", "buyer")
            .first()
        )
        if payment is None:
            return False  # given back meanwhile, or another worker holds it
        adapter = _adapter(payment, "reconcile")
        if payment.status not in CAPTURED:
            snap = _fetch_or_none(payment, adapter, "reconcile")
            if (
                snap is not None
                and snap.state == "paid"
                and snap.amount - snap.refunded > 0
                and payment.status in CLOSED
            ):
                # a deposit landed in an account whose close was still owed: nothing is left to close,
                # the money is settled like any late payment (kept by the order, or given back)
                payment.cancel_owed = False
                Payment.objects.filter(pk=payment.pk).update(cancel_owed=False, updated_at=timezone.now())
                _settle(payment, snap, adapter, "reconcile")
                return not payment.cancel_owed
            return _cancel_refused(payment, adapter, "reconcile")
        # captured for an order that could not take it: first learn what the provider already gave back
        # (a refund whose answer was lost), then refund the rest
        snap = _fetch_or_none(payment, adapter, "reconcile")
        if snap is not None and snap.state == "paid":
            _sync_external_refunds(payment, snap, "reconcile")
        return _give_back_captured(payment, "reconcile")


def reconcile_payment(merchant_uid: str, *, now=None) -> bool:
    """Answers True if the payment left the open statuses."""
    now = now or timezone.now()
    with transaction.atomic():
        payment = (
            claim(Payment.objects.filter(merchant_uid=merchant_uid, status__in=OPEN), of=("self",))
            .select_related("order")
            .first()
        )
        if payment is None:
            return False  # settled meanwhile, or another worker holds it
        adapter = _adapter(payment, "reconcile")
        snap = _fetch_or_none(payment, adapter, "reconcile")
        if snap is not None:
            try:
                snap = _finish_approved(payment, adapter, snap)
            except ProviderError as error:
                _error(payment, error, "reconcile")
            _settle(payment, snap, adapter, "reconcile")
        if payment.status in OPEN and _abandoned(payment, now):
            try:
                after = adapter.cancel(payment, reason="abandoned")
                _settle(payment, after, adapter, "reconcile")
            except ProviderError as error:
                _error(payment, error, "reconcile")
                if payment.status == Status.AWAITING_DEPOSIT and not payment.cancel_owed:
                    # The provider refused to close the account: it still takes deposits for a dead
                    # order. Owed, so the sweep tries again (retry_owed_cancel) until it is closed.
                    payment.cancel_owed = True
                    payment.save(update_fields=["cancel_owed", "updated_at"])
            if payment.status in OPEN and snap is not None and snap.state in ("pending", "awaiting_deposit"):
                _set_status(
                    payment,
                    Status.EXPIRED,
                    expected=OPEN,
                    source="reconcile",
                    failure=f"{outcomes.RAW_EXPIRED}: reconciliation gave up on it",
                )
        Payment.objects.filter(pk=payment.pk).update(updated_at=now)
    return payment.status not in OPEN


def _abandoned(payment: Payment, now) -> bool:
    """An attempt nobody will finish: its order can no longer be paid, a deposit deadline passed, or it
    is older than the order's payment window."""
    if payment.order.status != OrderStatus.PENDING_PAYMENT:
        return True
    due = (payment.vbank or {}).get("due")
    if payment.status == Status.AWAITING_DEPOSIT and due:
        deadline = parse_datetime(due)
        return deadline is not None and deadline < now
    return payment.status != Status.AWAITING_DEPOSIT and (
        payment.order.payment_due_at < now or payment.created_at < now - orders.payment_window()
    )


# --- refunds ----------------------------------------------------------------------------------------


def refund_payment(
    merchant_uid: str,
    *,
    reason: str,
    actor,
    amount: int | None = None,
    lines: Mapping[int, int] | None = None,
    restock: bool = False,
    source: str = "staff",
    refund_account: Mapping[str, str] | None = None,
) -> Refund:
    """Give money back, capped at captured minus refunded. Keyword arguments only.

    - `lines` {order line id: units} says which units are returned; each unit is refunded once.
    - `amount` (minor units of the payment's currency) defaults to those units' share of the order (with
      the shipping once the last unit goes back), or to everything still refundable without `lines`.
    - `restock` puts exactly those units back on sale, once; without `lines` only a refund of everything
      left may restock (every unit not restocked yet).
    - `refund_account` {bank, number, holder}: a deposited virtual account goes back by bank transfer to
      the buyer's account (this one, typed by staff and stored nowhere, else the one the buyer gave)."""
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0):
        raise domain.Invalid(_("Enter a positive whole amount."), code="amount_invalid")
    reason = (reason or "").strip()
    if not reason:
        raise domain.Invalid(_("Give a reason for the refund."), code="reason_required")
    lines = {int(k): int(v) for k, v in (lines or {}).items() if int(v) != 0}
    with transaction.atomic():
        payment = _lock(merchant_uid)
        if payment.status not in (Status.PAID, Status.PARTIALLY_REFUNDED):
            raise domain.Conflict(_("Only a paid payment can be refunded."), code="not_refundable")
        refundable = payment.totals()["refundable"]
        share = _lines_share(payment, lines) if lines else None
        if amount is None:
            amount = min(share, refundable) if share is not None else refundable
        if amount > refundable:
            raise domain.Conflict(
                _("At most %(left)s can be refunded.") % {"left": refundable},
                code="refund_exceeds_captured",
            )
        if restock and not lines and amount < refundable:
            raise domain.Invalid(
                _("Choose the lines and quantities to put back in stock."), code="restock_lines_required"
            )
        refund = _refund_locked(
            payment,
            amount=amount,
            reason=reason,
            actor=actor,
            source=source,
            restock=restock,
            lines=lines,
            refundable=refundable,
            refund_account=_refund_account(payment, refund_account),
        )
    return refund


def _lines_share(payment: Payment, lines: Mapping[int, int]) -> int:
    """What the chosen units are worth (their unit prices; plus the shipping when they are the order's
    last units not yet refunded). Refuses a line of another order and more units than are left to
    refund on a line (units of refunds that went through or may have)."""
    order_lines = {line.pk: line for line in payment.order.lines.all()}
    done: dict[int, int] = {}
    for earlier in Refund.objects.filter(
        payment__order_id=payment.order_id, status__in=[Refund.Status.SUCCEEDED, Refund.Status.REQUESTED]
    ).values_list("lines", flat=True):
        for pk, units in (earlier or {}).items():
            done[int(pk)] = done.get(int(pk), 0) + int(units)
    for pk, units in lines.items():
        line = order_lines.get(pk)
        if line is None:
            raise domain.Invalid(_("That line is not part of this order."), code="line_invalid")
        left = line.quantity - done.get(pk, 0)
        if not 1 <= units <= left:
            raise domain.Invalid(
                _("%(left)d of %(name)s can still be refunded.") % {"left": max(left, 0), "name": line.product_name},
                code="line_quantity_invalid",
            )
    share = sum(order_lines[pk].unit_price * units for pk, units in lines.items())
    if all(line.quantity - done.get(pk, 0) - lines.get(pk, 0) == 0 for pk, line in order_lines.items()):
        share += payment.order.shipping  # the last units go back: so does the shipping
    return share


def set_refund_account(user, merchant_uid: str, *, bank: str, number: str, holder: str) -> Payment:
    """The buyer gives the account a bank-deposit payment is refunded to. Validated now, kept on the
    payment until nothing is left to refund, never written to the log."""
    with transaction.atomic():
        payment = _lock(merchant_uid, buyer=user)
        if payment.method != Method.VBANK or payment.status in (
            Status.REFUNDED,
            Status.FAILED,
            Status.CANCELLED,
            Status.EXPIRED,
        ):
            raise domain.Conflict(_("This payment is not refunded to a bank account."), code="refund_account_unneeded")
        try:
            account = banks.refund_account(bank, number, holder)
        except ValueError as error:
            raise domain.Invalid(str(error), code="refund_account_invalid") from None
        payment.refund_account = {"bank": account.bank.key, "number": account.number, "holder": account.holder}
        payment.save(update_fields=["refund_account", "updated_at"])
        _event(payment, PaymentEvent.Type.NOTE, source="buyer", message=f"refund account given: {account!r}")
    return payment


def _refund_account(payment: Payment, given: Mapping[str, str] | None) -> banks.RefundAccount | None:
    if payment.method != Method.VBANK:
        return None  # card money goes back to the card
    given = given or payment.refund_account  # staff's, else the one the buyer gave
    if not given:
        raise domain.Invalid(
            _("A bank deposit is refunded by transfer: give the buyer's bank, account number and holder."),
            code="refund_account_required",
        )
    try:
        return banks.refund_account(given.get("bank", ""), given.get("number", ""), given.get("holder", ""))
    except ValueError as error:
        raise domain.Invalid(str(error), code="refund_account_invalid") from None


def _refund_locked(
    payment: Payment,
    *,
    amount: int,
    reason: str,
    actor,
    source: str,
    restock: bool = False,
    lines: Mapping[int, int] | None = None,
    follow_order: bool = True,
    refundable: int | None = None,
    refund_account: banks.RefundAccount | None = None,
) -> Refund:
    if refundable is None:  # the caller may already have summed the log under the same lock
        refundable = payment.totals()["refundable"]
    provider_left = payment.provider_amount - _provider_refunded(payment)
    provider_amount = (
        provider_left if amount >= refundable else money.share(amount, payment.amount, payment.provider_amount)
    )
    refund = Refund.objects.create(
        payment=payment,
        amount=amount,
        provider_amount=provider_amount,
        reason=reason[:200],
        restock=restock,
        lines={str(k): int(v) for k, v in (lines or {}).items()},
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    adapter = _adapter(payment, source)
    try:
        result = adapter.refund(
            payment,
            amount=provider_amount,
            refundable=provider_left,
            reason=reason[:200],
            key=f"refund-{payment.merchant_uid}-{refund.pk}",
            refund_account=refund_account,
        )
    except ProviderError as error:
        _error(payment, error, source)
        refund.status = Refund.Status.REQUESTED if error.outcome_unknown else Refund.Status.FAILED
        metrics.payments.labels(payment.provider, "refund_" + refund.status).inc()
        refund.failure = f"{error.code}: {error.message}"[:300]
        refund.save(update_fields=["status", "failure"])
        return refund
    if payment.refund_account and result.refunded_total >= payment.provider_amount:
        payment.refund_account = {}  # everything is back: the buyer's account number is not kept
        payment.save(update_fields=["refund_account", "updated_at"])
    refund.status = Refund.Status.SUCCEEDED
    refund.psp_reference = (result.psp_reference or "")[:100]
    refund.completed_at = timezone.now()
    refund.save(update_fields=["status", "psp_reference", "completed_at"])
    _record_refund(payment, refund, source, follow_order=follow_order)
    return refund


def _record_refund(payment: Payment, refund: Refund, source: str, *, follow_order: bool) -> None:
    _event(
        payment,
        PaymentEvent.Type.REFUNDED,
        source=source,
        dedupe_key=f"refund:{refund.pk}",
        amount=refund.amount,
        psp_reference=refund.psp_reference,
        message=refund.reason,
    )
    totals = payment.totals()
    to = Status.REFUNDED if totals["refundable"] == 0 else Status.PARTIALLY_REFUNDED
    if payment.status != to:
        _set_status(payment, to, expected=[Status.PAID, Status.PARTIALLY_REFUNDED], source=source)
    transaction.on_commit(lambda: send_refund_email(refund.pk))
    if not (follow_order and _pays_its_order(payment)):
        return  # money given back for an order this payment never paid: the order is not this payment's
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    orders.follow_refund(
        order, fully=to == Status.REFUNDED, note=f"refund {refund.amount} {payment.currency}: {refund.reason}"
    )
    if refund.restock:
        orders.restock(order, {int(k): v for k, v in refund.lines.items()} or None)


def send_vbank_email(payment_id: int) -> None:
    """The deposit instructions, once, when the account is issued (the order page shows them too)."""
    from .templatetags.vbank import vbank

    payment = Payment.objects.select_related("order", "buyer").filter(pk=payment_id).first()
    if payment is not None and vbank(payment):
        send_user_email(
            payment.buyer,
            "payments/email/vbank_issued",
            {"payment": payment, "order": payment.order, "v": vbank(payment)},
        )


def send_refund_email(refund_id: int) -> None:
    refund = Refund.objects.select_related("payment__order", "payment__buyer").filter(pk=refund_id).first()
    if refund is not None:
        send_user_email(
            refund.payment.buyer,
            "payments/email/refunded",
            {"refund": refund, "payment": refund.payment, "order": refund.payment.order},
        )


__all__ = [
    "start_payment",
    "confirm_payment",
    "abandon_payment",
    "receive_webhook",
    "process_webhook",
    "replay_webhooks",
    "reconcile",
    "reconcile_payment",
    "recheck_closed_payment",
    "refund_payment",
    "urls_for",
    "charge_in",
    "set_refund_account",
]
