"""Fulfilment: a shipment per seller (status, courier, tracking number), the order following its shipments,
the seller's choices in words, and 구매확정 by the buyer or, days after delivery, by the sweep."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bidcart.cart.models import Cart, CartItem
from bidcart.orders import services, tasks
from bidcart.orders.models import Order, OrderEvent, Shipment
from tests.factories import ADDRESS, api_for, make_product, make_user
from tests.openapi import assert_documented

pytestmark = pytest.mark.django_db

CJ = {"courier": "cj", "tracking_number": "1234-5678-9012"}


@pytest.fixture
def rival():
    return make_user("rival-seller@example.com", seller=True)


def paid_order(buyer, *products):
    cart, _ = Cart.objects.get_or_create(user=buyer)
    for product in products:
        CartItem.objects.create(cart=cart, variant=product.variants.get(), quantity=1)
    order = services.place_order(buyer, shipping_address=ADDRESS)
    return services.mark_paid(order)


def status(order) -> str:
    return Order.objects.get(pk=order.pk).status


def options(html: str) -> list[str]:
    form = re.search(r'<select name="status".*?</select>', html, re.S)
    return re.findall(r"<option[^>]*>([^<]*)</option>", form.group(0)) if form else []


def test_the_shipped_email_carries_the_tracking_links(buyer, seller, django_capture_on_commit_callbacks):
    from django.core import mail

    order = paid_order(buyer, make_product(seller))
    with django_capture_on_commit_callbacks(execute=True):
        services.update_shipment(seller, order, "shipped", **CJ)
    [shipped] = [m for m in mail.outbox if "발송" in m.subject]
    assert (
        "CJ대한통운 123456789012: https://trace.cjlogistics.com/next/tracking.html?wblNo=123456789012" in shipped.body
    )
    assert 'href="https://trace.cjlogistics.com/next/tracking.html?wblNo=123456789012"' in shipped.alternatives[0][0]


def test_the_order_follows_its_shipments(buyer, seller, rival):
    order = paid_order(buyer, make_product(seller, price=10_000), make_product(rival, price=20_000))
    assert Shipment.objects.filter(order=order).count() == 2
    services.update_shipment(seller, order, "preparing")
    assert status(order) == "preparing"
    services.update_shipment(seller, order, "shipped", **CJ)
    assert status(order) == "preparing"  # the rival's parcel has not left
    services.update_shipment(rival, order, "shipped", courier="epost", tracking_number="6012345678901")
    assert status(order) == "shipped"
    services.update_shipment(seller, order, "delivered")
    assert status(order) == "shipped"
    services.update_shipment(rival, order, "delivered")
    order.refresh_from_db()
    assert order.status == "delivered" and order.delivered_at is not None
    steps = list(order.events.filter(type="status").values_list("to_status", flat=True))
    assert steps == ["paid", "preparing", "shipped", "delivered"]  # one legal step at a time


def test_shipping_needs_a_courier_and_a_valid_tracking_number(buyer, seller):
    order = paid_order(buyer, make_product(seller))
    api = api_for(seller)
    for body in (
        {},
        {"courier": "cj"},
        {"courier": "cj", "tracking_number": "12"},
        {"courier": "ups", "tracking_number": "123456789012"},
    ):
        response = api.post(f"/api/v1/orders/{order.number}/status/", {"status": "shipped", **body}, format="json")
        assert response.status_code == 400, body
        assert response.json()["code"] in ("tracking_required", "invalid"), response.json()
    assert Shipment.objects.get(order=order).status == "new" and status(order) == "paid"
    response = api.post(f"/api/v1/orders/{order.number}/status/", {"status": "shipped", **CJ}, format="json")
    assert response.status_code == 200
    assert_documented(response, "POST", "/api/v1/orders/{number}/status/")
    [shipment] = response.json()["shipments"]
    assert (shipment["status"], shipment["tracking_number"]) == ("shipped", "123456789012")
    assert shipment["tracking_url"] == "https://trace.cjlogistics.com/next/tracking.html?wblNo=123456789012"
    assert shipment["courier_name"] == "CJ대한통운"


def test_a_shipment_never_goes_backwards_or_twice(buyer, seller):
    order = paid_order(buyer, make_product(seller))
    services.update_shipment(seller, order, "shipped", **CJ)
    for to in ("preparing", "shipped"):
        response = api_for(seller).post(f"/api/v1/orders/{order.number}/status/", {"status": to, **CJ}, format="json")
        assert response.status_code == 409 and response.json()["code"] == "illegal_transition"


def test_the_sellers_choices_are_words_valid_for_the_state(buyer, seller):
    order = paid_order(buyer, make_product(seller))
    client = Client()
    client.force_login(seller)
    page = client.get(f"/orders/{order.number}/").content.decode()
    # nothing preselected (no default to 취소), 발송 offered, no raw codes
    assert options(page) == ["선택…", "상품 준비 시작", "발송 처리"]
    assert "selected" not in re.search(r'<select name="status".*?</select>', page, re.S).group(0)
    assert 'name="tracking_number"' in page and "CJ대한통운" in page
    client.post(
        f"/orders/{order.number}/status/", {"status": "shipped", "courier": "hanjin", "tracking_number": "512345678901"}
    )
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert options(page) == ["선택…", "배송 완료 처리"]
    assert "한진택배" in page and "512345678901" in page
    history = re.search(r'data-testid="order-events">(.*?)</ul>', page, re.S).group(1)
    assert '발송됨 <small class="muted">(이전: 발송 준비 전)</small>' in history and "결제 완료" in history  # in words
    assert not re.search(r"\b(new|shipped|paid|pending_payment)\b", history)
    services.update_shipment(seller, order, "delivered")
    assert options(client.get(f"/orders/{order.number}/").content.decode()) == []


def test_a_seller_cannot_fulfil_an_unpaid_order(buyer, seller):
    cart, _ = Cart.objects.get_or_create(user=buyer)
    CartItem.objects.create(cart=cart, variant=make_product(seller).variants.get(), quantity=1)
    order = services.place_order(buyer, shipping_address=ADDRESS)
    response = api_for(seller).post(f"/api/v1/orders/{order.number}/status/", {"status": "preparing"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    assert Shipment.objects.get(order=order).status == "new"


def test_what_is_left_of_a_partly_refunded_order_can_still_be_shipped(buyer, seller):
    order = paid_order(buyer, make_product(seller))
    Order.objects.filter(pk=order.pk).update(status="partially_refunded")
    services.update_shipment(seller, order, "shipped", **CJ)
    assert Shipment.objects.get(order=order).status == "shipped" and status(order) == "partially_refunded"
    Order.objects.filter(pk=order.pk).update(status="refunded")
    response = api_for(seller).post(f"/api/v1/orders/{order.number}/status/", {"status": "delivered"}, format="json")
    assert response.status_code == 409 and Shipment.objects.get(order=order).status == "shipped"


def test_staff_moving_the_order_carries_every_shipment(buyer, seller, rival):
    order = paid_order(buyer, make_product(seller), make_product(rival))
    staff = make_user("staff@example.com", staff=True)
    for to in ("preparing", "shipped"):
        assert (
            api_for(staff).post(f"/api/v1/orders/{order.number}/status/", {"status": to}, format="json").status_code
            == 200
        )
    assert set(Shipment.objects.filter(order=order).values_list("status", flat=True)) == {"shipped"}


def test_a_seller_and_staff_read_the_order_as_documented_and_a_seller_only_their_part(buyer, seller, rival):
    order = paid_order(buyer, make_product(seller, price=10_000), make_product(rival, price=20_000))
    path = f"/api/v1/orders/{order.number}/"
    mine = api_for(seller).get(path)
    assert_documented(mine, "GET", "/api/v1/orders/{number}/")
    body = mine.json()
    assert [line["unit_price"] for line in body["lines"]] == [10_000] and body["lines_total"] == 10_000
    assert [parcel["seller"] for parcel in body["shipments"]] == [seller.display_name]
    assert not {"subtotal", "total", "payment_due_at"} & body.keys()  # the whole order's sums are not theirs
    everything = api_for(make_user("staff@example.com", staff=True)).get(path)
    assert_documented(everything, "GET", "/api/v1/orders/{number}/")
    assert everything.json()["lines_total"] == 30_000 and len(everything.json()["shipments"]) == 2
    assert_documented(api_for(buyer).get(path), "GET", "/api/v1/orders/{number}/")
    assert api_for(buyer).get(path).json()["total"] == order.total


# --- 구매확정 ----------------------------------------------------------------------------------------


def test_the_buyer_confirms_the_purchase_once_it_is_shipped(buyer, seller, other):
    order = paid_order(buyer, make_product(seller))
    api = api_for(buyer)
    early = api.post(f"/api/v1/orders/{order.number}/confirm/")
    assert early.status_code == 409 and early.json()["code"] == "illegal_transition"
    services.update_shipment(seller, order, "shipped", **CJ)
    assert api_for(other).post(f"/api/v1/orders/{order.number}/confirm/").status_code == 404
    response = api.post(f"/api/v1/orders/{order.number}/confirm/")
    assert response.status_code == 200, response.content
    assert_documented(response, "POST", "/api/v1/orders/{number}/confirm/")
    assert_documented(api.get(f"/api/v1/orders/{order.number}/"), "GET", "/api/v1/orders/{number}/")
    data = response.json()
    assert data["status"] == "delivered" and data["confirmed_at"] and data["shipments"][0]["status"] == "delivered"
    again = api.post(f"/api/v1/orders/{order.number}/confirm/")
    assert again.status_code == 409 and again.json()["code"] == "already_confirmed"
    assert order.events.filter(type=OrderEvent.Type.CONFIRMED).count() == 1


def test_the_confirm_button_shows_only_when_it_can_be_used(buyer, seller):
    order = paid_order(buyer, make_product(seller))
    client = Client()
    client.force_login(buyer)
    assert 'data-testid="order-confirm"' not in client.get(f"/orders/{order.number}/").content.decode()
    services.update_shipment(seller, order, "shipped", **CJ)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="order-confirm"' in page and "trace.cjlogistics.com" in page
    client.post(f"/orders/{order.number}/confirm/")
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="order-confirm"' not in page and "구매확정했습니다" in page


def test_the_sweep_confirms_deliveries_after_n_days_once(buyer, seller, settings):
    settings.ORDER_AUTO_CONFIRM_DAYS = 7
    old, recent = paid_order(buyer, make_product(seller)), paid_order(buyer, make_product(seller))
    for order in (old, recent):
        services.update_shipment(seller, order, "shipped", **CJ)
        services.update_shipment(seller, order, "delivered")
    Order.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - timedelta(days=7, minutes=1))
    Order.objects.filter(pk=recent.pk).update(delivered_at=timezone.now() - timedelta(days=6))
    tasks.confirm_delivered_orders()
    assert services.auto_confirm_delivered() == 0  # idempotent: a second run finds nothing
    assert Order.objects.get(pk=old.pk).confirmed_at is not None
    assert Order.objects.get(pk=recent.pk).confirmed_at is None
    assert OrderEvent.objects.filter(order=old, type=OrderEvent.Type.CONFIRMED).count() == 1
