"""The pay page: an auction win (an order without an address yet) asks for the address, then offers the
providers; starting a payment from the page sends the buyer on."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bidcart.orders import services as orders
from bidcart.orders.models import Kind
from bidcart.payments.models import Payment
from tests.factories import make_user

from .fixtures import ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def auction_win(buyer):
    seller = make_user(seller=True)
    return orders.create_order(
        buyer,
        kind=Kind.AUCTION,
        currency="KRW",
        shipping=0,
        payment_due_at=timezone.now() + timedelta(hours=48),
        lines=[
            orders.NewLine(
                product_name="빈티지 라이카 M6", unit_price=1_250_000, quantity=1, seller_id=seller.pk, sku="LOT-1"
            )
        ],
    )


def test_an_auction_win_asks_for_the_address_before_offering_payment(sim, client, buyer, auction_win):
    client.force_login(buyer)
    url = f"/payments/pay/{auction_win.number}/"
    page = client.get(url).content.decode()
    assert 'data-testid="address-form"' in page and 'data-testid="pay-form"' not in page
    assert client.post(url, {"pay": "kakaopay:card"}).status_code == 302  # refused: no address yet
    assert not Payment.objects.exists()

    bad = client.post(url, {"step": "address", **ADDRESS, "postcode": "12"})
    assert bad.status_code == 400
    assert client.post(url, {"step": "address", **ADDRESS}).status_code == 302
    auction_win.refresh_from_db()
    assert auction_win.has_address and auction_win.postcode == "06236"

    page = client.get(url).content.decode()
    assert 'data-testid="pay-kakaopay"' in page and 'data-testid="pay-vbank"' in page
    started = client.post(url, {"pay": "kakaopay:card"})  # without JavaScript: the radio value alone
    assert started.status_code == 302 and "/kakaopay/checkout/" in started["Location"]
    payment = Payment.objects.get()
    assert payment.amount == 1_250_000 and payment.order == auction_win


def test_portone_from_the_page_renders_the_browser_sdk_handoff(sim, client, buyer, order):
    client.force_login(buyer)
    page = client.post(f"/payments/pay/{order.number}/", {"provider": "portone", "method": "vbank"})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="pay-client"' in html and "iamport.js" in html
    assert "payments/js/pay.js" in html and "<script>" not in html  # no inline script under the CSP


def choices_on(page: str) -> list[tuple[str, str, str]]:
    """(type, what the form posts, the words beside the radio) for each payment choice on the pay page."""
    import re

    found = re.findall(r'value="([^"]+)" data-testid="pay-([a-z_-]+)"[^>]*>\s*([^<·]+?)\s*(?:·|</label>)', page)
    return [(kind, value, words) for value, kind, words in found]


def test_the_pay_page_offers_payment_types_not_payment_gateways(client, buyer, order):
    client.force_login(buyer)
    page = client.get(f"/payments/pay/{order.number}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert choices_on(page) == [
        ("card", "portone_v2:card", "카드"),
        ("kakaopay", "kakaopay:card", "카카오페이"),
        ("vbank", "portone_v2:vbank", "무통장입금/가상계좌"),
        ("paypal", "paypal:card", "PayPal"),
    ]
    assert "PortOne" not in page and "KakaoPay" not in page
    english = client.get(f"/payments/pay/{order.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert [words for _kind, _value, words in choices_on(english)] == [
        "Card",
        "KakaoPay",
        "Bank deposit / virtual account",
        "PayPal",
    ]


def test_payment_card_provider_picks_the_portone_version_behind_card_and_bank_deposit(client, buyer, order, settings):
    client.force_login(buyer)
    url = f"/payments/pay/{order.number}/"
    settings.PAYMENT_CARD_PROVIDER = "portone"
    offered = {kind: value for kind, value, _words in choices_on(client.get(url).content.decode())}
    assert offered["card"] == "portone:card" and offered["vbank"] == "portone:vbank"
    assert "portone_v2" not in str(offered)  # one card PG on the page; the API still takes either

    settings.PAYMENT_CARD_PROVIDER = ""
    settings.PAYMENT_PROVIDERS = ["kakaopay", "portone", "paypal"]  # no V2: the card type falls to V1
    offered = {kind: value for kind, value, _words in choices_on(client.get(url).content.decode())}
    assert offered == {
        "card": "portone:card",
        "kakaopay": "kakaopay:card",
        "vbank": "portone:vbank",
        "paypal": "paypal:card",
    }

    settings.PAYMENT_PROVIDERS = ["kakaopay", "paypal"]  # no card PG: no 카드 or 무통장입금 choice at all
    assert [kind for kind, _v, _w in choices_on(client.get(url).content.decode())] == ["kakaopay", "paypal"]


def test_someone_elses_order_has_no_pay_page(client, order):
    client.force_login(make_user())
    assert client.get(f"/payments/pay/{order.number}/").status_code == 404


def test_a_paid_orders_page_does_not_list_an_abandoned_attempt_as_awaiting_the_buyer(client, buyer, order):
    def attempt(status):
        return Payment.objects.create(
            order=order,
            buyer=buyer,
            provider="kakaopay",
            amount=order.total,
            currency="KRW",
            provider_amount=order.total,
            provider_currency="KRW",
            status=status,
        )

    walked_away = attempt("pending")  # the buyer opened KakaoPay, closed it, and paid with another attempt
    attempt("paid")
    client.force_login(buyer)
    page = client.get(f"/orders/{order.number}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert 'data-status="pending"' in page  # still payable: the open attempt is listed
    orders.mark_paid(order)
    page = client.get(f"/orders/{order.number}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert page.count('data-testid="payment-row"') == 1 and 'data-status="paid"' in page
    assert "구매자 결제 대기" not in page and walked_away.merchant_uid not in page


@pytest.mark.parametrize(
    ("offered", "card", "told"),
    [
        ("kakaopay,portone", "portone_v2", "PAYMENT_CARD_PROVIDER=portone_v2 is not in PAYMENT_PROVIDERS"),
        ("kakaopay,portone", "kakaopay", "PAYMENT_CARD_PROVIDER must be portone or portone_v2"),
    ],
)
def test_a_card_provider_the_shop_cannot_use_stops_it_at_start_with_a_clear_message(tmp_path, offered, card, told):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(BIDCART_DATA_DIR=str(tmp_path), DEBUG="1", PAYMENT_PROVIDERS=offered, PAYMENT_CARD_PROVIDER=card)
    result = subprocess.run(
        [sys.executable, "-m", "bidcart.cli", "manage", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and told in result.stderr
