from decimal import Decimal

import pytest
from django.test import Client

from bidcart.cart.models import Cart, CartItem
from bidcart.catalog.models import Product
from bidcart.orders import services as order_services
from bidcart.reviews.models import Review
from tests.factories import api_for, make_product, make_user

pytestmark = pytest.mark.django_db

ADDRESS = {"recipient": "김구매", "phone": "010-1234-5678", "postcode": "06236", "address1": "서울", "address2": ""}


@pytest.fixture
def mug(seller):
    return make_product(seller, name="Mug", slug="mug", price=8000, stock=50)


def buy(user, product, *, pay=True, confirm=True):
    """Place an order for one unit; by default pay, ship and confirm it (구매확정), which opens reviews."""
    cart, _ = Cart.objects.get_or_create(user=user)
    CartItem.objects.create(cart=cart, variant=product.variants.first(), quantity=1)
    order = order_services.place_order(user, shipping_address=ADDRESS)
    if pay:
        order_services.mark_paid(order)
    if pay and confirm:
        seller = product.seller
        order_services.update_shipment(seller, order, "shipped", courier="cj", tracking_number="123456789012")
        order_services.confirm_purchase(user, order)
    return order


def rating(product):
    p = Product.objects.get(pk=product.pk)
    return p.rating_avg, p.rating_count


def test_reviews_open_only_after_the_purchase_is_confirmed(mug, other):
    paid = buy(other, mug, confirm=False)  # paid, shipped, not yet received: not yet
    order_services.update_shipment(mug.seller, paid, "shipped", courier="cj", tracking_number="123456789012")
    refused = api_for(other).post("/api/v1/products/mug/reviews/", {"rating": 5}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "not_a_buyer"
    order_services.confirm_purchase(other, paid)  # 구매확정
    assert api_for(other).post("/api/v1/products/mug/reviews/", {"rating": 5}, format="json").status_code == 201


def test_only_buyers_who_confirmed_the_purchase_review(mug, buyer, other):
    assert (
        api_for(other).post("/api/v1/products/mug/reviews/", {"rating": 5}, format="json").json()["code"]
        == "not_a_buyer"
    )
    buy(other, mug, pay=False)  # placed but unpaid: not yet
    assert api_for(other).post("/api/v1/products/mug/reviews/", {"rating": 5}, format="json").status_code == 403
    buy(buyer, mug)
    response = api_for(buyer).post("/api/v1/products/mug/reviews/", {"rating": 4, "text": "좋아요"}, format="json")
    assert response.status_code == 201 and response.json()["rating"] == 4
    again = api_for(buyer).post("/api/v1/products/mug/reviews/", {"rating": 1}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_reviewed"
    assert Review.objects.count() == 1 and rating(mug) == (Decimal("4.00"), 1)
    assert api_for().post("/api/v1/products/mug/reviews/", {"rating": 5}, format="json").status_code in (401, 403)


@pytest.mark.parametrize("body", [{"rating": 0}, {"rating": 6}, {"rating": "five"}, {}, {"rating": 3, "stars": 3}])
def test_bad_reviews_are_400(mug, buyer, body):
    buy(buyer, mug)
    assert api_for(buyer).post("/api/v1/products/mug/reviews/", body, format="json").status_code == 400
    assert not Review.objects.exists()


def test_average_and_count_stay_right_on_create_edit_delete(mug, buyer, other):
    third = make_user("third@example.com")
    for user in (buyer, other, third):
        buy(user, mug)
    ids = {}
    for user, stars in ((buyer, 5), (other, 4), (third, 2)):
        ids[user] = api_for(user).post("/api/v1/products/mug/reviews/", {"rating": stars}, format="json").json()["id"]
    assert rating(mug) == (Decimal("3.67"), 3)
    assert api_for(third).patch(f"/api/v1/reviews/{ids[third]}/", {"rating": 3}, format="json").status_code == 200
    assert rating(mug) == (Decimal("4.00"), 3)
    assert api_for(other).patch(f"/api/v1/reviews/{ids[buyer]}/", {"rating": 1}, format="json").status_code == 404
    assert api_for(other).delete(f"/api/v1/reviews/{ids[buyer]}/").status_code == 404
    assert api_for(buyer).patch(f"/api/v1/reviews/{ids[buyer]}/", {"rating": 9}, format="json").status_code == 400
    assert api_for(buyer).delete(f"/api/v1/reviews/{ids[buyer]}/").status_code == 204
    assert rating(mug) == (Decimal("3.50"), 2)
    listed = api_for().get("/api/v1/products/mug/reviews/").json()
    assert listed["count"] == 2
    assert api_for().get("/api/v1/products/mug/").json()["rating"] == {"average": 3.5, "count": 2}
    assert api_for().get("/api/v1/products/nope/reviews/").status_code == 404


def test_review_pages(mug, buyer, other):
    client = Client()
    client.force_login(other)
    assert client.get("/reviews/write/mug/").status_code == 302  # not a buyer: sent back with a note
    buy(buyer, mug)
    client.force_login(buyer)
    assert 'data-testid="write-review"' in client.get("/products/mug/").content.decode()
    assert client.post("/reviews/write/mug/", {"rating": "9"}).status_code == 400
    assert client.post("/reviews/write/mug/", {"rating": "5", "text": "Great mug"}).status_code == 302
    page = client.get("/products/mug/").content.decode()
    assert "Great mug" in page and 'data-testid="edit-review"' in page
    review = Review.objects.get()
    client.force_login(other)
    assert client.get(f"/reviews/{review.pk}/edit/").status_code == 404
    client.force_login(buyer)
    client.post(f"/reviews/{review.pk}/edit/", {"rating": "3", "text": "OK mug"})
    assert rating(mug) == (Decimal("3.00"), 1)
    client.post(f"/reviews/{review.pk}/edit/", {"action": "delete"})
    assert rating(mug) == (Decimal("0.00"), 0)
