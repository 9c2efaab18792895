"""Saved payment methods (billing keys, 빌링키) and charges with them: every write about them.

A buyer registers a card on the provider's own page (bidcart never sees the card number): a pending
method is made with bidcart's own reference for the registration (PortOne V1's customer_uid, V2's
issueId, KakaoPay's partner_order_id, PayPal's request id), the buyer is sent to the provider, and on
the way back the key is read *from the provider* (the browser's query is only a hint the adapter checks
against the registration it started) and the method becomes active under the provider's key, with the
card's brand and last digits. Deleting a method deletes the key at the provider first; only then is it
marked deleted here.

Recovering a charge whose answer was lost: PortOne (V1 and V2) is read back by merchant_uid; PayPal by
sending the same request again under the same PayPal-Request-Id within the 6 hours PayPal keeps it (the
answer is the order made the first time, or the charge made now if the first never arrived). KakaoPay can
only be read by the tid its answer carried, so such a charge stays `pending` and reconciliation cannot
settle it: staff see it in the payment's event log.

`charge_saved_method(order, method, key=...)` is the one way to charge a saved card (later: subscription
cycles, auction winners). It goes through the same ledger as a payment on the provider's page: a
`Payment` row, its `PaymentEvent` log, `_settle` deciding what the provider's answer means, the
order marked paid once. The caller's `key` names the charge: the payment's merchant_uid is derived
from it, so the same key twice (a retried task, two workers) is the same payment, and the provider
itself refuses to charge a merchant_uid twice. A new attempt after a decline takes a new key.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.core import domain
from bidcart.core.site import absolute_url
from bidcart.orders.models import Order

from . import providers
from .models import CAPTURED, CLOSED, OPEN, Payment, SavedPaymentMethod, Status, new_billing_reference
from .providers import Next, ProviderError
from .providers.billing import BillingKey
from .services import (
    _adapter,
    _error,
    _lock,
    _read,
    _set_status,
    _settle,
    _store_psp,
    check_payable,
    new_attempt,
    urls_for,
)

State = SavedPaymentMethod.State


def billing_providers() -> list[str]:
    """Enabled providers whose adapter offers billing keys."""
    return [
        name for name in providers.enabled() if getattr(providers.adapter_class(name), "supports_billing_keys", False)
    ]


def _key_adapter(provider: str) -> providers.Provider:
    return providers.get(provider)


def _not_found() -> domain.NotFound:
    return domain.NotFound(_("No such payment method."), code="not_found")


def _lock_method(user, method_id: int) -> SavedPaymentMethod:
    method = SavedPaymentMethod.objects.select_for_update().filter(pk=method_id, user=user).first()
    if method is None or method.state == State.DELETED:
        raise _not_found()
    return method


def _provider_down() -> domain.ProviderError:
    return domain.ProviderError(
        _("The payment provider did not answer; try again or choose another method."), code="provider_error"
    )


# --- adding -------------------------------------------------------------------------------------------


def start_saving_method(user, *, provider: str, site_url: str = "") -> tuple[SavedPaymentMethod, Next]:
    """A pending method, and where to send the buyer to register a card for it at `provider`."""
    if provider not in billing_providers():
        raise domain.Invalid(_("That payment method is not available."), code="provider_unavailable")
    method = SavedPaymentMethod.objects.create(user=user, provider=provider, reference=new_billing_reference())
    try:
        nxt = _key_adapter(provider).billing_key_window(
            method.reference,
            buyer=user,
            return_url=method_return_url(method, site_url),
            notify=absolute_url(reverse("payments:webhook", args=[provider]), base=site_url),
        )
    except ProviderError:
        raise _provider_down() from None
    if nxt.psp:  # what the confirmation needs from the provider's start (KakaoPay's tid, PayPal's setup token)
        method.registration = nxt.psp
        method.save(update_fields=["registration"])
    return method, nxt


def method_return_url(method: SavedPaymentMethod, site_url: str = "") -> str:
    """Where the provider sends the buyer back after registering the card."""
    return absolute_url(reverse("payments:method-return", args=[method.pk]), base=site_url)


def confirm_saved_method(user, method_id: int, params: dict | None = None) -> SavedPaymentMethod:
    """The buyer is back from the provider's page (`params`: the return URL's query, a hint the adapter
    checks with the provider): read the key from the provider and activate it, under the provider's own
    reference where the provider names the key. The buyer's first card becomes their default."""
    with transaction.atomic():
        method = _lock_method(user, method_id)
        if method.state == State.ACTIVE:
            return method
        try:
            key = _key_adapter(method.provider).confirm_billing_key(
                method.reference,
                params={k: str(v) for k, v in (params or {}).items()},
                registration=method.registration,
            )
        except ProviderError:
            raise _provider_down() from None
        _activate(method, key)
    return method


def _activate(method: SavedPaymentMethod, key: BillingKey | None) -> None:
    """Under the pending method's row lock: the key the provider reported for its registration makes it
    active, filed under the provider's reference; the buyer's first card becomes their default."""
    if key is not None and key.reference != method.reference:
        if SavedPaymentMethod.objects.filter(reference=key.reference).exists():
            key = None  # a key another method holds already is not this registration's
        else:
            method.reference = key.reference[:80]
    if key is None:
        raise domain.Invalid(
            _("The card was not registered. Try again, or use another card."), code="card_not_registered"
        )
    has_default = (
        SavedPaymentMethod.objects.filter(user_id=method.user_id, is_default=True).exclude(pk=method.pk).exists()
    )
    method.brand, method.last4 = key.brand[:40], key.last4
    method.state, method.is_default = State.ACTIVE, not has_default
    method.save(update_fields=["reference", "brand", "last4", "state", "is_default"])


# --- choosing and deleting ----------------------------------------------------------------------------


def set_default_method(user, method_id: int) -> SavedPaymentMethod:
    with transaction.atomic():
        method = _lock_method(user, method_id)
        if method.state != State.ACTIVE:
            raise domain.Conflict(_("This card is not registered yet."), code="method_not_active")
        # the old default first: at most one default per buyer is a database constraint
        SavedPaymentMethod.objects.filter(user=user, is_default=True).exclude(pk=method.pk).update(is_default=False)
        if not method.is_default:
            method.is_default = True
            method.save(update_fields=["is_default"])
    return method


def delete_saved_method(user, method_id: int) -> None:
    """Delete the key at the provider, then here. If it was the default, the newest other card is."""
    with transaction.atomic():
        method = _lock_method(user, method_id)
        if method.state == State.ACTIVE:
            try:
                _key_adapter(method.provider).delete_billing_key(method.reference, reason="deleted by the buyer")
            except ProviderError:
                raise _provider_down() from None  # still at the provider: still listed, so it can be retried
        _mark_deleted(method)


def sync_saved_method(provider: str, reference: str) -> bool | None:
    """The provider says a key changed (its webhook: a card issued, or deleted in its console or the buyer's
    app). The key is read back from the provider, never taken from the event:
    - a key no active card of ours holds, issued under a registration still pending here (the buyer closed
      the provider's window before coming back), is confirmed as the buyer's return would have;
    - an active card's key the provider no longer has is deleted here too, so nothing charges it and a
      subscription on it pauses at its next cycle.
    Answers True if a card changed now, False if nothing changed, None if the key is no card of ours."""
    method = SavedPaymentMethod.objects.filter(provider=provider, reference=reference, state=State.ACTIVE).first()
    if method is None:
        return _confirm_closed_registration(provider, reference)
    if _key_adapter(provider).fetch_billing_key(reference) is not None:
        return False  # still at the provider (an Issued event, or a delete that did not happen)
    with transaction.atomic():
        method = SavedPaymentMethod.objects.select_for_update().get(pk=method.pk)
        if method.state != State.ACTIVE:
            return False  # deleted meanwhile by the buyer
        _mark_deleted(method)
    return True


def _confirm_closed_registration(provider: str, reference: str) -> bool | None:
    key = _key_adapter(provider).fetch_billing_key(reference)  # ProviderError: answered 503, delivered again
    pending = (
        SavedPaymentMethod.objects.filter(provider=provider, reference=key.issued_for, state=State.PENDING).first()
        if key is not None and key.issued_for
        else None
    )
    if pending is None:
        return None
    with transaction.atomic():
        method = SavedPaymentMethod.objects.select_for_update().filter(pk=pending.pk, state=State.PENDING).first()
        if method is None:
            return False  # the buyer's return confirmed it meanwhile
        try:
            _activate(method, key)  # the key the provider reported issued under this registration
        except domain.Invalid:
            return False  # another card of ours holds that key already
    return True


def _mark_deleted(method: SavedPaymentMethod) -> None:
    """Under the method's row lock: deleted here (kept for the charges that name it); if it was the default,
    the buyer's newest other card becomes the default."""
    was_default = method.is_default
    method.state, method.is_default, method.deleted_at = State.DELETED, False, timezone.now()
    method.save(update_fields=["state", "is_default", "deleted_at"])
    if was_default:
        successor = (
            SavedPaymentMethod.objects.filter(user_id=method.user_id, state=State.ACTIVE)
            .order_by("-created_at", "-id")
            .first()
        )
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])


# --- charging -----------------------------------------------------------------------------------------


def merchant_uid_for(provider: str, key: str) -> str:
    """The payment's merchant_uid for the charge named `key`: the same key is the same payment."""
    return "bill_" + hashlib.sha256(f"{provider}\n{key}".encode()).hexdigest()[:32]


def charge_saved_method(
    order: Order, method: SavedPaymentMethod, *, key: str, source: str = "api", site_url: str = ""
) -> Payment:
    """Charge `order`'s total to `method`, once per `key` (see the module docstring). Answers the payment:
    `paid` (the order is paid), `failed` (declined; `buyer_message` says why), or `pending` when the
    provider's answer was lost (the reconciliation sweep reads it back by merchant_uid)."""
    if not key or len(key) > 200:
        raise domain.Invalid(_("A charge needs a key of at most 200 characters."), code="invalid_key")
    merchant_uid = merchant_uid_for(method.provider, key)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment = Payment.objects.filter(merchant_uid=merchant_uid).first()
        if payment is not None and (payment.order_id != order.pk or payment.saved_method_id != method.pk):
            raise domain.Conflict(_("This charge key was used for another charge."), code="key_reused")
        if payment is None:
            payment = _new_charge(order, method, merchant_uid)
    with transaction.atomic():
        payment = _lock(merchant_uid)
        if payment.status in CAPTURED or payment.status in CLOSED:
            return payment  # this key's charge happened: answer it, never charge again
        adapter = _adapter(payment, source)
        if payment.status != Status.CREATED:
            # sent before and its answer lost: read it back (never a second charge: services._read)
            try:
                snap = _read(payment, adapter)
            except ProviderError as error:
                _error(payment, error, source)
                return payment
        else:
            try:
                snap = adapter.charge_billing_key(payment, method.reference, notify=urls_for(payment, site_url).notify)
            except ProviderError as error:
                _error(payment, error, source)
                if error.outcome_unknown:  # may have charged: pending until the provider is read back
                    _set_status(payment, Status.PENDING, expected=[Status.CREATED], source=source)
                else:
                    _set_status(
                        payment, Status.FAILED, expected=[Status.CREATED], source=source, failure=error.message[:300]
                    )
                return payment
            _set_status(
                payment,
                Status.PENDING,
                expected=[Status.CREATED],
                source=source,
                message=f"charged with saved method {method.pk}",
            )
        _store_psp(payment, snap.psp)
        _settle(payment, snap, adapter, source)
    return payment


def _new_charge(order: Order, method: SavedPaymentMethod, merchant_uid: str) -> Payment:
    """The payment row for a new charge, under the order's lock, with the checks a checkout makes."""
    if method.user_id != order.user_id or method.state != State.ACTIVE:
        raise _not_found()
    if method.provider not in billing_providers():
        raise domain.Invalid(_("That payment method is not available."), code="provider_unavailable")
    check_payable(order)
    # one charge of a saved card at a time per order (under the order's lock): two keys racing must not
    # both take the money; one left open by a lost answer is settled by the reconciliation sweep first
    if order.payments.filter(status__in=OPEN, saved_method__isnull=False).exists():
        raise domain.Conflict(_("A charge for this order is already under way."), code="charge_in_progress")
    return new_attempt(
        order,
        provider=method.provider,
        described=f"{method.provider} saved method {method.pk}",
        merchant_uid=merchant_uid,
        saved_method=method,
    )
