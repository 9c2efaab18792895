"""No internal codes in front of shoppers: an order's lines name their option, its history reads in words,
and a product's options are listed by name, never by SKU."""

import pytest
from django.test import Client

from bidcart.cart import services as cart
from bidcart.orders import services as orders
from tests.factories import make_product, make_user

pytestmark = pytest.mark.django_db
ADDRESS = {"recipient": "김배송", "phone": "010-1234-5678", "postcode": "06236", "address1": "서울 강남구 테헤란로 152"}


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    client.force_login(user)
    return client


def test_an_order_page_names_the_option_and_tells_its_history_in_words():
    buyer = make_user("buyer@example.com")
    chips = make_product(name="허니버터칩", variants=[({"맛": "허니버터", "용량": "120g"}, 2_500, 10)])
    cart.add_item(cart._user_cart(buyer), chips.variants.get().pk, 2)
    order = orders.place_order(buyer, shipping_address=ADDRESS)
    orders.mark_paid(order, note="kakaopay pay_0123456789")

    page = signed_in(buyer).get(f"/orders/{order.number}/").content.decode()
    assert "허니버터 / 120g" in page
    assert chips.variants.get().sku not in page
    history = page[page.index('data-testid="order-events"') :]
    assert "주문 접수" in history and "결제 완료" in history and "이전: 결제 대기" in history
    for code in ("pending_payment", "paid →", "kakaopay", "pay_0123456789", "Address given", "Restocked"):
        assert code not in history, code


def test_a_product_without_named_options_lists_its_one_option_as_standard_not_its_sku():
    plain = make_product(name="머그컵", price=9_000)
    page = Client(HTTP_ACCEPT_LANGUAGE="ko").get(f"/products/{plain.slug}/").content.decode()
    form = page[page.index('data-testid="add-to-cart-form"') : page.index("</fieldset>")]
    assert "기본" in form
    assert plain.variants.get().sku not in form.replace(f'data-testid="variant-{plain.variants.get().sku}"', "")


def test_the_product_header_shows_the_preselected_options_price_not_the_lowest():
    product = make_product(name="감귤", variants=[({"무게": "3kg"}, 27_000, 0), ({"무게": "5kg"}, 39_000, 4)])
    page = Client(HTTP_ACCEPT_LANGUAGE="ko").get(f"/products/{product.slug}/").content.decode()
    header = page[page.index('data-testid="detail-price"') :]
    assert header.split("</p>")[0].endswith("39,000원")  # 3kg is sold out: 5kg is the one chosen
