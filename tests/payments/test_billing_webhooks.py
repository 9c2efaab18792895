"""A saved card deleted outside the shop (in PortOne's console, PayPal's vault, the buyer's app): the provider's
webhook reaches the shop's inbox over real HTTP (the whole product on one server, the simulator mounted in it),
the shop reads the key back from the provider, and the card is deleted here too, so nothing charges it again."""

from __future__ import annotations

import pytest

from bidcart.payments import billing, providers
from bidcart.payments.models import SavedPaymentMethod, WebhookDelivery
from tests.factories import make_user
from tests.payments.billing_helpers import register, saved
from tests.payments.test_webhooks import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

State = SavedPaymentMethod.State


def key_deliveries(provider: str, state: str) -> int:
    return WebhookDelivery.objects.filter(provider=provider, state=state).count()


@pytest.mark.parametrize("provider", ["portone_v2", "paypal"])
def test_a_card_deleted_at_the_provider_is_deleted_in_the_shop_and_the_other_card_becomes_the_default(
    live_shop, provider
):
    _url, control = live_shop
    buyer = make_user()
    first, second = saved(buyer, provider), saved(buyer, provider)
    assert SavedPaymentMethod.objects.get(pk=first.pk).is_default
    processed = key_deliveries(provider, WebhookDelivery.State.PROCESSED)

    # deleted at the provider, not through bidcart: the provider's own API, as its console does
    providers.get(provider).delete_billing_key(first.reference, reason="deleted in the provider's console")
    control.flush_webhooks()
    wait_for(lambda: SavedPaymentMethod.objects.get(pk=first.pk).state == State.DELETED, what="the card to be deleted")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.deleted_at is not None and not first.is_default
    assert (second.state, second.is_default) == (State.ACTIVE, True)
    assert key_deliveries(provider, WebhookDelivery.State.PROCESSED) > processed
    assert [m.pk for m in billing.SavedPaymentMethod.objects.filter(user=buyer, state=State.ACTIVE)] == [second.pk]


def test_a_card_registered_at_portone_by_a_buyer_who_closed_the_window_is_saved_by_the_webhook(live_shop):
    """The buyer registers the card in PortOne's window and closes the browser before it comes back to the
    shop: PortOne's BillingKey.Issued (sent to the registration's noticeUrls) confirms it, after the shop
    reads the key back and finds it issued under this registration's issueId."""
    _url, control = live_shop
    buyer = make_user()
    method, query = register(buyer, "portone_v2")  # approved at PortOne; the return URL is never opened
    assert SavedPaymentMethod.objects.get(pk=method.pk).state == State.PENDING
    control.flush_webhooks()
    wait_for(lambda: SavedPaymentMethod.objects.get(pk=method.pk).state == State.ACTIVE, what="the card saved")
    method.refresh_from_db()
    assert (method.reference, method.brand, method.last4, method.is_default) == (
        query["billingKey"],
        "BC카드",
        "0005",
        True,
    )
    # the buyer's late return changes nothing
    assert billing.confirm_saved_method(buyer, method.pk, params=query) == method


def test_when_portone_does_not_answer_the_issued_webhook_fails_and_its_retry_saves_the_card(live_shop):
    _url, control = live_shop
    buyer = make_user()
    control.fault("/portone/billing-keys/", method="GET", status=500)  # the shop cannot read the key back
    method, _query = register(buyer, "portone_v2")
    control.flush_webhooks()
    wait_for(
        lambda: WebhookDelivery.objects.filter(provider="portone_v2", state=WebhookDelivery.State.FAILED).exists(),
        what="the delivery to fail",
    )
    assert any(a.get("status_code") == 503 for a in control.webhooks()["attempts"])  # PortOne will come again
    assert SavedPaymentMethod.objects.get(pk=method.pk).state == State.PENDING
    control.clear_faults()
    control.flush_webhooks()
    wait_for(lambda: SavedPaymentMethod.objects.get(pk=method.pk).state == State.ACTIVE, what="the retried webhook")


def test_a_key_event_for_a_key_the_provider_still_has_changes_nothing(live_shop):
    """The event is a hint: a BillingKey.Issued (or a forged Deleted) for a key PortOne still has leaves the
    card as it is."""
    _url, _control = live_shop
    buyer = make_user()
    method = saved(buyer, "portone_v2")
    assert billing.sync_saved_method("portone_v2", method.reference) is False
    assert billing.sync_saved_method("portone_v2", "billing-key-nobody-has") is None
    method.refresh_from_db()
    assert method.state == State.ACTIVE


def test_a_subscription_on_a_card_deleted_at_portone_pauses_at_its_next_cycle_without_a_charge(live_shop):
    from bidcart.orders.models import Order
    from bidcart.subscriptions import services as subscriptions
    from tests.subscriptions.helpers import due, offered, subscribe

    _url, control = live_shop
    buyer = make_user()
    method = saved(buyer, "portone_v2")
    sub = subscribe(buyer, offered(make_user(seller=True)), method)
    providers.get("portone_v2").delete_billing_key(method.reference, reason="deleted in PortOne's console")
    control.flush_webhooks()
    wait_for(lambda: SavedPaymentMethod.objects.get(pk=method.pk).state == State.DELETED, what="the card deleted")

    subscriptions.run_cycles(now=due(sub))
    sub.refresh_from_db()
    assert (sub.state, sub.pause_reason) == ("paused", "method")
    assert not Order.objects.filter(user=buyer).exists()
