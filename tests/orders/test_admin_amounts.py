"""The admin shows amounts as people read them (127,000원), not minor-unit integers (127000)."""

import pytest
from django.test import Client

from bidcart.cart import services as cart
from bidcart.orders import services as orders
from tests.factories import make_product, make_user

pytestmark = pytest.mark.django_db
ADDRESS = {"recipient": "김배송", "phone": "010-1234-5678", "postcode": "06236", "address1": "서울 강남구 테헤란로 152"}


def test_order_and_product_lists_in_the_admin_show_formatted_amounts():
    buyer, staff = make_user(), make_user("staff@example.com", staff=True, is_superuser=True)
    product = make_product(name="무쇠 팬", price=127_000)
    cart.add_item(cart._user_cart(buyer), product.variants.get().pk, 1)
    order = orders.place_order(buyer, shipping_address=ADDRESS)
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    client.force_login(staff)
    orders_page = client.get("/staff-admin/orders/order/").content.decode()
    assert f"{order.total:,}원" in orders_page and f">{order.total}<" not in orders_page
    products_page = client.get("/staff-admin/catalog/product/").content.decode()
    assert "127,000원" in products_page and ">127000<" not in products_page
    variants_page = client.get("/staff-admin/catalog/variant/").content.decode()
    assert "127,000원" in variants_page
