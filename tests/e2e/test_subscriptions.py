"""A buyer subscribes to a regular delivery in Chromium (on a phone, 390×844): from the product page, with the
card saved on PortOne's window (the simulator mounted in the same server); the sweep runs the first cycle
and the buyer sees it paid, skips the next delivery, and the seller sees the schedule."""

import os
from datetime import timedelta

from playwright.sync_api import expect

from bidcart.orders.models import Order
from bidcart.subscriptions import services
from bidcart.subscriptions.models import Subscription
from tests.catalog.factories import make_user
from tests.e2e.test_payments import log_in
from tests.subscriptions.helpers import card, due, offered

PHONE = {"width": 390, "height": 844}


def shoot(page, name):
    """Set BIDCART_SCREENSHOTS to a folder to keep the screenshots (to look at)."""
    folder = os.environ.get("BIDCART_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"subscriptions-{name}.png"), full_page=True)


def fits_the_phone(page) -> bool:
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)") <= PHONE["width"]


def test_a_buyer_subscribes_on_a_phone_and_sees_the_first_delivery_paid(browser, shop):
    seller = make_user("farm@example.com", seller=True, display_name="제주농원")
    product = offered(seller, intervals=("2w", "1m"), name="제주 유기농 감귤 5kg 산지직송", price=29_000)
    buyer = make_user("subscriber@example.com", display_name="김정기")
    card(buyer)  # registered on PortOne's window (tests/e2e/test_saved_cards.py does it in the browser)
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul", has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, shop, buyer)  # on a desktop-wide window (a phone hides the header's links in a menu)
    page.set_viewport_size(PHONE)

    page.goto(f"{shop}/products/{product.slug}/")
    expect(page.get_by_test_id("subscribe-offer")).to_contain_text("정기배송도 가능: 2주마다, 매월")
    page.get_by_test_id("subscribe-link").click()
    expect(page.locator("h1")).to_have_text("제주 유기농 감귤 5kg 산지직송 정기배송 신청")
    expect(page.get_by_test_id("subscribe-form")).to_contain_text("BC카드 ···· 0005")
    page.locator("input[name=interval][value='1m']").check()
    page.locator("input[name=quantity]").fill("2")
    first = services.seoul_today() + timedelta(days=2)
    page.locator("input[name=first_date]").fill(first.isoformat())
    page.locator("input[name=recipient]").fill("김정기")
    page.locator("input[name=phone]").fill("010-2345-6789")
    page.locator("input[name=postcode]").fill("63122")
    page.locator("input[name=address1]").fill("제주특별자치도 제주시 첨단로 242")
    page.locator("input[name=address2]").fill("3층")
    assert fits_the_phone(page)
    shoot(page, "new-390")
    page.get_by_test_id("subscribe").click()

    page.wait_for_url("**/subscriptions/*/")
    expect(page.get_by_test_id("subscription-state")).to_have_text("이용 중")
    expect(page.get_by_test_id("next-delivery")).to_contain_text(f"{first:%Y-%m-%d}")
    expect(page.get_by_test_id("next-delivery")).to_contain_text("09:00")
    expect(page.get_by_test_id("next-delivery")).to_contain_text("약 58,000원")
    sub = Subscription.objects.get(user=buyer)
    assert (sub.interval, sub.quantity, sub.address2) == ("1m", 2, "3층")

    services.run_cycles(now=due(sub))  # the sweep, on the first date
    page.reload()
    cycle = page.get_by_test_id("cycle")
    expect(cycle).to_contain_text("결제 완료")
    order = Order.objects.get(user=buyer)
    expect(cycle).to_contain_text(order.number)
    assert order.status == "paid" and order.total == 58_000
    page.get_by_test_id("skip-next").click()
    expect(page.get_by_test_id("messages")).to_contain_text("다음 배송을 건너뜁니다.")
    expect(page.get_by_test_id("cycle").first).to_contain_text("건너뜀")
    assert fits_the_phone(page)
    shoot(page, "detail-390")
    page.set_viewport_size({"width": 1280, "height": 800})
    shoot(page, "detail-1280")
    context.close()


def test_the_seller_sees_who_subscribes_and_when(page, shop):
    seller = make_user("farm2@example.com", seller=True, display_name="제주농원")
    product = offered(seller, intervals=("1w",), name="무농약 콩나물 1kg")
    buyer = make_user("subscriber2@example.com")
    services.subscribe(
        buyer,
        variant_id=product.variants.get().pk,
        quantity=3,
        interval="1w",
        method_id=card(buyer).pk,
        first_date=services.seoul_today() + timedelta(days=4),
        shipping_address={
            "recipient": "박정기",
            "phone": "010-1111-2222",
            "postcode": "06236",
            "address1": "서울 강남구 테헤란로 152",
        },
    )
    log_in(page, shop, seller)
    page.goto(f"{shop}/seller/")
    page.get_by_test_id("seller-subscriptions").click()
    row = page.get_by_test_id("scheduled")
    expect(row).to_contain_text("무농약 콩나물 1kg")
    expect(row).to_contain_text("박정기")
    expect(row).to_contain_text("매주")
    shoot(page, "selling-1280")
