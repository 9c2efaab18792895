"""A visitor searches, picks a product option, fills a cart, logs in (the cart is merged), checks out
and finds the order on their orders page."""

import re

from playwright.sync_api import expect

from bidcart.cart.models import CartItem
from bidcart.catalog.models import Variant
from bidcart.orders.models import Order
from tests.factories import PASSWORD, make_category, make_product, make_user


def test_search_add_to_cart_login_merge_checkout(page, live_url):
    seller = make_user("e2e.seller@example.com", seller=True)
    tees = make_category("티셔츠", "tees")
    tee = make_product(
        seller,
        tees,
        name="오버핏 코튼 티셔츠",
        slug="overfit-tee",
        price=19000,
        variants=[({"size": "M"}, 19000, 5), ({"size": "L"}, 21000, 0)],
    )
    mug = make_product(seller, make_category("주방", "kitchen"), name="Ceramic Mug", slug="mug", price=8000, stock=10)
    buyer = make_user("e2e.buyer@example.com", display_name="구매자")
    # the buyer already had a mug in their cart from another device
    from bidcart.cart.models import Cart

    CartItem.objects.create(cart=Cart.objects.create(user=buyer), variant=mug.variants.get(), quantity=1)

    page.goto(f"{live_url}/")
    page.get_by_test_id("nav-search").fill("티셔츠")
    page.get_by_test_id("nav-search").press("Enter")
    expect(page.get_by_test_id("result-count")).to_contain_text("1")
    expect(page.get_by_test_id("product-card")).to_have_count(1)
    page.get_by_test_id("product-link").click()

    expect(page.get_by_test_id("product-name")).to_have_text("오버핏 코튼 티셔츠")
    m, l = Variant.objects.filter(product=tee).order_by("position")
    expect(page.locator(f"input[name=variant][value='{l.pk}']")).to_be_disabled()  # L is sold out
    expect(page.locator(f"input[name=variant][value='{m.pk}']")).to_be_checked()
    page.get_by_test_id("quantity").fill("2")
    page.get_by_test_id("add-to-cart").click()

    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    expect(page.get_by_test_id("cart-total")).to_contain_text("38,000")

    page.get_by_test_id("nav-login").click()
    page.locator("input[name=email]").fill(buyer.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-logout")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("장바구니에 합쳤습니다")

    page.get_by_test_id("nav-cart").click()
    expect(page.get_by_test_id("cart-line")).to_have_count(2)  # merged: the tees and the earlier mug
    expect(page.get_by_test_id("cart-total")).to_contain_text("46,000")

    page.get_by_test_id("checkout").click()
    form = page.get_by_test_id("checkout-form")
    form.locator("input[name=recipient]").fill("김구매")
    form.locator("input[name=phone]").fill("010-2345-6789")
    form.locator("input[name=postcode]").fill("06236")
    form.locator("input[name=address1]").fill("서울 강남구 테헤란로 152")
    form.locator("input[name=address2]").fill("12층")
    expect(page.get_by_test_id("checkout-total")).to_contain_text("49,000")  # ₩3,000 shipping under ₩50,000
    page.get_by_test_id("place-order").click()

    # placing the order leads on to paying it (tests/e2e/test_payments.py pays); the order waits meanwhile
    expect(page.get_by_test_id("pay-total")).to_contain_text("49,000")
    page.get_by_role("link", name=re.compile("주문 BC")).click()
    expect(page.get_by_test_id("order-status")).to_have_text("결제 대기")
    number = page.get_by_test_id("order-number").inner_text().strip()
    assert re.fullmatch(r"BC[0-9A-Z]{16}", number)
    expect(page.get_by_test_id("order-total")).to_contain_text("49,000")

    page.get_by_test_id("nav-orders").click()
    expect(page.get_by_test_id("order-row")).to_have_count(1)
    expect(page.get_by_test_id("order-number")).to_have_text(number)

    order = Order.objects.get(number=number)
    assert order.user == buyer and order.total == 49000
    assert Variant.objects.get(pk=m.pk).stock == 3
    assert not CartItem.objects.filter(cart__user=buyer).exists()
