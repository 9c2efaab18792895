"""A buyer reads how a payment ended in short Korean or English sentences, never a provider's code or
raw text (QUIT_PAYMENT, INSTRUMENT_DECLINED, "PayPal POST /v2/..."); staff still find the raw text in
the payment's event log."""

from __future__ import annotations

import pytest

from bidcart.payments import outcomes
from bidcart.payments.models import Payment, PaymentEvent, Status
from tests.factories import api_for

from .test_flows import back_to_shop, start, through_page, through_window

pytestmark = pytest.mark.django_db

RAW = ("QUIT_PAYMENT", "INSTRUMENT_DECLINED", "FAIL_AUTH_PASSWORD", "PayPal POST", "/v2/", "F0004", "F0005", "pgsim")


@pytest.fixture
def browser(client, buyer):
    client.force_login(buyer)
    return client


def shows_no_provider_text(text: str) -> bool:
    return not any(raw in text for raw in RAW)


@pytest.mark.parametrize(
    "provider,outcome,korean,english",
    [
        ("paypal", "fail", "카드 또는 계좌가 거절되었습니다", "The card or account was declined"),
        ("kakaopay", "cancel", "결제를 취소하셨습니다", "You cancelled the payment"),
        ("kakaopay", "fail", "결제가 완료되지 않았습니다", "The payment did not go through"),
        ("portone", "fail", "카드 또는 계좌가 거절되었습니다", "The card or account was declined"),
        ("portone", "cancel", "결제를 취소하셨습니다", "You cancelled the payment"),
    ],
)
def test_the_buyer_reads_how_a_payment_ended_in_their_language_and_staff_keep_the_providers_text(
    sim, buyer, order, browser, provider, outcome, korean, english
):
    started = start(buyer, order, provider)
    if provider == "portone":
        location = through_window(started, action=outcome)
    else:
        location = through_page(sim, provider, started["next"]["url"], outcome)
    landing = back_to_shop(browser, location)
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert payment.status in (Status.FAILED, Status.CANCELLED)

    page = browser.get(landing.url).content.decode()  # the order page with the message and the attempts
    assert korean in page and shows_no_provider_text(page)
    browser.cookies["django_language"] = "en"  # the language switch
    english_page = browser.get(landing.url).content.decode()
    assert english in english_page and shows_no_provider_text(english_page)

    listed = api_for(buyer).get(f"/api/v1/orders/{order.number}/payments/").json()
    detail = api_for(buyer).get(f"/api/v1/payments/{payment.merchant_uid}/").json()
    assert shows_no_provider_text(str(listed) + str(detail))
    assert detail["failure"] and listed[0]["failure"] == detail["failure"]

    # staff: the provider's own words are in the log
    logged = " ".join(
        payment.events.filter(type__in=[PaymentEvent.Type.STATUS, PaymentEvent.Type.ERROR]).values_list(
            "message", flat=True
        )
    )
    assert payment.failure and payment.failure[:20] in logged


@pytest.mark.parametrize(
    "raw,expected",
    [
        (
            "PayPal POST /v2/checkout/orders/5O190127TN364715T/capture → 422 INSTRUMENT_DECLINED: The instrument "
            "presented "
            "was either declined",
            outcomes.DECLINED,
        ),
        ("the buyer left KakaoPay's page, or the payment expired (QUIT_PAYMENT)", outcomes.CANCELLED),
        ("사용자가 결제를 취소하셨습니다", outcomes.CANCELLED),
        ("카드 승인이 거절되었습니다 (한도초과)", outcomes.DECLINED),
        ("amount mismatch: amount 100 ≠ 28000", outcomes.MISMATCH),
        ("KakaoPay POST /online/v1/payment/ready → 503", outcomes.UNAVAILABLE),
        ("something nobody has seen before", outcomes.FAILED),
    ],
)
def test_provider_outcomes_map_to_a_short_sentence(raw, expected):
    assert outcomes.from_raw(raw) == expected
