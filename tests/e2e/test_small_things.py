"""Small things a new user notices: a favicon, the product header's price following the chosen option,
and signing up from a lot's "log in to bid" lands back on that lot, signed in by the emailed link."""

import re
from datetime import timedelta

from django.core import mail
from playwright.sync_api import expect

from tests.auctions.factories import make_lot
from tests.factories import make_product

PASSWORD = "e2e-long-password-731"


def test_the_site_has_a_favicon(page, live_url):
    response = page.goto(f"{live_url}/favicon.ico")
    assert response.status == 200 and "svg" in response.headers["content-type"]
    page.goto(live_url)
    assert page.locator("link[rel=icon]").get_attribute("href").endswith(".svg")


def test_the_product_header_price_follows_the_chosen_option(page, live_url):
    product = make_product(
        name="제주 감귤", slug="gamgyul", variants=[({"무게": "3kg"}, 27_000, 5), ({"무게": "5kg"}, 39_000, 4)]
    )
    page.goto(f"{live_url}/products/{product.slug}/")
    expect(page.get_by_test_id("detail-price")).to_have_text("27,000원")
    page.get_by_text("5kg").click()
    expect(page.get_by_test_id("detail-price")).to_have_text("39,000원")


def test_signing_up_from_log_in_to_bid_comes_back_to_the_lot_signed_in(page, live_url):
    lot = make_lot(title="빈티지 시계", runs=timedelta(hours=1))
    page.goto(f"{live_url}/auctions/{lot.pk}/")
    page.get_by_test_id("login-to-bid").click()
    page.get_by_test_id("login-signup").click()
    expect(page).to_have_url(re.compile(rf"/accounts/signup/\?next=(%2F|/)auctions(%2F|/){lot.pk}(%2F|/)$"))
    form = page.get_by_test_id("signup-form")
    form.locator("input[name=email]").fill("newcomer@example.com")
    form.locator("input[name=display_name]").fill("새손님")
    form.locator("input[name=phone]").fill("010-2345-6780")
    form.locator("input[name=password1]").fill(PASSWORD)
    form.locator("input[name=password2]").fill(PASSWORD)
    for box in form.locator("input[type=checkbox][required]").all():  # required consents, if the form asks
        box.check()
    page.get_by_test_id("signup-submit").click()
    expect(page.get_by_test_id("signup-done")).to_be_visible()

    link = re.search(r"https?://\S+/accounts/verify-email/\S+/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    expect(page.get_by_test_id("verify-email-done")).to_be_visible()
    page.get_by_test_id("verify-email-continue").click()
    expect(page).to_have_url(f"{live_url}/auctions/{lot.pk}/")
    expect(page.get_by_test_id("nav-logout")).to_be_attached()  # signed in by the link, no password asked
