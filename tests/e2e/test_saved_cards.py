"""A buyer registers a card in Chromium on PortOne's window (the simulator mounted in the same server), finds
it on their saved-cards page in Korean with only its company and last digits, and deletes it."""

import os

from playwright.sync_api import expect

from bidcart.payments.models import SavedPaymentMethod
from tests.e2e.test_payments import log_in
from tests.factories import make_user

SHOTS = os.environ.get("BIDCART_SCREENSHOTS", "")


def test_a_buyer_registers_a_card_on_the_window_and_deletes_it(page, shop):
    buyer = make_user()
    log_in(page, shop, buyer)
    page.goto(f"{shop}/accounts/profile/")
    page.get_by_test_id("saved-methods-link").click()
    expect(page.get_by_test_id("no-saved-methods")).to_have_text("등록한 카드가 없습니다.")
    page.get_by_test_id("add-method-portone").click()
    page.wait_for_url("**/pgsim/**")
    page.locator("button[value=approve]").first.click()
    page.wait_for_url("**/payments/methods/")
    card = page.get_by_test_id("saved-method")
    expect(card).to_contain_text("BC카드")
    expect(card).to_contain_text("0005")
    expect(page.get_by_test_id("default-method")).to_have_text("(기본)")
    assert SavedPaymentMethod.objects.get(user=buyer).state == "active"
    if SHOTS:
        for width, height in ((390, 844), (1280, 800)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=f"{SHOTS}/saved-cards-{width}.png", full_page=True)
    page.get_by_test_id("delete-method").click()
    expect(page.get_by_test_id("no-saved-methods")).to_be_visible()
    assert SavedPaymentMethod.objects.get(user=buyer).state == "deleted"


def test_a_buyer_saves_a_card_with_each_other_provider_in_the_browser(page, shop):
    """PortOne V2 through the browser SDK's requestIssueBillingKey (pay.js), KakaoPay and PayPal by their pages."""
    buyer = make_user()
    log_in(page, shop, buyer)
    for count, provider in enumerate(("portone_v2", "kakaopay", "paypal"), start=1):
        page.goto(f"{shop}/payments/methods/")
        page.get_by_test_id(f"add-method-{provider}").click()
        page.wait_for_url("**/pgsim/**")
        page.locator("button[value=approve]").first.click()
        page.wait_for_url("**/payments/methods/")
        expect(page.get_by_test_id("saved-method")).to_have_count(count)
    expect(page.get_by_test_id("saved-methods")).to_contain_text("BC카드")
    expect(page.get_by_test_id("saved-methods")).to_contain_text("PayPal")
    assert sorted(SavedPaymentMethod.objects.filter(user=buyer, state="active").values_list("provider", flat=True)) == [
        "kakaopay",
        "paypal",
        "portone_v2",
    ]
