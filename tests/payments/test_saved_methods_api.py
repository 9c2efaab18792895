"""The saved-cards API (documented in the OpenAPI schema), with PortOne V1 in the payment simulator over real
HTTP: add on the provider's window, confirm, list, default, charge an order once per key, delete."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from bidcart.orders.models import Status as OrderStatus
from tests.openapi import assert_documented
from tests.payments.fixtures import make_order, pay_in_portone_window

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(buyer):
    client = APIClient()
    client.force_authenticate(buyer)
    return client


def add_card(api, card="9100200000000005") -> dict:
    r = api.post("/api/v1/payment-methods/", {"provider": "portone"}, format="json")
    assert r.status_code == 201, r.content
    assert_documented(r, "POST", "/api/v1/payment-methods/")
    body = r.json()
    assert body["method"]["state"] == "pending" and body["next"]["type"] == "client"
    pay_in_portone_window(body["next"]["script"], {**body["next"]["params"], "card_number": card})
    r = api.post(f"/api/v1/payment-methods/{body['method']['id']}/confirm/")
    assert r.status_code == 200, r.content
    assert_documented(r, "POST", "/api/v1/payment-methods/{id}/confirm/")
    return r.json()


def test_a_buyer_adds_lists_and_chooses_cards(sim, api):
    first = add_card(api)
    second = add_card(api, card="4111111111111111")
    assert (first["brand"], first["last4"], first["is_default"]) == ("BC카드", "0005", True)
    r = api.get("/api/v1/payment-methods/")
    assert_documented(r, "GET", "/api/v1/payment-methods/")
    assert [(m["last4"], m["is_default"]) for m in r.json()] == [("0005", True), ("1111", False)]
    assert "reference" not in r.json()[0]  # the provider's key is not handed out
    r = api.post(f"/api/v1/payment-methods/{second['id']}/default/")
    assert_documented(r, "POST", "/api/v1/payment-methods/{id}/default/")
    assert r.json()["is_default"] is True
    assert [m["last4"] for m in api.get("/api/v1/payment-methods/").json() if m["is_default"]] == ["1111"]


def test_an_order_is_charged_once_per_key(sim, api, buyer):
    card = add_card(api)
    order = make_order(buyer)
    url = f"/api/v1/orders/{order.number}/payments/saved/"
    r = api.post(url, {"method": card["id"], "key": "checkout-1"}, format="json")
    assert r.status_code == 201, r.content
    assert_documented(r, "POST", "/api/v1/orders/{number}/payments/saved/")
    assert r.json()["status"] == "paid" and r.json()["captured"] == order.total
    again = api.post(url, {"method": card["id"], "key": "checkout-1"}, format="json")
    assert again.status_code == 201 and again.json()["merchant_uid"] == r.json()["merchant_uid"]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payments.count() == 1


def test_a_declined_card_answers_a_failed_payment_in_the_buyers_words(sim, api, buyer):
    card = add_card(api, card="4000000000000002")
    order = make_order(buyer)
    r = api.post(f"/api/v1/orders/{order.number}/payments/saved/", {"method": card["id"], "key": "k"}, format="json")
    assert r.status_code == 201 and r.json()["status"] == "failed"
    assert "잔액" not in r.json()["failure"] and r.json()["failure"]  # a sentence, not PortOne's raw text


def test_deleting_a_card(sim, api):
    card = add_card(api)
    r = api.delete(f"/api/v1/payment-methods/{card['id']}/")
    assert r.status_code == 204
    assert api.get("/api/v1/payment-methods/").json() == []
    assert api.delete(f"/api/v1/payment-methods/{card['id']}/").status_code == 404


def test_bad_input_is_a_clear_4xx(sim, api, buyer):
    order = make_order(buyer)
    url = f"/api/v1/orders/{order.number}/payments/saved/"
    for body in (
        {},
        {"method": "x", "key": "k"},
        {"method": 1, "key": ""},
        {"method": 10**30, "key": "k"},
        {"method": 1, "key": "k" * 201},
        {"method": 1, "key": "k", "extra": 1},
    ):
        r = api.post(url, body, format="json")
        assert r.status_code == 400 and r.json()["code"], (body, r.content)
    assert api.post(url, {"method": 999, "key": "k"}, format="json").status_code == 404
    assert api.post("/api/v1/payment-methods/", {"provider": "nope"}, format="json").status_code == 400
    assert api.post("/api/v1/payment-methods/999/confirm/").status_code == 404


def test_a_card_added_with_portone_v2_is_confirmed_with_the_query_the_browser_came_back_with(sim, api):
    from urllib.parse import parse_qsl, urlsplit

    from tests.payments.billing_helpers import portone_v2_window

    r = api.post("/api/v1/payment-methods/", {"provider": "portone_v2"}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["next"]["params"]["billingKeyMethod"] == "CARD"
    location = portone_v2_window(body["next"]["params"], script=body["next"]["script"])
    query = dict(parse_qsl(urlsplit(location).query))
    url = f"/api/v1/payment-methods/{body['method']['id']}/confirm/"
    bad = api.post(url, {"params": "billingKey"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"]
    r = api.post(url, {"params": query}, format="json")
    assert r.status_code == 200, r.content
    assert_documented(r, "POST", "/api/v1/payment-methods/{id}/confirm/")
    assert (r.json()["state"], r.json()["last4"]) == ("active", "0005")
    assert "billing-key" not in str(r.json())  # the provider's key is not the buyer's business
