import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from bidcart.cart import services, tasks
from bidcart.cart.context_processors import cart as cart_context
from bidcart.cart.models import Cart, CartItem
from bidcart.catalog.models import Product, Variant
from tests.factories import PASSWORD, api_for, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee(seller):
    return make_product(seller, name="Tee", slug="tee", variants=[({"size": "M"}, 19000, 3), ({"size": "L"}, 21000, 0)])


@pytest.fixture
def mug(seller):
    return make_product(seller, name="Mug", slug="mug", price=8000, stock=10)


def v(product, i=0):
    return product.variants.order_by("position")[i]


def test_visitor_cart_lives_in_the_session(tee, mug):
    api = api_for()
    response = api.post("/api/v1/cart/items/", {"variant": v(tee).pk, "quantity": 2}, format="json")
    assert response.status_code == 201, response.content
    api.post("/api/v1/cart/items/", {"variant": v(mug).pk}, format="json")
    data = api.get("/api/v1/cart/").json()
    assert data["total"] == 2 * 19000 + 8000 and data["currency"] == "KRW" and data["count"] == 3
    assert [(i["variant"]["id"], i["quantity"], i["unit_price"], i["line_total"]) for i in data["items"]] == [
        (v(tee).pk, 2, 19000, 38000),
        (v(mug).pk, 1, 8000, 8000),
    ]
    assert api_for().get("/api/v1/cart/").json() == {"items": [], "total": 0, "currency": "KRW", "count": 0}


def test_the_anonymous_cart_api_refuses_a_write_without_the_csrf_token(tee, mug):
    # A page on another site could post a form to a visitor's cart (the session cookie rides along).
    visitor = APIClient(enforce_csrf_checks=True)
    visitor.get("/")  # a page of ours: the session and the CSRF cookie
    forged = visitor.post("/api/v1/cart/items/", {"variant": v(mug).pk, "quantity": 1})  # a plain form post
    assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
    token = visitor.cookies["csrftoken"].value
    sent = visitor.post("/api/v1/cart/items/", {"variant": v(mug).pk}, format="json", HTTP_X_CSRFTOKEN=token)
    assert sent.status_code == 201
    assert [i["variant"]["id"] for i in visitor.get("/api/v1/cart/").json()["items"]] == [v(mug).pk]
    for forged in (
        visitor.patch(f"/api/v1/cart/items/{CartItem.objects.get().pk}/", {"quantity": 3}, format="json"),
        visitor.delete(f"/api/v1/cart/items/{CartItem.objects.get().pk}/"),
    ):
        assert forged.status_code == 403
    assert CartItem.objects.get().quantity == 1


def test_a_token_client_needs_no_csrf_token_for_its_cart(tee, buyer):
    api = APIClient(enforce_csrf_checks=True)
    access = api.post("/api/v1/auth/token/", {"email": buyer.email, "password": PASSWORD}, format="json").json()[
        "access"
    ]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api.post("/api/v1/cart/items/", {"variant": v(tee).pk}, format="json").status_code == 201


def test_adding_beyond_stock_is_refused_with_a_code(tee):
    api = api_for()
    assert api.post("/api/v1/cart/items/", {"variant": v(tee).pk, "quantity": 2}, format="json").status_code == 201
    response = api.post("/api/v1/cart/items/", {"variant": v(tee).pk, "quantity": 2}, format="json")  # 4 > 3
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock" and "3" in response.json()["detail"]
    sold_out = api.post("/api/v1/cart/items/", {"variant": v(tee, 1).pk}, format="json")
    assert sold_out.status_code == 409 and sold_out.json()["code"] == "insufficient_stock"
    assert api.get("/api/v1/cart/").json()["count"] == 2  # nothing half-written


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"variant": "x"},
        {"variant": 1, "quantity": 0},
        {"variant": 1, "quantity": 100},
        {"variant": 1, "quantity": -1},
        {"variant": 1, "colour": "red"},
    ],
)
def test_bad_add_input_is_400(tee, body):
    response = api_for().post("/api/v1/cart/items/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_unknown_or_inactive_variant_is_400(tee):
    assert (
        api_for().post("/api/v1/cart/items/", {"variant": 999999}, format="json").json()["code"]
        == "variant_unavailable"
    )
    Product.objects.filter(pk=tee.pk).update(active=False)
    assert api_for().post("/api/v1/cart/items/", {"variant": v(tee).pk}, format="json").status_code == 400


def test_change_and_remove_items(tee, mug, buyer):
    api = api_for(buyer)
    api.post("/api/v1/cart/items/", {"variant": v(mug).pk}, format="json")
    item = api.get("/api/v1/cart/").json()["items"][0]["id"]
    assert api.patch(f"/api/v1/cart/items/{item}/", {"quantity": 4}, format="json").json()["total"] == 32000
    response = api.patch(f"/api/v1/cart/items/{item}/", {"quantity": 11}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "insufficient_stock"
    assert api.patch(f"/api/v1/cart/items/{item}/", {"quantity": 0}, format="json").status_code == 400
    assert api.patch(f"/api/v1/cart/items/{item}/", {"quantity": 2, "price": 1}, format="json").status_code == 400
    assert api.delete(f"/api/v1/cart/items/{item}/").status_code == 204
    assert api.get("/api/v1/cart/").json()["items"] == []
    assert api.delete(f"/api/v1/cart/items/{item}/").status_code == 404


def test_nobody_reaches_another_cart(tee, mug, buyer, other):
    mine = api_for(buyer)
    mine.post("/api/v1/cart/items/", {"variant": v(mug).pk}, format="json")
    item = mine.get("/api/v1/cart/").json()["items"][0]["id"]
    theirs = api_for(other)
    theirs.post("/api/v1/cart/items/", {"variant": v(tee).pk}, format="json")
    assert [i["product"]["slug"] for i in theirs.get("/api/v1/cart/").json()["items"]] == ["tee"]
    assert theirs.patch(f"/api/v1/cart/items/{item}/", {"quantity": 2}, format="json").status_code == 404
    assert theirs.delete(f"/api/v1/cart/items/{item}/").status_code == 404
    assert api_for().delete(f"/api/v1/cart/items/{item}/").status_code == 404  # a visitor neither
    assert CartItem.objects.get(pk=item).quantity == 1


def test_cart_prices_follow_the_catalog_not_the_cart(mug, buyer):
    api = api_for(buyer)
    api.post("/api/v1/cart/items/", {"variant": v(mug).pk, "quantity": 2}, format="json")
    Variant.objects.filter(pk=v(mug).pk).update(price=9000, stock=1)
    data = api.get("/api/v1/cart/").json()
    assert data["total"] == 18000
    assert data["items"][0]["available"] is False and data["items"][0]["problem"]


# --- merge on login -----------------------------------------------------------------------------


def _login(client, user):
    return client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})


def test_login_merges_the_visitor_cart_and_says_so(tee, mug, buyer):
    CartItem.objects.create(cart=Cart.objects.create(user=buyer), variant=v(tee), quantity=2)
    client = Client()
    client.post("/cart/add/", {"variant": v(tee).pk, "quantity": 2})  # 2 + 2 > 3 in stock
    client.post("/cart/add/", {"variant": v(mug).pk, "quantity": 1})
    list(get_messages(client.get("/cart/").wsgi_request))  # consume the "added" messages
    response = _login(client, buyer)
    assert response.status_code == 302
    cart = Cart.objects.get(user=buyer)
    assert {i.variant_id: i.quantity for i in cart.items.all()} == {v(tee).pk: 3, v(mug).pk: 1}  # capped at stock
    assert Cart.objects.filter(user__isnull=True).count() == 0
    page = client.get("/cart/")
    notes = [str(m) for m in get_messages(page.wsgi_request)]
    assert any("3" in n and "Tee" in n for n in notes), notes
    assert len(notes) >= 2


def test_api_token_login_merges_too(mug, buyer):
    api = api_for()
    api.post("/api/v1/cart/items/", {"variant": v(mug).pk, "quantity": 2}, format="json")
    response = api.post("/api/v1/auth/token/", {"email": buyer.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    assert Cart.objects.get(user=buyer).items.get().quantity == 2


def test_merge_leaves_out_what_is_gone(tee, mug, buyer):
    anon = Cart.objects.create(token="t1")
    CartItem.objects.create(cart=anon, variant=v(tee), quantity=1)
    CartItem.objects.create(cart=anon, variant=v(mug), quantity=1)
    Variant.objects.filter(pk=v(tee).pk).update(stock=0)
    result = services.merge_into_user("t1", buyer)
    assert result.moved == 1 and len(result.notes) == 1
    assert list(Cart.objects.get(user=buyer).items.values_list("variant_id", flat=True)) == [v(mug).pk]
    assert services.merge_into_user("t1", buyer).moved == 0  # the visitor's cart is gone: a replay does nothing


def test_context_processor_counts_units(mug, buyer, rf):
    client = Client()
    client.post("/cart/add/", {"variant": v(mug).pk, "quantity": 3})
    assert cart_context(client.get("/cart/").wsgi_request) == {"cart_count": 3}
    request = rf.get("/")
    request.user = buyer
    request.session = {}
    assert cart_context(request) == {"cart_count": 0}


# --- pages -------------------------------------------------------------------------------------


def test_cart_page_add_update_remove(mug, tee):
    client = Client()
    assert client.post("/cart/add/", {"variant": v(mug).pk, "quantity": 2}).status_code == 302
    html = client.get("/cart/").content.decode()
    assert "Mug" in html and 'data-testid="cart-total"' in html
    item = CartItem.objects.get()
    client.post(f"/cart/items/{item.pk}/", {"quantity": 5})
    assert CartItem.objects.get().quantity == 5
    response = client.post(f"/cart/items/{item.pk}/", {"quantity": 50})
    assert CartItem.objects.get().quantity == 5
    assert any("10" in str(m) for m in get_messages(response.wsgi_request))
    client.post(f"/cart/items/{item.pk}/", {"action": "remove"})
    assert not CartItem.objects.exists()
    response = client.post("/cart/add/", {"variant": v(tee, 1).pk})  # sold out
    assert not CartItem.objects.exists()
    assert client.post("/cart/add/", {"variant": "abc"}).status_code == 302


def test_sweep_purges_stale_visitor_carts_only(mug, buyer):
    old = timezone.now() - timedelta(days=31)
    stale = Cart.objects.create(token="stale", updated_at=old)
    CartItem.objects.create(cart=stale, variant=v(mug), quantity=1)
    fresh = Cart.objects.create(token="fresh")
    users = Cart.objects.create(user=buyer, updated_at=old)
    tasks.purge_stale_carts()
    tasks.purge_stale_carts()  # idempotent
    assert set(Cart.objects.values_list("pk", flat=True)) == {fresh.pk, users.pk}


def test_the_cart_shows_shipping_and_how_much_more_makes_it_free(mug, settings):
    settings.ORDER_SHIPPING_FEE, settings.ORDER_FREE_SHIPPING_FROM = 3000, 50000
    client = Client()
    client.post("/cart/add/", {"variant": mug.variants.get().pk, "quantity": 1})
    html = client.get("/cart/").content.decode()
    price = mug.variants.get().price
    assert re.search(r'data-testid="cart-shipping">3,000원<', html)
    assert re.search(rf'data-testid="cart-grand-total">{price + 3000:,}원<', html)
    assert f"{50000 - price:,}원 더 담으면 무료배송" in html
    client.post("/cart/add/", {"variant": mug.variants.get().pk, "quantity": 50000 // price})
    html = client.get("/cart/").content.decode()
    assert re.search(r'data-testid="cart-shipping">무료<', html) and "free-shipping-hint" not in html
