"""An order holding two sellers' items, in Chromium: a seller ships their own parcel with a courier and a
tracking number (seeing only their own line), the buyer follows both parcels and confirms the purchase
(구매확정), which opens the review."""

import os

from playwright.sync_api import expect

from bidcart.cart.models import Cart, CartItem
from bidcart.orders import services
from bidcart.orders.models import Order
from tests.factories import PASSWORD, make_category, make_product, make_user

SHOTS = os.environ.get("BIDCART_SHOTS", "")  # a folder: screenshots of the pages at phone and desktop size
ADDRESS = {
    "recipient": "김구매",
    "phone": "010-2345-6789",
    "postcode": "06236",
    "address1": "서울 강남구 테헤란로 152",
    "address2": "12층",
}


def login(browser, live_url, user, width=1280, height=800):
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_url}/accounts/login/")
    page.locator("input[name=email]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-logout")).to_be_attached()  # signed in (on a phone it sits behind the menu)
    return context, page


def shoot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_a_seller_ships_their_parcel_and_the_buyer_confirms_the_purchase(browser, live_url):
    kitchen = make_category("주방", "kitchen")
    seller = make_user("e2e.seller@example.com", seller=True, display_name="머그공방")
    other_seller = make_user("e2e.seller2@example.com", seller=True, display_name="접시상회")
    mug = make_product(seller, kitchen, name="도자기 머그", slug="mug", price=18_000, stock=5)
    plate = make_product(other_seller, kitchen, name="유리 접시", slug="plate", price=12_000, stock=5)
    buyer = make_user("e2e.buyer@example.com", display_name="구매자")
    cart = Cart.objects.create(user=buyer)
    for product in (mug, plate):
        CartItem.objects.create(cart=cart, variant=product.variants.get(), quantity=1)
    order = services.mark_paid(services.place_order(buyer, shipping_address=ADDRESS))

    # the seller sees their mug, not the other seller's plate, and ships it
    context, page = login(browser, live_url, seller)
    page.goto(f"{live_url}/orders/{order.number}/")
    expect(page.get_by_test_id("order-lines")).to_contain_text("도자기 머그")
    expect(page.get_by_test_id("order-lines")).not_to_contain_text("유리 접시")
    expect(page.get_by_test_id("order-address")).to_contain_text("테헤란로 152")
    page.get_by_test_id("advance-status").select_option(label="발송 처리")
    page.get_by_test_id("advance-courier").select_option(label="CJ대한통운")
    page.get_by_test_id("advance-tracking").fill("6789-1234-5678")
    shoot(page, "seller-order-1280")
    page.get_by_role("button", name="상태 변경").click()
    expect(page.get_by_test_id("shipment-status")).to_have_text("발송됨")
    expect(page.get_by_test_id("tracking-link")).to_have_text("678912345678")
    context.close()
    assert Order.objects.get(pk=order.pk).status == "preparing"  # the plate has not left yet

    services.update_shipment(other_seller, order, "shipped", courier="hanjin", tracking_number="512345678901")

    # the buyer follows both parcels, confirms the purchase, and may now review the mug
    for width, height in ((390, 844), (1280, 800)):
        context, page = login(browser, live_url, buyer, width, height)
        page.goto(f"{live_url}/orders/{order.number}/")
        expect(page.get_by_test_id("order-status")).to_have_text("발송됨")
        expect(page.get_by_test_id("shipment")).to_have_count(2)
        expect(page.get_by_test_id("tracking-link").first).to_have_attribute(
            "href", "https://trace.cjlogistics.com/next/tracking.html?wblNo=678912345678"
        )
        expect(page.get_by_test_id("tracking-link").last).to_have_attribute(
            "href",
            r"https://www.hanjin.com/kor/CMS/DeliveryMgr/WaybillResult.do?mCode=MN038&schLang=KR&wblnumText2=512345678901",
        )
        shoot(page, f"buyer-order-{width}")
        if width == 1280:
            page.get_by_test_id("order-confirm").click()
            expect(page.get_by_test_id("order-confirmed")).to_be_visible()
            expect(page.get_by_test_id("order-status")).to_have_text("배송 완료")
            expect(page.get_by_test_id("order-confirm")).to_have_count(0)
            shoot(page, "buyer-confirmed-1280")
            page.goto(f"{live_url}/products/mug/")
            expect(page.get_by_test_id("write-review")).to_be_visible()
        context.close()
    assert Order.objects.get(pk=order.pk).confirmed_at is not None
