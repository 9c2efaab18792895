"""The subscriptions API (documented in the OpenAPI schema), with the project's error shape: subscribe with a
saved card, read the schedule, skip, change the date, pause, resume, cancel; sellers offer products and see
who subscribes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from bidcart.subscriptions import services
from tests.catalog.factories import make_user
from tests.openapi import assert_documented
from tests.payments.fixtures import ADDRESS
from tests.subscriptions.helpers import card, offered

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(product, saved, **changes) -> dict:
    return {
        "variant": product.variants.get().pk,
        "quantity": 2,
        "interval": "2w",
        "method": saved.pk,
        "first_date": (services.seoul_today() + timedelta(days=3)).isoformat(),
        "shipping_address": ADDRESS,
        **changes,
    }


def test_a_buyer_subscribes_and_manages_the_schedule(sim, seller, buyer):
    product = offered(seller, intervals=("2w", "1m"))
    method = card(buyer)
    api = client_for(buyer)
    r = api.post("/api/v1/subscriptions/", body(product, method), format="json")
    assert r.status_code == 201, r.content
    assert_documented(r, "POST", "/api/v1/subscriptions/")
    sub = r.json()
    first = services.seoul_today() + timedelta(days=3)
    assert (sub["state"], sub["interval"], sub["quantity"], sub["next_date"]) == ("active", "2w", 2, first.isoformat())
    assert sub["next_at"] == f"{first.isoformat()}T09:00:00+09:00" and sub["method"] == {
        "id": method.pk,
        "brand": "BC카드",
        "last4": "0005",
    }
    assert sub["expected_total"] == {"amount": 60_000, "currency": "KRW"}
    path = f"/api/v1/subscriptions/{sub['id']}/"

    r = api.post(path + "skip/")
    assert r.status_code == 200 and r.json()["next_date"] == (first + timedelta(weeks=2)).isoformat()
    assert [(c["number"], c["state"]) for c in r.json()["cycles"]] == [(1, "skipped")]
    new_date = services.seoul_today() + timedelta(days=5)
    r = api.post(path + "next-date/", {"date": new_date.isoformat()}, format="json")
    assert r.status_code == 200 and r.json()["next_date"] == new_date.isoformat()
    assert api.post(path + "pause/").json()["state"] == "paused"
    assert api.post(path + "resume/", {"method": method.pk}, format="json").json()["state"] == "active"
    assert api.post(path + "cancel/").json()["state"] == "cancelled"
    r = api.post(path + "pause/")
    assert r.status_code == 409 and r.json()["code"] == "subscription_cancelled"
    assert [s["id"] for s in api.get("/api/v1/subscriptions/").json()] == [sub["id"]]


@pytest.mark.parametrize(
    "changes, status, code",
    [
        ({"interval": "1w"}, 400, "invalid_interval"),  # not offered at that interval
        ({"interval": "3d"}, 400, "invalid"),  # no such interval
        ({"quantity": 0}, 400, "invalid"),
        ({"first_date": "2020-01-01"}, 400, "invalid_date"),
        ({"method": 999_999}, 404, "method_not_found"),
        ({"shipping_address": {**ADDRESS, "recipient": ""}}, 400, "invalid"),
        ({"surprise": 1}, 400, "invalid"),
    ],
)
def test_a_bad_subscription_is_refused_with_a_clear_error(sim, seller, buyer, changes, status, code):
    product = offered(seller, intervals=("2w",))
    r = client_for(buyer).post("/api/v1/subscriptions/", body(product, card(buyer), **changes), format="json")
    assert r.status_code == status, r.content
    assert r.json()["code"] == code and r.json()["detail"]


def test_a_product_not_offered_cannot_be_subscribed(sim, seller, buyer):
    product = offered(seller, intervals=())
    r = client_for(buyer).post("/api/v1/subscriptions/", body(product, card(buyer)), format="json")
    assert (r.status_code, r.json()["code"]) == (409, "not_subscribable")


def test_another_buyers_subscription_is_not_found(sim, seller, buyer):
    product = offered(seller, intervals=("2w",))
    sub = client_for(buyer).post("/api/v1/subscriptions/", body(product, card(buyer)), format="json").json()
    other = client_for(make_user())
    assert other.get(f"/api/v1/subscriptions/{sub['id']}/").status_code == 404
    r = other.post(f"/api/v1/subscriptions/{sub['id']}/cancel/")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    assert client_for(buyer).get(f"/api/v1/subscriptions/{sub['id']}/").json()["state"] == "active"


def test_a_seller_offers_a_product_and_sees_the_schedule(sim, seller, buyer):
    product = offered(seller, intervals=())
    api = client_for(seller)
    r = api.put(f"/api/v1/subscriptions/plans/{product.pk}/", {"intervals": ["1m", "1w"]}, format="json")
    assert r.status_code == 200 and r.json() == {"product": product.pk, "intervals": ["1w", "1m"]}
    assert APIClient().get(f"/api/v1/subscriptions/plans/{product.pk}/").json()["intervals"] == ["1w", "1m"]
    client_for(buyer).post("/api/v1/subscriptions/", body(product, card(buyer), interval="1w"), format="json")
    r = api.get("/api/v1/subscriptions/schedule/")
    assert r.status_code == 200
    assert_documented(r, "GET", "/api/v1/subscriptions/schedule/")
    assert [(s["product"], s["quantity"], s["interval"], s["buyer"]) for s in r.json()] == [
        (product.pk, 2, "1w", buyer.display_name)
    ]
    # another seller may not offer it, a buyer has no schedule
    r = client_for(make_user(seller=True)).put(
        f"/api/v1/subscriptions/plans/{product.pk}/", {"intervals": ["1w"]}, format="json"
    )
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = client_for(buyer).get("/api/v1/subscriptions/schedule/")
    assert (r.status_code, r.json()["code"]) == (403, "not_a_seller")
