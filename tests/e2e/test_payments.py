"""A buyer pays an order in Chromium on each provider's hosted page (the simulator mounted in the same
server) and finds it paid on their order page; a tampered amount ends in a refused payment they are
told about."""

import pytest
from playwright.sync_api import expect

from bidcart.orders.models import Order
from bidcart.payments.models import Payment
from tests.catalog.factories import PASSWORD, make_user
from tests.payments.fixtures import make_order


@pytest.fixture
def shop(live_url, settings):
    import bidcart.asgi

    settings.SITE_URL = live_url
    settings.PGSIM_URL = f"{live_url}/pgsim"
    bidcart.asgi.pgsim.sim.state.reset()
    return live_url


def log_in(page, url, user):
    page.goto(f"{url}/accounts/login/")
    page.locator("input[name=email]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-logout")).to_be_visible()


def pay_on_hosted_page(page, shop, order, choice, button):
    page.goto(f"{shop}/orders/{order.number}/")
    page.get_by_test_id("order-pay").click()
    expect(page.get_by_test_id("pay-total")).to_contain_text("28,000")
    page.get_by_test_id(f"pay-{choice}").check()
    page.get_by_test_id("pay-submit").click()
    page.wait_for_url("**/pgsim/**")
    page.locator(f"button[value={button}]").first.click()


@pytest.mark.parametrize("choice", ["kakaopay-card", "paypal-card", "portone-card", "portone_v2-card"])
def test_buyer_pays_on_the_providers_page_and_sees_the_order_paid(page, shop, choice):
    buyer = make_user()
    order = make_order(buyer)
    log_in(page, shop, buyer)
    pay_on_hosted_page(page, shop, order, choice, "approve")
    expect(page.get_by_test_id("order-status")).to_have_text("결제 완료")
    expect(page.get_by_test_id("payment-status")).to_contain_text("결제")
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert Payment.objects.get(order=order).status == "paid"


def test_a_tampered_amount_is_refused_and_the_buyer_is_told(page, shop):
    buyer = make_user()
    order = make_order(buyer)
    log_in(page, shop, buyer)
    page.goto(f"{shop}/orders/{order.number}/")
    page.get_by_test_id("order-pay").click()
    page.get_by_test_id("pay-kakaopay-card").check()
    page.get_by_test_id("pay-submit").click()
    page.wait_for_url("**/pgsim/**")
    page.locator("input[name=tamper_amount]").fill("100")
    page.locator("button[value=amount]").click()
    expect(page.get_by_test_id("order-status")).to_have_text("결제 대기")
    expect(page.get_by_test_id("payment-failure")).to_be_visible()
    expect(page.locator(".messages")).to_be_visible()
    assert Payment.objects.get(order=order).status == "failed"
