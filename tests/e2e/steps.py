"""Steps several browser tests take the same way: an auction winner's address, paying on the provider's page."""

from playwright.sync_api import expect


def give_address(page, recipient="김낙찰"):
    """The pay page of an order without an address (an auction win) asks for one first."""
    form = page.get_by_test_id("address-form")
    form.locator("input[name=recipient]").fill(recipient)
    form.locator("input[name=phone]").fill("010-3456-7890")
    form.locator("input[name=postcode]").fill("04524")
    form.locator("input[name=address1]").fill("서울 중구 세종대로 110")
    page.get_by_test_id("save-address").click()


def pay_on_providers_page(page, choice, button="approve", total=None):
    """From the pay page: pick a payment type (card, kakaopay, vbank, paypal), go to its hosted page (the
    simulator), press `button`."""
    if total is not None:
        expect(page.get_by_test_id("pay-total")).to_contain_text(total)
    page.get_by_test_id(f"pay-{choice}").check()
    page.get_by_test_id("pay-submit").click()
    page.wait_for_url("**/pgsim/**")
    page.locator(f"button[value={button}]").first.click()
