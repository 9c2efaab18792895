"""The pay button says what the buyer will be charged: with PayPal chosen (PayPal takes no KRW) the
converted amount first, the shop's in brackets; back on a KRW provider, the won amount again."""

import os

from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user
from tests.payments.fixtures import make_order


def test_choosing_paypal_shows_the_converted_amount_on_the_pay_button(page, shop, settings):
    settings.PAYPAL = {**settings.PAYPAL, "currency": "USD", "krw_rate": "1400"}
    buyer = make_user("e2e.payer@example.com")
    order = make_order(buyer, price=24_000, quantity=1)  # + ₩3,000 shipping = ₩27,000
    page.goto(f"{shop}/accounts/login/")
    page.locator("input[name=email]").fill(buyer.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-logout")).to_be_visible()
    page.goto(f"{shop}/payments/pay/{order.number}/")
    button = page.get_by_test_id("pay-submit")
    expect(button).to_have_text("27,000원 결제하기")
    page.get_by_test_id("pay-paypal").check()
    expect(button).to_have_text("$19.29 (27,000원) 결제하기")  # 27,000 / 1,400 = 19.2857…
    expect(page.get_by_test_id("pay-amount-paypal")).to_have_text("$19.29 (27,000원)")  # also without JavaScript
    if os.environ.get("BIDCART_SHOTS"):
        page.screenshot(path=f"{os.environ['BIDCART_SHOTS']}/pay-paypal.png", full_page=True)
    page.get_by_test_id("pay-kakaopay").check()
    expect(button).to_have_text("27,000원 결제하기")
