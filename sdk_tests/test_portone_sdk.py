"""`portone-server-sdk` (PortOne V2) against pgsim via `base_url=`."""

from __future__ import annotations

import httpx
import pytest
from portone_server_sdk import PortOneClient, webhook
from portone_server_sdk.errors import (
    AlreadyPaidError,
    CancelAmountExceedsCancellableAmountError,
    PaymentAlreadyCancelledError,
    PaymentNotFoundError,
    UnauthorizedError,
)
from portone_server_sdk.payment import CancelledPayment, FailedPayment, PaidPayment, PartialCancelledPayment


@pytest.fixture
def client(pgsim):
    return PortOneClient(secret="bidcart-portone-secret", base_url=f"{pgsim}/portone", store_id="store-bidcart")


def browser_pays(pgsim, payment_id, amount, action="approve"):
    params = {
        "storeId": "store-bidcart",
        "paymentId": payment_id,
        "orderName": "SDK order",
        "totalAmount": str(amount),
        "currency": "KRW",
        "redirectUrl": "http://shop.example/return",
    }
    r = httpx.post(f"{pgsim}/portone/checkout", data={**params, "action": action})
    assert r.status_code == 303


def test_pre_register_get_cancel(client, pgsim):
    client.payment.pre_register_payment(payment_id="sdk-v2-1", total_amount=30000, currency="KRW")
    browser_pays(pgsim, "sdk-v2-1", 30000)
    paid = client.payment.get_payment(payment_id="sdk-v2-1")
    assert isinstance(paid, PaidPayment)
    assert paid.amount.total == 30000 and paid.amount.paid == 30000 and paid.currency == "KRW"
    with pytest.raises(AlreadyPaidError):
        client.payment.pre_register_payment(payment_id="sdk-v2-1", total_amount=30000)

    part = client.payment.cancel_payment(
        payment_id="sdk-v2-1", reason="partial", amount=10000, current_cancellable_amount=30000
    )
    assert part.cancellation.total_amount == 10000
    assert isinstance(client.payment.get_payment(payment_id="sdk-v2-1"), PartialCancelledPayment)
    with pytest.raises(CancelAmountExceedsCancellableAmountError):
        client.payment.cancel_payment(payment_id="sdk-v2-1", reason="too much", amount=20001)
    client.payment.cancel_payment(payment_id="sdk-v2-1", reason="rest")
    cancelled = client.payment.get_payment(payment_id="sdk-v2-1")
    assert isinstance(cancelled, CancelledPayment) and cancelled.amount.cancelled == 30000
    assert len(cancelled.cancellations) == 2
    with pytest.raises(PaymentAlreadyCancelledError):
        client.payment.cancel_payment(payment_id="sdk-v2-1", reason="again")


def test_failed_payment_and_errors(client, pgsim):
    browser_pays(pgsim, "sdk-v2-fail", 1000, action="fail")
    failed = client.payment.get_payment(payment_id="sdk-v2-fail")
    assert isinstance(failed, FailedPayment) and failed.failure.reason
    with pytest.raises(PaymentNotFoundError):
        client.payment.get_payment(payment_id="sdk-v2-none")
    wrong = PortOneClient(secret="wrong", base_url=f"{pgsim}/portone")
    with pytest.raises(UnauthorizedError):
        wrong.payment.get_payment(payment_id="sdk-v2-fail")


def test_webhook_verify(client, pgsim, control, receiver):
    browser_pays(pgsim, "sdk-v2-hook", 4000)
    [hook] = receiver.wait_for("/portone", where=lambda body: body["data"]["paymentId"] == "sdk-v2-hook")
    secret = control["portone"]["webhook_secret"]
    event = webhook.verify(secret, hook["raw"], hook["headers"])
    assert event.data.payment_id == "sdk-v2-hook" and event.data.store_id == "store-bidcart"
    with pytest.raises(webhook.WebhookVerificationError):
        webhook.verify(secret, hook["raw"].replace("sdk-v2-hook", "sdk-v2-evil"), hook["headers"])
    with pytest.raises(webhook.WebhookVerificationError):
        webhook.verify("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", hook["raw"], hook["headers"])
    stale = dict(hook["headers"], **{"webhook-timestamp": str(int(hook["headers"]["webhook-timestamp"]) - 600)})
    with pytest.raises(webhook.WebhookVerificationError):
        webhook.verify(secret, hook["raw"], stale)


def test_billing_key_issue_pay_decline_delete(client):
    from portone_server_sdk.common import CardCredential, PaymentAmountInput
    from portone_server_sdk.errors import BillingKeyAlreadyDeletedError, BillingKeyNotFoundError, PgProviderError
    from portone_server_sdk.payment.billing_key import (
        DeletedBillingKeyInfo,
        InstantBillingKeyPaymentMethodInput,
        InstantBillingKeyPaymentMethodInputCard,
        IssuedBillingKeyInfo,
    )

    def issue(number):
        card = CardCredential(number=number, expiry_year="99", expiry_month="12")
        method = InstantBillingKeyPaymentMethodInput(card=InstantBillingKeyPaymentMethodInputCard(credential=card))
        return client.payment.billing_key.issue_billing_key(method=method, channel_key="channel-key-pgsim")

    key = issue("9100200000000005").billing_key_info.billing_key
    info = client.payment.billing_key.get_billing_key_info(billing_key=key)
    assert isinstance(info, IssuedBillingKeyInfo) and info.methods[0].card.number.endswith("0005")
    paid = client.payment.pay_with_billing_key(
        payment_id="sdk-bk-v2-1",
        billing_key=key,
        order_name="정기결제 1회차",
        amount=PaymentAmountInput(total=9900),
        currency="KRW",
    )
    assert paid.payment.pg_tx_id
    assert isinstance(client.payment.get_payment(payment_id="sdk-bk-v2-1"), PaidPayment)
    with pytest.raises(AlreadyPaidError):
        client.payment.pay_with_billing_key(
            payment_id="sdk-bk-v2-1",
            billing_key=key,
            order_name="again",
            amount=PaymentAmountInput(total=9900),
            currency="KRW",
        )

    poor = issue("4000000000000002").billing_key_info.billing_key
    with pytest.raises(PgProviderError) as declined:
        client.payment.pay_with_billing_key(
            payment_id="sdk-bk-v2-2",
            billing_key=poor,
            order_name="정기결제",
            amount=PaymentAmountInput(total=9900),
            currency="KRW",
        )
    assert declined.value.pg_code == "4000"
    assert isinstance(client.payment.get_payment(payment_id="sdk-bk-v2-2"), FailedPayment)
    with pytest.raises(PgProviderError):  # an expired card gets no key
        client.payment.billing_key.issue_billing_key(
            method=InstantBillingKeyPaymentMethodInput(
                card=InstantBillingKeyPaymentMethodInputCard(
                    credential=CardCredential(number="4111111111111111", expiry_year="01", expiry_month="01")
                )
            ),
            channel_key="channel-key-pgsim",
        )

    assert client.payment.billing_key.delete_billing_key(billing_key=key, reason="SDK test").deleted_at
    assert isinstance(client.payment.billing_key.get_billing_key_info(billing_key=key), DeletedBillingKeyInfo)
    with pytest.raises(BillingKeyAlreadyDeletedError):
        client.payment.billing_key.delete_billing_key(billing_key=key)
    with pytest.raises(BillingKeyNotFoundError):
        client.payment.billing_key.get_billing_key_info(billing_key="billing-key-nobody")
