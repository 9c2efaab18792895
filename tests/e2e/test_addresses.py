"""Saved addresses in Chromium: the first checkout saves the address as the default with its delivery note,
the next checkout starts from it, another saved address is one tap away, and the address book changes the
default."""

import os

from playwright.sync_api import expect

from bidcart.cart.models import Cart, CartItem
from bidcart.orders import services
from bidcart.orders.models import Order, SavedAddress
from tests.factories import PASSWORD, make_category, make_product, make_user

SHOTS = os.environ.get("BIDCART_SHOTS", "")


def fill_cart(user, product):
    cart, _ = Cart.objects.get_or_create(user=user)
    CartItem.objects.create(cart=cart, variant=product.variants.get(), quantity=1)


def test_checkout_remembers_addresses_and_the_delivery_note(browser, live_url):
    seller = make_user("e2e.seller@example.com", seller=True)
    mug = make_product(
        seller,
        make_category("주방", "kitchen"),
        name="아주 긴 이름의 핸드메이드 도자기 머그컵 350ml 화이트",
        slug="mug",
        price=18_000,
        stock=10,
    )
    buyer = make_user("e2e.buyer@example.com", display_name="구매자")
    for width, height in ((390, 844), (1280, 800)):
        context = browser.new_context(
            locale="ko-KR", timezone_id="Asia/Seoul", viewport={"width": width, "height": height}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_url}/accounts/login/")
        page.locator("input[name=email]").fill(buyer.email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("nav-logout")).to_be_attached()  # signed in (on a phone it sits behind the menu)

        fill_cart(buyer, mug)
        page.goto(f"{live_url}/orders/checkout/")
        form = page.get_by_test_id("checkout-form")
        if width == 390:  # the first checkout: a new address, saved as the default
            expect(page.get_by_test_id("saved-addresses")).to_have_count(0)
            form.locator("input[name=recipient]").fill("김구매")
            form.locator("input[name=phone]").fill("010-2345-6789")
            form.locator("input[name=postcode]").fill("06236")
            form.locator("input[name=address1]").fill("서울 강남구 테헤란로 152")
            form.locator("input[name=address2]").fill("12층")
            form.locator("input[name=delivery_note]").fill("문 앞에 놓아 주세요.")
            expect(form.locator("input[name=save_address]")).to_be_checked()
            # the summary's price keeps its own line beside a name that wraps
            name, price = page.locator(".summary-name").first, page.locator(".summary-price").first
            assert name.bounding_box()["height"] > price.bounding_box()["height"]  # the long name wraps
            assert price.bounding_box()["x"] > name.bounding_box()["x"] + name.bounding_box()["width"] - 1
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/checkout-390.png", full_page=True)
            page.get_by_test_id("place-order").click()
            expect(page.get_by_test_id("pay-total")).to_be_visible()
        else:  # the next checkout starts from the saved default, note included
            expect(form.locator("input[name=postcode]")).to_have_value("06236")
            expect(form.locator("input[name=delivery_note]")).to_have_value("문 앞에 놓아 주세요.")
            expect(form.locator("input[name=save_address]")).not_to_be_checked()
            office = services.save_address(
                buyer,
                {
                    "recipient": "김구매",
                    "phone": "010-2345-6789",
                    "postcode": "04524",
                    "address1": "서울 중구 세종대로 110",
                    "address2": "3층",
                    "delivery_note": "경비실에 맡겨 주세요.",
                },
            )
            page.reload()
            page.get_by_test_id("use-address").filter(has_text="세종대로").click()
            expect(form.locator("input[name=postcode]")).to_have_value("04524")
            expect(form.locator("input[name=delivery_note]")).to_have_value("경비실에 맡겨 주세요.")
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/checkout-1280.png", full_page=True)
            page.get_by_test_id("place-order").click()
            expect(page.get_by_test_id("pay-total")).to_be_visible()
            # the address book makes the office the default
            page.goto(f"{live_url}/orders/addresses/")
            expect(page.get_by_test_id("address")).to_have_count(2)
            page.get_by_test_id("address").filter(has_text="세종대로").get_by_test_id("make-default").click()
            expect(
                page.get_by_test_id("address").filter(has_text="세종대로").get_by_test_id("default-address")
            ).to_be_visible()
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/addresses-1280.png", full_page=True)
            assert SavedAddress.objects.get(is_default=True).pk == office.pk
        context.close()
    notes = list(Order.objects.order_by("created_at").values_list("postcode", "delivery_note"))
    assert notes == [("06236", "문 앞에 놓아 주세요."), ("04524", "경비실에 맡겨 주세요.")]
