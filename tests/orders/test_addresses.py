"""Saved addresses (배송지 목록) with one default and a delivery note (배송 요청사항), offered at checkout; the
phone number prefilled on an auction order's address form."""

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from bidcart.cart.models import Cart, CartItem
from bidcart.orders import services
from bidcart.orders.models import Kind, Order, SavedAddress
from bidcart.orders.services import NewLine
from tests.factories import api_for, make_product, make_user
from tests.openapi import assert_documented

pytestmark = pytest.mark.django_db

HOME = {
    "recipient": "김구매",
    "phone": "010-1234-5678",
    "postcode": "06236",
    "address1": "서울 강남구 테헤란로 152",
    "address2": "12층",
    "delivery_note": "문 앞에 놓아 주세요",
}
OFFICE = {
    "recipient": "김구매",
    "phone": "010-1234-5678",
    "postcode": "04524",
    "address1": "서울 중구 세종대로 110",
    "address2": "3층",
    "delivery_note": "경비실에 맡겨 주세요",
}


def default_of(user):
    return list(SavedAddress.objects.filter(user=user, is_default=True).values_list("postcode", flat=True))


def value(html, name):
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    found = re.search(r'value="([^"]*)"', match.group(0)) if match else None
    return found.group(1) if found else ""


def test_the_first_address_is_the_default_and_there_is_only_ever_one(buyer):
    home = services.save_address(buyer, HOME)
    office = services.save_address(buyer, OFFICE)
    assert default_of(buyer) == ["06236"]
    services.save_address(buyer, HOME)  # the same address again is kept once
    assert SavedAddress.objects.filter(user=buyer).count() == 2
    services.set_default_address(buyer, office.pk)
    assert default_of(buyer) == ["04524"]
    with pytest.raises(IntegrityError), transaction.atomic():
        SavedAddress.objects.filter(pk=home.pk).update(is_default=True)  # the database refuses a second default
    services.delete_address(buyer, office.pk)
    assert default_of(buyer) == ["06236"]  # the remaining one takes over


def test_checkout_starts_from_the_default_address_and_keeps_the_delivery_note(buyer, seller):
    services.save_address(buyer, HOME)
    office = services.save_address(buyer, OFFICE)
    cart, _ = Cart.objects.get_or_create(user=buyer)
    CartItem.objects.create(cart=cart, variant=make_product(seller, price=8000, stock=5).variants.get(), quantity=1)
    client = Client()
    client.force_login(buyer)
    page = client.get("/orders/checkout/").content.decode()
    assert value(page, "postcode") == "06236" and value(page, "delivery_note") == "문 앞에 놓아 주세요"
    assert 'id="delivery-notes"' in page and "경비실" in page
    page = client.get(f"/orders/checkout/?address={office.pk}").content.decode()
    assert value(page, "postcode") == "04524" and value(page, "address2") == "3층"
    for bad in ("x", "²", "9" * 30):  # a bad choice falls back to the default, never a 500
        assert value(client.get(f"/orders/checkout/?address={bad}").content.decode(), "postcode") == "06236"
    response = client.post("/orders/checkout/", {**OFFICE, "delivery_note": "배송 전 연락 바랍니다"})
    assert response.status_code == 302
    order = Order.objects.get(user=buyer)
    assert (order.postcode, order.delivery_note) == ("04524", "배송 전 연락 바랍니다")
    assert "배송 전 연락 바랍니다" in client.get(f"/orders/{order.number}/").content.decode()
    assert SavedAddress.objects.filter(user=buyer).count() == 2  # not asked to save it


def test_a_new_buyers_first_address_is_saved_as_the_default(buyer, seller):
    cart, _ = Cart.objects.get_or_create(user=buyer)
    CartItem.objects.create(cart=cart, variant=make_product(seller, price=8000, stock=5).variants.get(), quantity=1)
    client = Client()
    client.force_login(buyer)
    assert re.search(r'<input[^>]*name="save_address"[^>]*checked', client.get("/orders/checkout/").content.decode())
    client.post("/orders/checkout/", {**HOME, "save_address": "on"})
    assert default_of(buyer) == ["06236"]


def test_an_auction_orders_address_form_starts_with_the_phone_number(seller):
    winner = make_user("winner@example.com", phone="+821098765432")
    order = services.create_order(
        winner,
        kind=Kind.AUCTION,
        currency="KRW",
        shipping=0,
        payment_due_at=timezone.now() + timedelta(hours=1),
        lines=[NewLine(product_name="필름 카메라", unit_price=50_000, quantity=1, seller_id=seller.pk)],
    )
    client = Client()
    client.force_login(winner)
    page = client.get(f"/payments/pay/{order.number}/").content.decode()
    assert value(page, "phone") == "010-9876-5432" and value(page, "recipient") == "winner"
    services.save_address(winner, OFFICE)
    page = client.get(f"/payments/pay/{order.number}/").content.decode()
    assert value(page, "postcode") == "04524"  # with an address book, its default


def test_the_address_book_api(buyer, other):
    api = api_for(buyer)
    created = api.post("/api/v1/addresses/", HOME, format="json")
    assert created.status_code == 201 and created.json()["is_default"] is True
    assert_documented(created, "POST", "/api/v1/addresses/")
    assert_documented(api.get("/api/v1/addresses/"), "GET", "/api/v1/addresses/")
    office = api.post("/api/v1/addresses/", {**OFFICE, "is_default": True}, format="json").json()
    assert [a["postcode"] for a in api.get("/api/v1/addresses/").json() if a["is_default"]] == ["04524"]
    bad = api.post("/api/v1/addresses/", {**HOME, "phone": "call me"}, format="json")
    assert bad.status_code == 400 and "phone" in bad.json()["errors"]
    patched = api.patch(f"/api/v1/addresses/{office['id']}/", {"delivery_note": "택배함에 넣어 주세요"}, format="json")
    assert patched.status_code == 200 and patched.json()["delivery_note"] == "택배함에 넣어 주세요"
    assert_documented(patched, "PATCH", "/api/v1/addresses/{id}/")
    assert api_for(other).delete(f"/api/v1/addresses/{office['id']}/").status_code == 404
    assert api.delete(f"/api/v1/addresses/{office['id']}/").status_code == 204
    assert [a["postcode"] for a in api.get("/api/v1/addresses/").json()] == ["06236"]
