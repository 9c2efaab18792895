"""Bad input gets a clear 4xx with a machine-readable body, never a 500 and never a write (issue #13 item 12).

Each reproduction from the outside tester's report, at the edge where it was found: the bid API, the bid
page, the live room's WebSocket, the cart API, the lot list's query string, the seller's product page and
checkout. The property test over every parser is tests/core/test_numbers.py."""

import asyncio
import json

import pytest
from django.test import Client

from bidcart.auctions.models import Bid
from bidcart.catalog.models import Variant
from bidcart.orders.models import Order
from tests.auctions.factories import bidder, make_lot
from tests.auctions.wsclient import join, next_of
from tests.factories import api_for, make_product, make_user

pytestmark = pytest.mark.django_db

UNICODE_DIGITS = [
    "²",
    "٣٠٠٠٠٠",
    "３００００",
    "৩০০০০",
    "𝟑𝟎𝟎𝟎𝟎",
]  # superscript, Arabic-Indic, full-width, Bengali, maths


def refused(response, status=400):
    """A 4xx with the API's error body: a stable `code` a client can switch on."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    return body


@pytest.mark.parametrize("amount", UNICODE_DIGITS)
def test_a_bid_in_unicode_digits_is_refused_by_the_api_not_read_as_a_number(amount):
    lot = make_lot(start=10_000)
    response = api_for(bidder()).post(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": amount}, format="json")
    body = refused(response)
    assert body["code"] == "invalid" or body.get("reason") == "invalid_amount", body
    assert not Bid.objects.filter(lot=lot).exists()


@pytest.mark.parametrize("amount", ["²", "٣٠٠٠٠٠"])
def test_the_bid_page_says_the_amount_is_wrong_and_bids_nothing(amount):
    lot = make_lot(start=10_000)
    browser = Client()
    browser.force_login(bidder())
    response = browser.post(f"/auctions/{lot.pk}/bid/", {"max_amount": amount}, follow=True)
    assert response.status_code == 200
    assert (
        "Enter the amount as a whole number of won." in response.content.decode()
        or "원 단위" in response.content.decode()
    )
    assert not Bid.objects.filter(lot=lot).exists()


@pytest.mark.django_db(transaction=True)
def test_a_unicode_bid_over_the_live_room_socket_is_refused_and_the_socket_stays_open():
    lot, user = make_lot(start=10_000), bidder()

    async def scenario():
        room, _snapshot = await join(lot.pk, user)
        for amount in ["²", "٣٠٠٠٠٠", "1" + "0" * 30]:
            await room.send_json_to({"type": "bid", "max_amount": amount, "ref": amount})
            answer = await next_of(room, "bid_result")
            assert answer["accepted"] is False and answer["reason"] == "invalid_amount" and answer["ref"] == amount
        await room.send_json_to({"type": "ping", "t": 1})
        assert (await next_of(room, "pong"))["t"] == 1  # the socket is still open and answering
        await room.send_json_to({"type": "bid", "max_amount": "12000", "ref": "ok"})
        assert (await next_of(room, "bid_result"))["accepted"] is True
        await room.disconnect()

    asyncio.run(scenario())
    assert list(Bid.objects.filter(lot=lot).values_list("max_amount", flat=True)) == [12_000]


def test_json_nested_100k_deep_is_a_400_not_a_500():
    product = make_product(price=1000)
    body = "[" * 100_000 + "]" * 100_000
    response = api_for().post("/api/v1/cart/items/", body, content_type="application/json")
    assert refused(response)["code"] == "parse_error"
    deep_object = '{"variant": ' * 50_000 + "1" + "}" * 50_000
    assert (
        refused(api_for().post("/api/v1/cart/items/", deep_object, content_type="application/json"))["code"]
        == "parse_error"
    )
    ok = api_for().post("/api/v1/cart/items/", {"variant": product.variants.get().pk}, format="json")
    assert ok.status_code == 201


@pytest.mark.parametrize("seller", ["99999999999999999999999", "²", "٣", "-1", "1e3", "9223372036854775808"])
def test_a_lot_filter_by_an_impossible_seller_id_is_a_400(seller):
    make_lot()
    body = refused(api_for().get("/api/v1/lots/", {"seller": seller}))
    assert body["code"] == "invalid" and "seller" in body["errors"]


@pytest.mark.parametrize("seller", ["99999999999999999999999", "²", "9223372036854775808"])
def test_a_product_filter_by_an_impossible_seller_id_is_a_400(seller):
    make_product()
    body = refused(api_for().get("/api/v1/products/", {"seller": seller}))
    assert "seller" in body["errors"]


@pytest.mark.parametrize("price", [str(10**30), str(2**63), "٣٠٠٠٠", "1e5"])
def test_a_variant_price_out_of_range_or_in_unicode_digits_is_refused_on_the_seller_page(price):
    seller = make_user(seller=True)
    product = make_product(seller, price=1000)
    browser = Client()
    browser.force_login(seller)
    response = browser.post(
        f"/seller/products/{product.pk}/", {"action": "variant", "sku": "BIG-1", "price": price, "stock": 1}
    )
    assert response.status_code == 400
    assert response.context["variant_form"].errors["price"]
    assert not Variant.objects.filter(sku="BIG-1").exists()


def test_a_product_base_price_of_ten_to_the_thirty_is_refused():
    seller = make_user(seller=True)
    product = make_product(seller, price=1000)
    browser = Client()
    browser.force_login(seller)
    response = browser.post(
        f"/seller/products/{product.pk}/",
        {
            "action": "product",
            "name": product.name,
            "category": product.category_id,
            "base_price": str(10**30),
            "brand": "",
            "description": "",
            "active": "on",
        },
    )
    assert response.status_code == 400 and response.context["form"].errors["base_price"]
    product.refresh_from_db()
    assert product.base_price == 1000


def test_checkout_of_two_units_at_the_largest_bigint_is_refused_with_nothing_written():
    buyer = make_user()
    product = make_product(price=1000, stock=5)
    Variant.objects.filter(product=product).update(price=2**63 - 1)  # a price written before the limits existed
    api = api_for(buyer)
    assert (
        api.post(
            "/api/v1/cart/items/", {"variant": product.variants.get().pk, "quantity": 2}, format="json"
        ).status_code
        == 201
    )
    address = {
        "recipient": "김구매",
        "phone": "010-1234-5678",
        "postcode": "06236",
        "address1": "서울 강남구 테헤란로 152",
        "address2": "",
    }
    body = refused(api.post("/api/v1/orders/", {"shipping_address": address}, format="json"))
    assert body["code"] == "order_too_large"
    assert not Order.objects.exists()
    assert product.variants.get().stock == 5  # nothing reserved


@pytest.mark.parametrize("quantity", ["²", "٣", str(10**30)])
def test_the_cart_page_refuses_a_quantity_in_unicode_digits_or_out_of_range(quantity):
    product = make_product(price=1000, stock=5)
    browser = Client()
    response = browser.post("/cart/add/", {"variant": product.variants.get().pk, "quantity": quantity}, follow=True)
    assert response.status_code == 200
    assert not browser.get("/api/v1/cart/").json()["items"]


@pytest.mark.parametrize("variant", ["²", "٣", str(10**30), "abc"])
def test_the_cart_page_refuses_an_impossible_variant_id(variant):
    make_product(price=1000, stock=5)
    browser = Client()
    response = browser.post("/cart/add/", {"variant": variant, "quantity": "1"}, follow=True)
    assert response.status_code == 200
    assert not browser.get("/api/v1/cart/").json()["items"]


@pytest.mark.parametrize("image", ["²", "abc", str(10**30)])
def test_an_impossible_image_id_on_the_seller_page_is_a_404(image):
    seller = make_user(seller=True)
    product = make_product(seller)
    browser = Client()
    browser.force_login(seller)
    assert (
        browser.post(f"/seller/products/{product.pk}/", {"action": "image_delete", "image": image}).status_code == 404
    )


@pytest.mark.django_db(transaction=True)
def test_a_chat_report_of_an_impossible_message_id_over_the_socket_is_refused_and_the_socket_stays_open():
    lot, user = make_lot(start=10_000), bidder()

    async def scenario():
        room, _snapshot = await join(lot.pk, user)
        for message_id in ["²", "٣", "1" + "0" * 30, 10**30]:
            await room.send_json_to({"type": "report", "message_id": message_id, "reason": "spam", "ref": "r"})
            answer = await next_of(room, "error")
            assert answer["code"] == "invalid_message", answer
        await room.send_json_to({"type": "ping", "t": 2})
        assert (await next_of(room, "pong"))["t"] == 2
        await room.disconnect()

    asyncio.run(scenario())


def test_cart_api_refuses_unicode_digits_for_variant_and_quantity():
    product = make_product(price=1000, stock=5)
    pk = product.variants.get().pk
    for body in [
        {"variant": "٣"},
        {"variant": str(pk), "quantity": "²"},
        {"variant": 10**30},
        {"variant": pk, "quantity": 1.0},
    ]:
        assert (
            refused(api_for().post("/api/v1/cart/items/", json.dumps(body), content_type="application/json"))["code"]
            == "invalid"
        )


def test_a_webhook_nested_100k_deep_is_rejected_not_retried(settings):
    """The anonymous PortOne V1 notification endpoint parsed it with a RecursionError: logged as a failure
    and answered 503 "deliver again", inviting the sender to repeat it."""
    settings.SITE_URL = "http://testserver"
    body = '{"imp_uid": ' * 100_000 + "1" + "}" * 100_000
    response = Client().post("/payments/webhooks/portone/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "rejected"


@pytest.mark.django_db(transaction=True)
def test_over_a_real_server_a_bid_of_superscript_two_keeps_the_live_room_open():
    """As the tester did it: uvicorn, a real WebSocket client, a logged-in bidder sending "²". The old code
    raised inside the consumer and the server closed the socket: the bidder dropped out of the room."""
    import websockets

    from tests.livesrv import running_server

    lot, user = make_lot(start=10_000), bidder()
    browser = Client()
    browser.force_login(user)
    session = browser.cookies["sessionid"].value

    async def scenario(url):
        ws_url = url.replace("http", "ws", 1) + f"/ws/auctions/{lot.pk}/"
        async with websockets.connect(ws_url, origin=url, additional_headers={"Cookie": f"sessionid={session}"}) as ws:

            async def next_type(*types):
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if message["type"] in types:
                        return message

            await next_type("snapshot")
            for amount in ["²", "٣٠٠٠٠٠"]:
                await ws.send(json.dumps({"type": "bid", "max_amount": amount, "ref": amount}))
                answer = await next_type("bid_result")
                assert answer["accepted"] is False and answer["reason"] == "invalid_amount"
            await ws.send(json.dumps({"type": "bid", "max_amount": 15_000, "ref": "ok"}))
            assert (await next_type("bid_result"))["accepted"] is True  # same socket, still in the room

    with running_server() as url:
        asyncio.run(scenario(url))
    assert list(Bid.objects.filter(lot=lot).values_list("max_amount", flat=True)) == [15_000]
