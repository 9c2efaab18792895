"""Buy some, keep the rest: the cart's ticked lines are ordered and the others stay; 바로구매 on a product
page checks out that option alone, at the quantity asked."""

import pytest
from django.test import Client

from bidcart.cart.models import Cart, CartItem
from bidcart.orders.models import Order
from tests.factories import make_product

pytestmark = pytest.mark.django_db

ADDRESS = {
    "recipient": "김구매",
    "phone": "010-1234-5678",
    "postcode": "06236",
    "address1": "서울 강남구 테헤란로 152",
    "address2": "",
}


@pytest.fixture
def products(seller):
    return (
        make_product(seller, name="Mug", slug="mug", price=8000, stock=10),
        make_product(seller, name="Tee", slug="tee", price=19000, stock=10),
    )


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_only_the_ticked_lines_are_ordered_and_the_rest_stay_in_the_cart(products, buyer):
    mug, tee = (p.variants.get() for p in products)
    cart = Cart.objects.create(user=buyer)
    CartItem.objects.create(cart=cart, variant=mug, quantity=2)
    CartItem.objects.create(cart=cart, variant=tee, quantity=1)
    client = client_for(buyer)
    page = client.get("/cart/").content.decode()
    assert page.count('data-testid="cart-select"') == 2 and 'form="cart-checkout"' in page
    summary = client.get(f"/orders/checkout/?variant={tee.pk}").content.decode()
    assert "Tee" in summary and "Mug" not in summary
    response = client.post(f"/orders/checkout/?variant={tee.pk}", {**ADDRESS, "variant": [tee.pk]})
    assert response.status_code == 302, response.content.decode()[:300]
    order = Order.objects.get(user=buyer)
    assert [(l.product_name, l.quantity) for l in order.lines.all()] == [("Tee", 1)] and order.subtotal == 19000
    assert list(CartItem.objects.filter(cart=cart).values_list("variant_id", "quantity")) == [(mug.pk, 2)]


def test_nothing_ticked_or_nonsense_means_the_whole_cart(products, buyer):
    mug, tee = (p.variants.get() for p in products)
    cart = Cart.objects.create(user=buyer)
    CartItem.objects.create(cart=cart, variant=mug, quantity=1)
    CartItem.objects.create(cart=cart, variant=tee, quantity=1)
    client = client_for(buyer)
    client.post("/orders/checkout/?variant=x&variant=²", {**ADDRESS, "variant": ["x", "99999999999999999999"]})
    assert Order.objects.get(user=buyer).lines.count() == 2 and not CartItem.objects.filter(cart=cart).exists()


def test_buy_now_checks_out_that_option_alone_at_the_quantity_asked(products, buyer):
    mug, tee = (p.variants.get() for p in products)
    cart = Cart.objects.create(user=buyer)
    CartItem.objects.create(cart=cart, variant=mug, quantity=1)
    CartItem.objects.create(cart=cart, variant=tee, quantity=3)
    client = client_for(buyer)
    assert 'data-testid="buy-now"' in client.get("/products/tee/").content.decode()
    response = client.post("/cart/add/", {"variant": tee.pk, "quantity": 2, "buy_now": "1"})
    assert response.status_code == 302 and response["Location"] == f"/orders/checkout/?variant={tee.pk}"
    client.post(response["Location"], {**ADDRESS, "variant": [tee.pk]})
    order = Order.objects.get(user=buyer)
    assert [(l.product_name, l.quantity) for l in order.lines.all()] == [("Tee", 2)]
    assert list(CartItem.objects.filter(cart=cart).values_list("variant_id", "quantity")) == [(mug.pk, 1)]


def test_a_visitors_buy_now_leads_through_login_to_that_checkout(products, buyer):
    tee = products[1].variants.get()
    client = Client()
    response = client.post("/cart/add/", {"variant": tee.pk, "quantity": 1, "buy_now": "1"})
    checkout = client.get(response["Location"])
    assert (
        checkout.status_code == 302 and "/accounts/login/" in checkout["Location"] and "variant" in checkout["Location"]
    )
