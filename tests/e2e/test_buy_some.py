"""Buy some, keep the rest, in Chromium: untick a cart line and only the ticked one is ordered; 바로구매 on a
product page goes straight to checkout with that option alone."""

from playwright.sync_api import expect

from bidcart.cart.models import Cart, CartItem
from bidcart.orders.models import Order
from tests.factories import PASSWORD, make_category, make_product, make_user


def test_untick_a_line_and_buy_now(page, live_url):
    seller = make_user("e2e.seller@example.com", seller=True)
    kitchen = make_category("주방", "kitchen")
    mug = make_product(seller, kitchen, name="도자기 머그", slug="mug", price=8_000, stock=10)
    plate = make_product(seller, kitchen, name="유리 접시", slug="plate", price=12_000, stock=10)
    buyer = make_user("e2e.buyer@example.com", display_name="구매자")
    cart = Cart.objects.create(user=buyer)
    for product in (mug, plate):
        CartItem.objects.create(cart=cart, variant=product.variants.get(), quantity=1)
    page.goto(f"{live_url}/accounts/login/")
    page.locator("input[name=email]").fill(buyer.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-logout")).to_be_visible()

    page.goto(f"{live_url}/cart/")
    expect(page.get_by_test_id("free-shipping-hint")).to_contain_text("30,000원 더 담으면 무료배송")
    page.get_by_test_id("cart-line").filter(has_text="유리 접시").get_by_test_id("cart-select").uncheck()
    page.get_by_test_id("checkout").click()
    expect(page.get_by_test_id("order-summary")).to_contain_text("도자기 머그")
    expect(page.get_by_test_id("order-summary")).not_to_contain_text("유리 접시")
    form = page.get_by_test_id("checkout-form")
    form.locator("input[name=recipient]").fill("김구매")
    form.locator("input[name=phone]").fill("010-2345-6789")
    form.locator("input[name=postcode]").fill("06236")
    form.locator("input[name=address1]").fill("서울 강남구 테헤란로 152")
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("pay-total")).to_contain_text("11,000")  # 8,000 + 3,000 shipping
    page.goto(f"{live_url}/cart/")
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    expect(page.get_by_test_id("cart-line")).to_contain_text("유리 접시")  # kept for later

    page.goto(f"{live_url}/products/mug/")
    page.get_by_test_id("quantity").fill("2")
    page.get_by_test_id("buy-now").click()
    expect(page.get_by_test_id("order-summary")).to_contain_text("도자기 머그 × 2")
    expect(page.get_by_test_id("order-summary")).not_to_contain_text("유리 접시")
    page.get_by_test_id("place-order").click()  # the saved address of the first order is the default now
    expect(page.get_by_test_id("pay-total")).to_contain_text("19,000")
    assert [o.subtotal for o in Order.objects.order_by("created_at")] == [8_000, 16_000]
    assert list(CartItem.objects.filter(cart=cart).values_list("variant__product__slug", flat=True)) == ["plate"]
