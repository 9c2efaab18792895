"""A buyer pays an order in Chromium on each provider's hosted page (the simulator mounted in the same
server) and finds it paid on their order page; a tampered amount ends in a refused payment they are
told about."""

import pytest
from playwright.sync_api import expect

from bidcart.orders.models import Order
from bidcart.payments.models import Payment
from tests.e2e.steps import give_address, pay_on_providers_page
from tests.factories import PASSWORD, make_user
from tests.payments.fixtures import make_order


def log_in(page, url, user):
    page.goto(f"{url}/accounts/login/")
    page.locator("input[name=email]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-logout")).to_be_visible()


def pay_on_hosted_page(page, shop, order, choice, button):
    page.goto(f"{shop}/orders/{order.number}/")
    page.get_by_test_id("order-pay").click()
    pay_on_providers_page(page, choice, button, total="28,000")


@pytest.mark.parametrize(
    ("choice", "card_provider"), [("kakaopay", ""), ("paypal", ""), ("card", "portone"), ("card", "portone_v2")]
)
def test_buyer_pays_on_the_providers_page_and_sees_the_order_paid(page, shop, settings, choice, card_provider):
    settings.PAYMENT_CARD_PROVIDER = card_provider  # which PortOne version serves 카드
    buyer = make_user()
    order = make_order(buyer)
    log_in(page, shop, buyer)
    pay_on_hosted_page(page, shop, order, choice, "approve")
    expect(page.get_by_test_id("order-status")).to_have_text("결제 완료")
    expect(page.get_by_test_id("payment-status")).to_contain_text("결제")
    assert Order.objects.get(pk=order.pk).status == "paid"
    payment = Payment.objects.get(order=order)
    assert payment.status == "paid" and payment.provider == (card_provider or choice)


def test_a_tampered_amount_is_refused_and_the_buyer_is_told(page, shop):
    buyer = make_user()
    order = make_order(buyer)
    log_in(page, shop, buyer)
    page.goto(f"{shop}/orders/{order.number}/")
    page.get_by_test_id("order-pay").click()
    page.get_by_test_id("pay-kakaopay").check()
    page.get_by_test_id("pay-submit").click()
    page.wait_for_url("**/pgsim/**")
    page.locator("input[name=tamper_amount]").fill("100")
    page.locator("button[value=amount]").click()
    expect(page.get_by_test_id("order-status")).to_have_text("결제 대기")
    expect(page.get_by_test_id("payment-failure")).to_be_visible()
    expect(page.locator(".messages")).to_be_visible()
    assert Payment.objects.get(order=order).status == "failed"


def test_an_auction_winner_gives_the_address_and_pays(page, shop):
    from datetime import timedelta

    from django.utils import timezone

    from bidcart.orders import services as orders
    from bidcart.orders.models import Kind

    winner = make_user()
    win = orders.create_order(
        winner,
        kind=Kind.AUCTION,
        currency="KRW",
        shipping=0,
        payment_due_at=timezone.now() + timedelta(hours=48),
        lines=[
            orders.NewLine(
                product_name="빈티지 라이카 M6",
                unit_price=1_250_000,
                quantity=1,
                seller_id=make_user(seller=True).pk,
                sku="LOT-1",
            )
        ],
    )
    log_in(page, shop, winner)
    page.goto(f"{shop}/orders/{win.number}/")
    page.get_by_test_id("order-pay").click()
    give_address(page)
    pay_on_providers_page(page, "kakaopay", total="1,250,000")
    expect(page.get_by_test_id("order-status")).to_have_text("결제 완료")
    expect(page.get_by_test_id("order-address")).to_contain_text("세종대로")
    assert Order.objects.get(pk=win.pk).status == "paid"


@pytest.mark.parametrize(
    "choice,button,told",
    [
        ("kakaopay", "cancel", "결제를 취소하셨습니다"),
        ("paypal", "fail", "카드 또는 계좌가 거절되었습니다"),
    ],
)
def test_a_buyer_who_does_not_pay_reads_why_in_korean_without_provider_codes(
    page, shop, choice, button, told, tmp_path
):
    buyer = make_user()
    order = make_order(buyer)
    log_in(page, shop, buyer)
    pay_on_hosted_page(page, shop, order, choice, button)
    expect(page.locator(".messages")).to_contain_text(told)
    expect(page.get_by_test_id("order-status")).to_have_text("결제 대기")  # the order can still be paid
    text = page.locator("body").inner_text()
    for code in ("QUIT_PAYMENT", "INSTRUMENT_DECLINED", "PayPal POST", "/v2/"):
        assert code not in text
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(tmp_path / f"{choice}-{button}-{width}.png"), full_page=True)
