"""At 390 px (a phone) no main page is wider than the screen, for a visitor and for a signed-in shopper
who sells too; the header folds into a menu whose Korean labels stay on one line with tap-sized rows."""

import os
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from bidcart.auctions import services as auctions
from bidcart.cart import services as cart
from bidcart.orders import services as orders
from tests.auctions.factories import PASSWORD, bidder, make_category, make_lot
from tests.factories import make_product

PHONE = {"width": 390, "height": 844}
ADDRESS = {
    "recipient": "김배송",
    "phone": "010-1234-5678",
    "postcode": "06236",
    "address1": "서울 강남구 테헤란로 152 강남파이낸스센터",
    "address2": "12층 1201호",
}
LONG_NAME = "국내산 유기농 제주 감귤 선물세트 프리미엄 대용량 5kg 산지직송 한정판매"


def shots_dir():
    """Set BIDCART_SCREENSHOTS to a folder to keep a screenshot of every page measured (to look at)."""
    return os.environ.get("BIDCART_SCREENSHOTS")


def market():
    shopper = bidder("shopper@example.com", display_name="김쇼핑", seller=True)
    category = make_category("식품·과일", "food")
    product = make_product(
        shopper,
        category,
        name=LONG_NAME,
        slug="gamgyul",
        price=27_000,
        stock=9,
        variants=[({"무게": "3kg"}, 27_000, 5), ({"무게": "5kg"}, 39_000, 4)],
    )
    rival = bidder("rival@example.com", display_name="라이벌")
    lot = make_lot(
        title="빈티지 라이카 M3 필름 카메라 (1958년식, 정상 작동, 렌즈 포함)",
        start=120_000,
        runs=timedelta(hours=2),
        category=make_category("카메라", "cameras"),
    )
    auctions.place_bid(shopper, lot.pk, 130_000)
    auctions.place_bid(rival, lot.pk, 125_000)
    mine = cart._user_cart(shopper)
    cart.add_item(mine, product.variants.first().pk, 1)
    order = orders.place_order(shopper, shipping_address=ADDRESS)
    cart.add_item(mine, product.variants.last().pk, 2)
    return shopper, product, lot, order


def too_wide(page, url, name):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    if shots_dir():
        page.screenshot(path=os.path.join(shots_dir(), f"phone-{name}.png"), full_page=True)
    return f"{name}: {width}px" if width > PHONE["width"] else None


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="ko-KR", timezone_id="Asia/Seoul", viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_no_main_page_is_wider_than_a_phone_for_a_visitor_or_a_signed_in_shopper(phone, shop):
    shopper, product, lot, order = market()
    visitor_pages = {
        "home": "/",
        "products": "/products/",
        "product": f"/products/{product.slug}/",
        "cart": "/cart/",
        "login": "/accounts/login/",
        "signup": "/accounts/signup/",
        "auctions": "/auctions/",
        "lot": f"/auctions/{lot.pk}/",
    }
    wider = [too_wide(phone, shop + path, f"visitor-{name}") for name, path in visitor_pages.items()]

    phone.goto(f"{shop}/accounts/login/")
    phone.locator("input[name=email]").fill(shopper.email)
    phone.locator("input[name=password]").fill(PASSWORD)
    phone.get_by_test_id("login-submit").click()
    phone.wait_for_url(shop + "/")
    member_pages = {
        **visitor_pages,
        "checkout": "/orders/checkout/",
        "orders": "/orders/",
        "order": f"/orders/{order.number}/",
        "profile": "/accounts/profile/",
        "my-bids": "/auctions/mine/",
        "seller": "/seller/",
    }
    member_pages.pop("login"), member_pages.pop("signup")
    wider += [too_wide(phone, shop + path, f"member-{name}") for name, path in member_pages.items()]
    assert [w for w in wider if w] == []


def test_the_phone_header_is_one_row_with_a_menu_of_one_line_tap_sized_labels(phone, shop):
    shopper, *_ = market()
    phone.goto(f"{shop}/accounts/login/")
    phone.locator("input[name=email]").fill(shopper.email)
    phone.locator("input[name=password]").fill(PASSWORD)
    phone.get_by_test_id("login-submit").click()
    header = phone.locator("header.topbar").bounding_box()
    assert header["height"] <= 70  # brand and the menu button, nothing else, until the menu is opened
    expect(phone.get_by_test_id("nav-orders")).to_be_hidden()

    phone.get_by_test_id("menu-button").click()
    for testid in ("nav-orders", "nav-my-auctions", "nav-wishlist", "nav-cart", "nav-profile"):
        link = phone.get_by_test_id(testid)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert 44 <= box["height"] < 50, (testid, box)  # a tap-sized row, and 내 주문 on one line
    phone.get_by_test_id("nav-orders").click()
    phone.wait_for_url("**/orders/")


def test_the_desktop_header_shows_every_link_without_a_menu(page, shop):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(shop)
    expect(page.get_by_test_id("menu-button")).to_be_hidden()
    expect(page.get_by_test_id("nav-products")).to_be_visible()
    expect(page.get_by_test_id("nav-login")).to_be_visible()


def test_on_a_phone_the_main_buttons_are_tap_sized_and_the_room_bids_from_a_bar_at_the_bottom(phone, shop):
    shopper, product, lot, _order = market()
    phone.goto(f"{shop}/accounts/login/")
    phone.locator("input[name=email]").fill(shopper.email)
    phone.locator("input[name=password]").fill(PASSWORD)
    phone.get_by_test_id("login-submit").click()
    phone.wait_for_url(shop + "/")
    phone.goto(f"{shop}/products/{product.slug}/")
    assert phone.get_by_test_id("add-to-cart").bounding_box()["height"] >= 44

    phone.goto(f"{shop}/auctions/{lot.pk}/")
    bar = phone.get_by_test_id("bid-form")
    expect(phone.get_by_test_id("bar-price")).to_have_text("127,500원")
    expect(phone.get_by_test_id("bar-countdown")).to_have_text(re.compile(r"^\d+:\d\d(:\d\d)?$"))
    box = bar.bounding_box()
    assert abs(box["y"] + box["height"] - PHONE["height"]) <= 1  # fixed to the bottom of the screen
    phone.mouse.wheel(0, 2000)  # still there after scrolling through the history
    assert abs(bar.bounding_box()["y"] + bar.bounding_box()["height"] - PHONE["height"]) <= 1
    for testid in ("bid-amount", "bid-submit"):
        assert phone.get_by_test_id(testid).bounding_box()["height"] >= 44
