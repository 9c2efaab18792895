"""The auction API: the shape of a lot, bidding with reason codes and status codes, history without
anyone's maximum, my maximum only for me, lists and filters, creating and cancelling lots."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bidcart.auctions import services
from bidcart.auctions.models import Lot
from tests.auctions.factories import api_for, bidder, end_now, make_category, make_lot, make_user, numbers_in, seller
from tests.openapi import assert_documented

pytestmark = pytest.mark.django_db

DETAIL_FIELDS = {
    "id",
    "title",
    "status",
    "currency",
    "start_price",
    "current_price",
    "min_next_bid",
    "bid_count",
    "leader",
    "reserve_met",
    "buy_now_price",
    "starts_at",
    "ends_at",
    "server_time",
}


def test_lot_detail_has_the_agreed_fields():
    lot = make_lot(start=10_000, reserve=20_000, buy_now=30_000)
    data = api_for().get(f"/api/v1/lots/{lot.pk}/").json()
    assert DETAIL_FIELDS <= set(data)
    assert (
        data["status"],
        data["currency"],
        data["current_price"],
        data["min_next_bid"],
        data["bid_count"],
        data["leader"],
    ) == ("live", "KRW", 10_000, 10_000, 0, None)
    assert data["reserve_met"] is False and data["buy_now_available"] is True
    assert "reserve_price" not in data and "leader_max" not in data  # hidden
    assert data["me"]["my_max"] is None


def test_bidding_over_the_api():
    lot = make_lot(start=10_000)
    a, b = bidder(), bidder()
    response = api_for(a).post(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": 15_000}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (
        data["accepted"],
        data["leading"],
        data["my_max"],
        data["current_price"],
        data["leader"],
        data["bid_count"],
    ) == (True, True, 15_000, 10_000, "#1", 1)
    assert DETAIL_FIELDS <= set(data)
    data = api_for(b).post(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": 12_000}, format="json").json()
    assert (data["accepted"], data["leading"], data["my_max"], data["current_price"], data["leader"]) == (
        True,
        False,
        12_000,
        12_500,
        "#1",
    )
    assert data["min_next_bid"] == 13_000


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"max_amount": 9_000}, 409, "bid_too_low"),
        ({"max_amount": "lots"}, 400, "invalid_amount"),
        ({"max_amount": 0}, 400, "invalid_amount"),
        ({}, 400, "invalid_amount"),
        ({"max_amount": 20_000, "note": "typo"}, 400, "invalid_amount"),  # unknown fields are refused
    ],
)
def test_refused_bids_answer_409_or_400_with_a_reason(body, status, code):
    lot = make_lot(start=10_000)
    response = api_for(bidder()).post(f"/api/v1/lots/{lot.pk}/bids/", body, format="json")
    assert response.status_code == status
    data = response.json()
    assert data["code"] == code and data["detail"]
    assert (data["accepted"], data["reason"]) == (False, code)
    assert data["current_price"] == 10_000 and data["min_next_bid"] == 10_000  # the state, to try again


def test_state_refusals_are_409():
    owner = seller()
    lot = make_lot(owner)
    assert (
        api_for(owner).post(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": 50_000}, format="json").json()["code"]
        == "seller_cannot_bid"
    )
    unverified = make_user()
    response = api_for(unverified).post(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": 50_000}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "not_verified")
    ended = end_now(make_lot())
    response = api_for(bidder()).post(f"/api/v1/lots/{ended.pk}/bids/", {"max_amount": 50_000}, format="json")
    assert (response.status_code, response.json()["code"], response.json()["status"]) == (409, "lot_ended", "ended")
    later = make_lot(starts_in=timedelta(hours=1))
    response = api_for(bidder()).post(f"/api/v1/lots/{later.pk}/bids/", {"max_amount": 50_000}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "lot_not_live")


def test_anonymous_cannot_bid_and_missing_lots_are_404():
    lot = make_lot()
    assert api_for().post(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": 50_000}, format="json").status_code in (
        401,
        403,
    )
    response = api_for(bidder()).post("/api/v1/lots/999999/bids/", {"max_amount": 50_000}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert api_for().get("/api/v1/lots/999999/").json()["code"] == "not_found"


def test_nobody_sees_another_bidders_maximum():
    lot = make_lot(start=10_000)
    a, b = bidder(), bidder()
    services.place_bid(a, lot.pk, 90_000)
    services.place_bid(b, lot.pk, 20_000)
    for viewer in (None, b, lot.seller, make_user(staff=True)):
        client = api_for(viewer)
        seen = numbers_in(client.get(f"/api/v1/lots/{lot.pk}/").json()) | numbers_in(
            client.get(f"/api/v1/lots/{lot.pk}/bids/").json()
        )
        assert 90_000 not in seen  # a's maximum, never shown to anyone but a
        if viewer is not b:
            assert 20_000 not in seen  # b's maximum: only b sees it
    b_view = api_for(b).get(f"/api/v1/lots/{lot.pk}/").json()["me"]
    assert (b_view["my_max"], b_view["leading"], b_view["alias"]) == (20_000, False, "#2")
    a_mine = api_for(a).get(f"/api/v1/lots/{lot.pk}/my-bid/").json()
    assert (a_mine["my_max"], a_mine["leading"], a_mine["alias"]) == (90_000, True, "#1")
    assert [x["max_amount"] for x in a_mine["bids"]] == [90_000]
    assert api_for(b).get(f"/api/v1/lots/{lot.pk}/my-bid/").json()["my_max"] == 20_000
    assert api_for().get(f"/api/v1/lots/{lot.pk}/my-bid/").status_code in (401, 403)


def test_bid_history_shows_prices_as_they_stood_and_aliases():
    lot = make_lot(start=10_000)
    a, b = bidder(), bidder()
    services.place_bid(a, lot.pk, 15_000)
    services.place_bid(b, lot.pk, 12_000)
    services.place_bid(b, lot.pk, 20_000)
    rows = api_for().get(f"/api/v1/lots/{lot.pk}/bids/").json()["results"]
    assert [(r["bidder"], r["price"], r["leading"]) for r in rows] == [
        ("#2", 15_500, True),
        ("#2", 12_500, False),
        ("#1", 10_000, True),
    ]
    assert set(rows[0]) == {"bidder", "price", "leading", "at", "seq"}
    assert a.email not in str(rows) and str(a.pk) not in {r["bidder"] for r in rows}


def test_my_bids():
    mine, other = make_lot(title="Mine"), make_lot(title="Other")
    user = bidder()
    services.place_bid(user, mine.pk, 12_000)
    services.place_bid(user, mine.pk, 14_000)
    services.place_bid(bidder(), other.pk, 12_000)
    rows = api_for(user).get("/api/v1/lots/my-bids/").json()["results"]
    assert [(r["title"], r["my_max"], r["my_bid_count"], r["leading"]) for r in rows] == [("Mine", 14_000, 2, True)]


def test_lot_list_filters_and_pagination():
    cameras = make_category("Cameras", "cameras")
    film = make_category("Film", "film", parent=cameras)
    live = make_lot(title="Leica M3 rangefinder", category=film, runs=timedelta(minutes=30))
    later = make_lot(title="Hasselblad 500", starts_in=timedelta(hours=2), category=cameras)
    long = make_lot(title="Old typewriter", runs=timedelta(days=3))
    gone = end_now(make_lot(title="Gone"))
    services.close_ended_lots()
    cancelled = make_lot(title="Cancelled")
    services.cancel_lot(make_user(staff=True), cancelled.pk, "fake")

    def ids(query=""):
        response = api_for().get(f"/api/v1/lots/{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert set(ids()) == {live.pk, later.pk, long.pk, gone.pk}  # cancelled lots are left out
    assert set(ids("?live=true")) == {live.pk, long.pk}
    assert ids("?ending_soon=true") == [live.pk]
    assert ids("?status=scheduled") == [later.pk]
    assert ids("?status=ended") == [gone.pk]
    assert set(ids("?category=cameras")) == {live.pk, later.pk}  # with descendants
    assert ids("?search=leica") == [live.pk]
    assert ids("?live=true&search=typewriter") == [long.pk]
    page = api_for().get("/api/v1/lots/?page_size=2").json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    assert api_for().get("/api/v1/lots/?status=nonsense").status_code == 400
    services.place_bid(bidder(), long.pk, 20_000)
    assert ids("?live=true&ordering=-bids")[0] == long.pk
    assert ids("?live=true&ordering=ends_at") == [live.pk, long.pk]


def test_sellers_create_lots_over_the_api():
    owner = seller()
    category = make_category("Cameras", "cameras")
    ends = (timezone.now() + timedelta(hours=2)).isoformat()
    body = {
        "title": "Rolleiflex",
        "category": "cameras",
        "start_price": 100_000,
        "reserve_price": 150_000,
        "buy_now_price": 200_000,
        "ends_at": ends,
    }
    response = api_for(owner).post("/api/v1/lots/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (
        data["status"],
        data["start_price"],
        data["buy_now_price"],
        data["has_reserve"],
        data["category"]["slug"],
    ) == ("live", 100_000, 200_000, True, "cameras")
    assert data["soft_close_seconds"] == 120
    lot = Lot.objects.get(pk=data["id"])
    assert (lot.seller, lot.category, lot.reserve_price) == (owner, category, 150_000)
    low = api_for(owner).post("/api/v1/lots/", {**body, "buy_now_price": 120_000}, format="json")
    assert (low.status_code, low.json()["code"]) == (400, "buy_now_too_low")
    assert api_for(bidder()).post("/api/v1/lots/", body, format="json").json()["code"] == "not_a_seller"
    assert api_for(owner).post("/api/v1/lots/", {**body, "category": "nope"}, format="json").status_code == 400


def test_staff_cancel_with_a_reason():
    lot = make_lot()
    staff = make_user(staff=True)
    response = api_for(staff).post(f"/api/v1/lots/{lot.pk}/cancel/", {"reason": "Counterfeit"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", "Counterfeit")
    other = make_lot()
    services.place_bid(bidder(), other.pk, 50_000)
    response = api_for(other.seller).post(f"/api/v1/lots/{other.pk}/cancel/", {"reason": "no"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "lot_has_bids")


def test_buy_now_over_the_api():
    lot = make_lot(start=10_000, buy_now=15_000)
    response = api_for(bidder()).post(f"/api/v1/lots/{lot.pk}/buy-now/")
    assert response.status_code == 201
    data = response.json()
    assert data["order_url"] == f"/orders/{data['order']}/" and data["lot"]["status"] == "sold"
    again = api_for(bidder()).post(f"/api/v1/lots/{lot.pk}/buy-now/")
    assert (again.status_code, again.json()["code"]) == (409, "lot_ended")


def test_watch_and_unwatch():
    lot = make_lot()
    user = bidder()
    assert api_for(user).post(f"/api/v1/lots/{lot.pk}/watch/").json() == {"watching": True}
    assert api_for(user).post(f"/api/v1/lots/{lot.pk}/watch/").json() == {"watching": True}  # idempotent
    assert api_for(user).get(f"/api/v1/lots/{lot.pk}/").json()["me"]["watching"] is True
    assert api_for(user).delete(f"/api/v1/lots/{lot.pk}/watch/").json() == {"watching": False}


def test_every_auction_endpoint_is_in_the_schema(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path in (
        "/api/v1/lots/",
        "/api/v1/lots/{id}/",
        "/api/v1/lots/{id}/bids/",
        "/api/v1/lots/my-bids/",
        "/api/v1/lots/{id}/buy-now/",
        "/api/v1/lots/{id}/chat/",
        "/api/v1/second-chance-offers/",
    ):
        assert path in paths, path


def test_a_refused_bid_answers_the_documented_body():
    """Schemathesis found these: field errors as `{code, message}` like every other 400, the refusal body as
    the schema declares it (a body that is not JSON too), and a bid on a missing lot 404 whatever the body
    (there is no state to answer)."""
    lot = make_lot(start=10_000)
    api = api_for(bidder())
    response = api.post(f"/api/v1/lots/{lot.pk}/bids/", {}, format="json")
    assert response.json()["errors"]["max_amount"][0]["code"] == "required"
    assert_documented(response, "POST", "/api/v1/lots/{id}/bids/")
    response = api.post(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": 9_000}, format="json")
    assert response.status_code == 409
    assert_documented(response, "POST", "/api/v1/lots/{id}/bids/")
    response = api.post(f"/api/v1/lots/{lot.pk}/bids/", "\x00", content_type="application/json")
    assert (response.status_code, response.json()["code"], response.json()["accepted"]) == (400, "parse_error", False)
    assert_documented(response, "POST", "/api/v1/lots/{id}/bids/")
    response = api.post("/api/v1/lots/999999/bids/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert_documented(response, "POST", "/api/v1/lots/{id}/bids/")


def test_reporting_a_chat_message_over_the_api():
    lot = make_lot()
    author, reader = bidder(), bidder()
    message = services.post_message(author, lot.pk, "buy cheap watches at example.com")
    response = api_for(reader).post(
        f"/api/v1/lots/{lot.pk}/chat/{message.pk}/report/", {"reason": "advertisement"}, format="json"
    )
    assert (response.status_code, response.json()) == (201, {"reported": True})
    assert_documented(response, "POST", "/api/v1/lots/{id}/chat/{message_id}/report/")  # the body was once undeclared
    assert message.reports.get().reporter == reader
