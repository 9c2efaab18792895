import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from bidcart.cart.models import Cart, CartItem
from bidcart.catalog.models import Product, Variant
from bidcart.core.domain import Conflict
from bidcart.orders import services, tasks
from bidcart.orders.models import TRANSITIONS, Order, Status
from tests.factories import ADDRESS, api_for, make_product, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee(seller):
    return make_product(seller, name="Tee", slug="tee", variants=[({"size": "M"}, 19000, 3), ({"size": "L"}, 21000, 5)])


@pytest.fixture
def mug(seller):
    return make_product(seller, name="Mug", slug="mug", price=8000, stock=10)


def fill(user, *pairs):
    cart, _ = Cart.objects.get_or_create(user=user)
    for variant, quantity in pairs:
        CartItem.objects.create(cart=cart, variant=variant, quantity=quantity)
    return cart


def v(product, i=0):
    return product.variants.order_by("position")[i]


def stock(variant):
    return Variant.objects.get(pk=variant.pk).stock


def place(user, **address):
    return services.place_order(user, shipping_address={**ADDRESS, **address})


# --- placing ------------------------------------------------------------------------------------


def test_place_order_from_the_cart(tee, mug, buyer):
    fill(buyer, (v(tee), 2), (v(mug), 1))
    response = api_for(buyer).post("/api/v1/orders/", {"shipping_address": ADDRESS}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "pending_payment" and data["currency"] == "KRW"
    assert (data["subtotal"], data["shipping"], data["total"]) == (46000, 3000, 49000)  # under ₩50,000: ₩3,000 shipping
    assert [(l["sku"], l["quantity"], l["unit_price"], l["line_total"]) for l in data["lines"]] == [
        (v(tee).sku, 2, 19000, 38000),
        (v(mug).sku, 1, 8000, 8000),
    ]
    assert data["shipping_address"] == {**ADDRESS, "delivery_note": ""}
    assert re.fullmatch(r"BC[0-9A-HJKMNP-TV-Z]{16}", data["number"])
    assert stock(v(tee)) == 1 and stock(v(mug)) == 9
    assert not CartItem.objects.filter(cart__user=buyer).exists()
    order = Order.objects.get(number=data["number"])
    assert order.payment_due_at - order.created_at == timedelta(minutes=30)
    assert list(order.events.values_list("type", flat=True))[:1] == ["placed"]
    assert Product.objects.get(pk=tee.pk).sold_count == 2


def test_shipping_fee_below_the_free_threshold(mug, buyer):
    fill(buyer, (v(mug), 2))
    order = place(buyer)
    assert (order.subtotal, order.shipping, order.total) == (16000, 3000, 19000)


def test_shipping_is_free_from_the_threshold(tee, buyer):
    fill(buyer, (v(tee, 1), 3))
    order = place(buyer)
    assert (order.subtotal, order.shipping, order.total) == (63000, 0, 63000)


def test_amounts_come_from_the_server_not_the_client(mug, buyer):
    fill(buyer, (v(mug), 1))
    response = api_for(buyer).post("/api/v1/orders/", {"shipping_address": ADDRESS, "total": 1}, format="json")
    assert response.status_code == 400 and response.json()["errors"]["total"][0]["code"] == "unknown_field"
    assert not Order.objects.exists()


def test_one_short_line_rolls_the_whole_order_back(tee, mug, buyer):
    fill(buyer, (v(mug), 2), (v(tee), 3))
    Variant.objects.filter(pk=v(tee).pk).update(stock=2)  # someone bought one meanwhile
    response = api_for(buyer).post("/api/v1/orders/", {"shipping_address": ADDRESS}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "insufficient_stock"
    assert stock(v(mug)) == 10 and stock(v(tee)) == 2  # the mug's allocation was rolled back
    assert not Order.objects.exists() and CartItem.objects.count() == 2


def test_empty_cart_and_bad_addresses_are_400(mug, buyer):
    api = api_for(buyer)
    assert api.post("/api/v1/orders/", {"shipping_address": ADDRESS}, format="json").json()["code"] == "cart_empty"
    fill(buyer, (v(mug), 1))
    for bad in [
        {},
        {"shipping_address": {}},
        {"shipping_address": {**ADDRESS, "postcode": "12"}},
        {"shipping_address": {**ADDRESS, "phone": "call me"}},
        {"shipping_address": {**ADDRESS, "floor": 3}},
        {"shipping_address": "Seoul"},
        {"shipping_address": {**ADDRESS, "recipient": ""}},
    ]:
        response = api.post("/api/v1/orders/", bad, format="json")
        assert response.status_code == 400, (bad, response.content)
    assert not Order.objects.exists() and stock(v(mug)) == 10


def test_order_numbers_are_unique_and_random(mug, buyer):
    numbers = {services.new_number() for _ in range(2000)}
    assert len(numbers) == 2000


def test_placed_email_in_the_buyers_language(mug, django_capture_on_commit_callbacks):
    english = make_user("en@example.com", language="en")
    korean = make_user("ko@example.com", language="ko")
    for user in (english, korean):
        fill(user, (v(mug), 1))
        with django_capture_on_commit_callbacks(execute=True):
            place(user)
    en, ko = mail.outbox
    assert "received" in en.subject and en.to == ["en@example.com"]
    assert "주문" in ko.subject and ko.to == ["ko@example.com"]
    assert en.alternatives[0][1] == "text/html" and "Mug" in en.body and "Mug" in en.alternatives[0][0]


# --- status pipeline ----------------------------------------------------------------------------


def test_the_happy_pipeline_and_its_emails(mug, buyer, django_capture_on_commit_callbacks):
    fill(buyer, (v(mug), 1))
    order = place(buyer)
    with django_capture_on_commit_callbacks(execute=True):
        for status in ("paid", "preparing", "shipped", "delivered"):
            order = services.transition(order, status)
    assert order.status == "delivered" and order.paid_at is not None
    assert [m.subject for m in mail.outbox] == [
        f"[bidcart] 주문 {order.number} 결제 완료",
        f"[bidcart] 주문 {order.number}이(가) 발송되었습니다",
    ]
    assert all(m.alternatives and m.alternatives[0][1] == "text/html" for m in mail.outbox)
    steps = list(order.events.filter(type="status").values_list("from_status", "to_status"))
    assert steps == [
        ("pending_payment", "paid"),
        ("paid", "preparing"),
        ("preparing", "shipped"),
        ("shipped", "delivered"),
    ]


@pytest.mark.parametrize(
    "start, to", [(s, t) for s in Status.values for t in Status.values if t not in TRANSITIONS[s]][:40]
)
def test_illegal_transitions_raise(mug, buyer, start, to):
    fill(buyer, (v(mug), 1))
    order = place(buyer)
    Order.objects.filter(pk=order.pk).update(status=start)
    with pytest.raises(services.IllegalTransition):
        services.transition(order, to)
    assert Order.objects.get(pk=order.pk).status == start


def test_a_stale_writer_loses_the_race(mug, buyer):
    fill(buyer, (v(mug), 1))
    order = place(buyer)
    stale = Order.objects.get(pk=order.pk)
    services.transition(order, "paid")
    # `stale` still believes pending_payment; expiring it now must not win
    with pytest.raises(Conflict):
        services.transition(stale, "expired")
    assert Order.objects.get(pk=order.pk).status == "paid" and stock(v(mug)) == 9


def test_expiry_sweep_releases_stock_once(mug, tee, buyer, settings):
    settings.ORDER_PAYMENT_WINDOW_MINUTES = 10
    fill(buyer, (v(mug), 4), (v(tee), 1))
    order = place(buyer)
    assert order.payment_due_at - order.created_at == timedelta(minutes=10)
    assert services.expire_unpaid(now=timezone.now() + timedelta(minutes=9)) == 0
    assert stock(v(mug)) == 6
    Order.objects.filter(pk=order.pk).update(payment_due_at=timezone.now() - timedelta(seconds=1))
    tasks.expire_unpaid_orders()
    tasks.expire_unpaid_orders()
    order.refresh_from_db()
    assert order.status == "expired" and order.stock_released
    assert stock(v(mug)) == 10 and stock(v(tee)) == 3
    assert order.events.filter(type="stock_released").count() == 1
    with pytest.raises(services.IllegalTransition):
        services.transition(order, "paid")


def test_paid_orders_do_not_expire(mug, buyer):
    fill(buyer, (v(mug), 1))
    order = place(buyer)
    services.mark_paid(order)
    Order.objects.filter(pk=order.pk).update(payment_due_at=timezone.now() - timedelta(hours=1))
    assert services.expire_unpaid() == 0 and stock(v(mug)) == 9


def test_buyer_cancels_while_unpaid_and_stock_returns(mug, buyer, other):
    fill(buyer, (v(mug), 2))
    order = place(buyer)
    assert api_for(other).post(f"/api/v1/orders/{order.number}/cancel/").status_code == 404
    response = api_for(buyer).post(f"/api/v1/orders/{order.number}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert stock(v(mug)) == 10
    assert api_for(buyer).post(f"/api/v1/orders/{order.number}/cancel/").status_code == 409


# --- who sees what ------------------------------------------------------------------------------


def test_orders_api_shows_only_mine(mug, buyer, other):
    fill(buyer, (v(mug), 1))
    mine = place(buyer)
    fill(other, (v(mug), 1))
    theirs = place(other)
    api = api_for(buyer)
    assert [o["number"] for o in api.get("/api/v1/orders/").json()["results"]] == [mine.number]
    assert api.get(f"/api/v1/orders/{mine.number}/").json()["shipping_address"]["postcode"] == "06236"
    response = api.get(f"/api/v1/orders/{theirs.number}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api_for().get("/api/v1/orders/").status_code in (401, 403)
    assert api_for().get(f"/api/v1/orders/{mine.number}/").status_code in (401, 403)
    assert api_for().post("/api/v1/orders/", {"shipping_address": ADDRESS}, format="json").status_code in (401, 403)


def test_sellers_see_and_advance_only_their_orders(mug, buyer, seller):
    rival = make_user("rival@example.com", seller=True)
    rival_product = make_product(rival, slug="rival", price=5000, stock=5)
    fill(buyer, (v(mug), 1))
    order = place(buyer)
    fill(buyer, (v(rival_product), 1))
    rival_order = place(buyer)
    api = api_for(seller)
    assert [o["number"] for o in api.get("/api/v1/orders/manage/").json()["results"]] == [order.number]
    assert api.get(f"/api/v1/orders/{order.number}/").status_code == 200
    assert api.get(f"/api/v1/orders/{rival_order.number}/").status_code == 404
    assert (
        api.post(f"/api/v1/orders/{rival_order.number}/status/", {"status": "preparing"}, format="json").status_code
        == 404
    )
    # a seller can't mark an order paid (that is the payments layer's job)
    response = api.post(f"/api/v1/orders/{order.number}/status/", {"status": "paid"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    services.mark_paid(order)
    for status in ("preparing", "shipped", "delivered"):
        tracking = {"courier": "cj", "tracking_number": "1234-5678-9012"} if status == "shipped" else {}
        response = api.post(f"/api/v1/orders/{order.number}/status/", {"status": status, **tracking}, format="json")
        assert response.status_code == 200 and response.json()["status"] == status
    assert api.post(f"/api/v1/orders/{order.number}/status/", {"status": "bogus"}, format="json").status_code == 400
    assert api_for(buyer).get("/api/v1/orders/manage/").json()["count"] == 0
    assert (
        api_for(buyer).post(f"/api/v1/orders/{order.number}/status/", {"status": "refunded"}, format="json").status_code
        == 404
    )


def test_staff_sees_everything_and_may_make_any_legal_transition(mug, buyer):
    staff = make_user("staff@example.com", staff=True)
    fill(buyer, (v(mug), 1))
    order = place(buyer)
    api = api_for(staff)
    assert api.get("/api/v1/orders/manage/").json()["count"] == 1
    assert (
        api.post(f"/api/v1/orders/{order.number}/status/", {"status": "paid"}, format="json").json()["status"] == "paid"
    )
    assert (
        api.post(f"/api/v1/orders/{order.number}/status/", {"status": "preparing"}, format="json").json()["status"]
        == "preparing"
    )


@pytest.mark.parametrize("to", ["refunded", "partially_refunded", "cancelled"])
def test_staff_cannot_refund_or_cancel_a_paid_order_without_the_money_moving(mug, buyer, to):
    staff = make_user("staff@example.com", staff=True)
    fill(buyer, (v(mug), 1))
    order = place(buyer)
    api = api_for(staff)
    api.post(f"/api/v1/orders/{order.number}/status/", {"status": "paid"}, format="json")
    refused = api.post(f"/api/v1/orders/{order.number}/status/", {"status": to}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "illegal_transition"
    order.refresh_from_db()
    assert order.status == "paid"  # the status follows refunds of the payment, never the other way
    # the staff page says so too, and changes nothing
    client = Client()
    client.force_login(staff)
    page = client.post(f"/orders/{order.number}/status/", {"status": to}, follow=True)
    order.refresh_from_db()
    assert order.status == "paid" and page.status_code == 200


# --- pages --------------------------------------------------------------------------------------


def test_checkout_page_places_the_order(mug, buyer):
    client = Client()
    assert client.get("/orders/checkout/").status_code == 302  # log in first
    client.force_login(buyer)
    assert client.get("/orders/checkout/").status_code == 302  # empty cart → cart page
    fill(buyer, (v(mug), 2))
    html = client.get("/orders/checkout/").content.decode()
    assert "postcode.js" in html and 'name="postcode"' in html and "19,000" in html
    assert client.post("/orders/checkout/", {**ADDRESS, "postcode": "x"}).status_code == 400
    response = client.post("/orders/checkout/", ADDRESS)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/payments/pay/{order.number}/"  # on to paying
    assert order.number in client.get("/orders/").content.decode()
    assert "06236" in client.get(f"/orders/{order.number}/").content.decode()


def test_order_pages_are_private(mug, buyer, other, seller):
    fill(buyer, (v(mug), 1))
    order = place(buyer)
    client = Client()
    client.force_login(other)
    assert client.get(f"/orders/{order.number}/").status_code == 404
    assert order.number not in client.get("/orders/").content.decode()
    assert client.post(f"/orders/{order.number}/cancel/").status_code == 404
    assert client.get("/orders/manage/").status_code == 404
    client.force_login(seller)
    assert order.number in client.get("/orders/manage/").content.decode()
    services.mark_paid(order)
    client.post(f"/orders/{order.number}/status/", {"status": "preparing"})
    assert Order.objects.get().status == "preparing"
    client.force_login(buyer)
    client.post(f"/orders/{order.number}/cancel/")  # too late: refused with a message
    assert Order.objects.get().status == "preparing"


def test_stock_is_never_negative_even_when_the_update_says_so(mug):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Variant.objects.filter(pk=v(mug).pk).update(stock=-5)
