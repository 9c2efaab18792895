"""The authorization matrix: nobody gets at someone else's object, through a page or the API.

Every route the URL resolver knows (pages and API; the admin is out of scope) is in exactly one list below,
so a new route fails `test_every_route_is_in_the_matrix` until someone decides who may use it:

- PRIVATE: the path names an object that belongs to someone. Its owner gets it (the marker, a text unique to
  the object, is in the answer); a second ordinary user and an anonymous visitor get 403/404 (the visitor a
  401 or the login page instead) and never the marker, whatever the method; and nothing they send changes
  any private row (`snapshot`).
- SELF_SCOPED: the path names a public object (a lot, a product) and the request acts on the requester's own
  rows (their bid, watch, wishlist heart, review). Nobody else's private data reaches the answer and nobody
  else's rows change.
- OWN_PAGES: no object in the path; the page lists the requester's own things. The owner's marker reaches
  only the owner.
- PUBLIC: anyone may use it, each with the reason.

The objects are tests/cast.py's; pages are driven with a logged-in session, the API with a JWT bearer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from bidcart.accounts.jwt import token_pair
from bidcart.auctions.models import Bid, ChatMessage, Lot, SecondChanceOffer, Watch
from bidcart.cart.models import CartItem
from bidcart.catalog.models import Product, Variant, WishlistItem
from bidcart.catalog.templatetags.shop import format_money
from bidcart.orders import services as orders
from bidcart.orders.models import Order, SavedAddress, Shipment
from bidcart.payments.models import Payment, SavedPaymentMethod
from bidcart.reviews.models import Review
from bidcart.subscriptions.models import Plan, Subscription
from tests import cast as world

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
OTHERS = ("rival", "rival_seller")  # an ordinary buyer, and a seller who does not sell this


@dataclass
class Route:
    name: str
    kwargs: Callable[[world.Cast], dict] = lambda c: {}
    owner: str = "buyer"
    marker: Callable[[world.Cast], str] | None = None  # in the owner's answer, in nobody else's
    body: dict | Callable[[world.Cast], dict] = field(default_factory=dict)  # what the owner would send to change it
    owner_method: str = "get"
    owner_statuses: tuple = (200,)
    owner_changes: bool = False  # the owner's request changes a private row (so the route reaches the object)

    @property
    def api(self) -> bool:
        return self.name.startswith("api-")

    def __str__(self):
        return self.name


def order(c):
    return {"number": c.order.number}


def paid(c):
    return {"number": c.paid_order.number}


def uid(c):
    return {"merchant_uid": c.payment.merchant_uid}


def lot(c):
    return {"pk": c.lot.pk}


def address_mark(c):
    return f"{world.MARK} order unit"


def total(c):
    return str(c.order.total)


def won(amount):
    return lambda c: format_money(amount, "KRW")


def card(c):
    return {"pk": c.saved_method.pk}


def card_digits(c):
    return world.SAVED_CARD[-4:]


def sub(c):
    return {"pk": c.subscription.pk}


def sub_mark(c):
    return f"{world.MARK} sub unit"


def next_week(c):
    from bidcart.subscriptions.services import seoul_today

    return {"date": (seoul_today() + timedelta(days=5)).isoformat()}


PRIVATE = [
    # pages
    Route("orders:detail", order, marker=address_mark),
    Route("orders:cancel", order, owner_method="post", owner_statuses=(302,), owner_changes=True),
    Route(
        "orders:advance",
        paid,
        owner="seller",
        body={"status": "preparing"},
        owner_method="post",
        owner_statuses=(302,),
        owner_changes=True,
    ),
    # 구매확정 of an order not shipped yet: the owner reaches it and is refused for the state
    Route("orders:confirm", paid, owner_method="post", owner_statuses=(302,)),
    Route(
        "orders:address",
        lambda c: {"pk": c.saved_address.pk},
        body={"action": "delete"},
        owner_method="post",
        owner_statuses=(302,),
        owner_changes=True,
    ),
    Route("payments:pay", order, marker=lambda c: format_money(c.order.total, c.order.currency)),
    Route(
        "payments:refund-account",
        uid,
        body={"bank": "SHINHAN", "number": "110123456789", "holder": "홍환불"},
        owner_method="post",
        owner_statuses=(302,),
    ),
    Route("reviews:edit", lambda c: {"pk": c.review.pk}, marker=lambda c: f"{world.MARK} review"),
    Route(
        "cart:update",
        lambda c: {"pk": c.cart_item.pk},
        body={"quantity": 3},
        owner_method="post",
        owner_statuses=(302,),
        owner_changes=True,
    ),
    Route(
        "catalog:seller_product", lambda c: {"pk": c.draft.pk}, owner="seller", marker=lambda c: f"{world.MARK} draft"
    ),
    Route(
        "auctions:offer",
        lambda c: {"pk": c.offer.pk},
        body={"action": "decline"},
        owner_method="post",
        owner_statuses=(302,),
        owner_changes=True,
    ),
    Route(
        "auctions:cancel",
        lambda c: {"pk": c.quiet.pk},
        owner="seller",
        body={"reason": "withdrawn"},
        owner_method="post",
        owner_statuses=(302,),
        owner_changes=True,
    ),
    Route(
        "auctions:relist",
        lambda c: {"pk": c.unsold.pk},
        owner="seller",
        owner_method="post",
        owner_statuses=(302,),
        owner_changes=True,
    ),
    # API
    Route("api-order", order, marker=address_mark),
    Route("api-order-cancel", order, owner_method="post", owner_changes=True, marker=address_mark),
    Route(
        "api-order-status", paid, owner="seller", body={"status": "preparing"}, owner_method="post", owner_changes=True
    ),
    Route("api-order-confirm", paid, owner_method="post", owner_statuses=(409,)),
    Route(
        "api-address",
        lambda c: {"pk": c.saved_address.pk},
        body={"address2": "moved"},
        owner_method="patch",
        owner_changes=True,
        marker=lambda c: f"{world.MARK} saved recipient",
    ),
    Route(
        "api-order-payments",
        order,
        body={"provider": "kakaopay"},
        owner_method="post",
        owner_statuses=(201,),
        owner_changes=True,
        marker=total,
    ),
    Route("api-payment", uid, marker=total),
    Route("api-payment-confirm", uid, body={"params": {}}, owner_method="post", marker=total),
    Route(
        "api-order-charge-saved",
        order,
        body=lambda c: {"method": c.saved_method.pk, "key": "authz"},
        owner_method="post",
        owner_statuses=(201,),
        owner_changes=True,
        marker=total,
    ),
    Route("api-payment-method", card, owner_method="delete", owner_statuses=(204,), owner_changes=True),
    Route("api-payment-method-confirm", card, owner_method="post", marker=card_digits),
    Route("api-payment-method-default", card, owner_method="post", marker=card_digits),
    Route("payments:method-return", card, owner_statuses=(302,)),
    # staff only; the payment is not captured yet, so staff are refused for the state, not the object
    Route(
        "api-payment-refunds",
        uid,
        owner="staff",
        body={"amount": 1000, "reason": "damaged"},
        owner_method="post",
        owner_statuses=(409,),
    ),
    # the buyer's refund account (a card payment in the cast: refused for the method, not the object)
    Route(
        "api-payment-refund-account",
        uid,
        body={"bank": "SHINHAN", "number": "110123456789", "holder": "홍환불"},
        owner_method="put",
        owner_statuses=(409,),
    ),
    Route(
        "api-review",
        lambda c: {"pk": c.review.pk},
        body={"rating": 1},
        owner_method="patch",
        owner_changes=True,
        marker=lambda c: f"{world.MARK} review",
    ),
    Route(
        "api-cart-item",
        lambda c: {"pk": c.cart_item.pk},
        body={"quantity": 3},
        owner_method="patch",
        owner_changes=True,
        marker=lambda c: c.cart_item.variant.sku,
    ),
    Route(
        "api-offer-accept", lambda c: {"pk": c.offer.pk}, owner_method="post", owner_statuses=(201,), owner_changes=True
    ),
    Route(
        "api-offer-decline",
        lambda c: {"pk": c.offer.pk},
        owner_method="post",
        owner_changes=True,
        marker=lambda c: str(world.OFFER_PRICE),
    ),
    Route(
        "api-lot-cancel",
        lambda c: {"pk": c.quiet.pk},
        owner="seller",
        body={"reason": "withdrawn"},
        owner_method="post",
        owner_changes=True,
    ),
    Route(
        "api-lot-relist",
        lambda c: {"pk": c.unsold.pk},
        owner="seller",
        owner_method="post",
        owner_statuses=(201,),
        owner_changes=True,
    ),
    Route("subscriptions:detail", sub, marker=sub_mark),
    Route(
        "subscriptions:selling-plan",
        lambda c: {"product_id": c.product.pk},
        owner="seller",
        body={"intervals": ["2w"]},
        owner_method="post",
        owner_statuses=(302,),
        owner_changes=True,
    ),
    Route("api-subscription", sub, marker=sub_mark),
    Route("api-subscription-skip", sub, owner_method="post", owner_changes=True, marker=sub_mark),
    Route("api-subscription-pause", sub, owner_method="post", owner_changes=True, marker=sub_mark),
    Route("api-subscription-resume", sub, owner_method="post", marker=sub_mark),
    Route("api-subscription-cancel", sub, owner_method="post", owner_changes=True, marker=sub_mark),
    Route("api-subscription-next-date", sub, body=next_week, owner_method="post", owner_changes=True, marker=sub_mark),
    Route(
        "api-subscription-method",
        sub,
        body=lambda c: {"method": c.saved_method.pk},
        owner_method="post",
        marker=sub_mark,
    ),
]

# The path names a public object; the request acts on the requester's own rows. `marker` is the owner's
# private data the route would show the owner (their own maximum), never anyone else.
SELF_SCOPED = [
    Route("catalog:wishlist_toggle", lambda c: {"slug": c.product.slug}),
    Route("reviews:write", lambda c: {"slug": c.product.slug}, body={"rating": 1, "text": "meh"}),
    Route("catalog:restock_alert", lambda c: {"slug": c.product.slug}, body={"option": "1"}),
    # public lots, but your maximum on one is yours alone
    Route("auctions:lot", lot, marker=won(world.BUYER_MAX)),
    Route("api-lot", lot, marker=lambda c: str(world.BUYER_MAX)),
    Route("auctions:bid", lot, body={"max_amount": 20_000}),
    Route("auctions:buy_now", lot),
    Route("auctions:watch", lot, body={"watch": "0"}),
    Route("api-wishlist-item", lambda c: {"slug": c.product.slug}),
    Route("api-product-reviews", lambda c: {"slug": c.product.slug}, body={"rating": 1}),
    Route("api-lot-bids", lot, body={"max_amount": 20_000}),
    Route("api-lot-my-bid", lot, marker=lambda c: str(world.BUYER_MAX)),
    Route("api-lot-buy-now", lot),
    Route("api-lot-watch", lot),
    Route("api-lot-chat", lot, body={"text": "hello"}),
    Route("api-lot-chat-report", lambda c: {"pk": c.lot.pk, "message_id": c.message.pk}, body={"reason": "spam"}),
    # a product's intervals are public; only its seller changes them
    Route("api-subscription-plan", lambda c: {"product_id": c.product.pk}, body={"intervals": ["2w"]}),
    Route("subscriptions:new", lambda c: {"product_id": c.product.pk}),  # subscribes the requester
]

# No object in the path: the requester's own things.
OWN_PAGES = [
    Route("orders:mine", marker=lambda c: c.order.number),
    Route("orders:seller_orders", owner="seller", marker=lambda c: c.order.number),
    Route("auctions:mine", marker=won(world.BUYER_MAX)),  # my bids, wins, offers, watchlist, notices
    Route("cart:cart", marker=lambda c: c.product.name),
    Route("catalog:wishlist", marker=lambda c: c.product.name),
    Route("catalog:seller", owner="seller", marker=lambda c: f"{world.MARK} draft"),
    Route("accounts:profile", marker=lambda c: c.buyer.email),
    Route("payments:methods", marker=card_digits),
    Route("api-payment-methods", marker=card_digits),
    Route("api-me", marker=lambda c: c.buyer.email),
    Route("api-orders", marker=lambda c: c.order.number),
    Route("api-orders-manage", owner="seller", marker=lambda c: c.order.number),
    Route("api-my-bids", marker=lambda c: str(world.BUYER_MAX)),
    Route("api-offers", marker=lambda c: str(world.OFFER_PRICE)),
    Route("api-wishlist", marker=lambda c: c.product.slug),
    Route("api-cart", marker=lambda c: c.cart_item.variant.sku),
    Route("orders:addresses", marker=lambda c: f"{world.MARK} saved unit"),
    Route("api-addresses", marker=lambda c: f"{world.MARK} saved unit"),
    Route("subscriptions:index", marker=lambda c: f"/subscriptions/{c.subscription.pk}/"),
    Route("subscriptions:selling", owner="seller", marker=lambda c: f"{world.MARK} sub recipient"),
    Route("api-subscriptions", marker=sub_mark),
    Route("api-subscription-schedule", owner="seller", marker=lambda c: f"{world.MARK} sub recipient"),
]

PUBLIC = {
    "web:home": "the shop front",
    "web:favicon": "the site icon (a redirect to a static file)",
    "catalog:products": "the catalog",
    "catalog:product": "a product on sale is public (an inactive one is 404 to everyone but its seller's dashboard)",
    "auctions:list": "the lots",
    "api-products": "the catalog",
    "api-product": "a product on sale is public",
    "api-categories": "the category tree",
    "api-lots": "the lots",
    "api-schema": "the API's OpenAPI schema",
    "api-docs": "the API's documentation",
    "livez": "for load balancers; no data",
    "healthz": "for load balancers; no data",
    "media": "uploaded pictures, public like the pages that show them; random names; never as HTML "
    "(tests/core/test_media.py)",
    "readyz": "for load balancers; no data",
    "metrics": "the operator's scraper; guarded by METRICS_ALLOWED_IPS / METRICS_TOKEN (tests/core)",
    "set_language": "the visitor's own language choice",
    "admin-honeypot": "the fake admin at /admin/ (the real one is at ADMIN_PATH and out of scope)",
    "payments:webhook": "providers post here; each delivery is verified (signature or a re-fetch), tests/payments",
    "payments:return": "the provider sends the browser back here, maybe without a session: the merchant_uid is "
    "an unguessable capability (128 random bits), the outcome is re-read from the provider, "
    "and the answer is a redirect that shows no order data",
    "payments:cancel": "as payments:return (the buyer cancelled at the provider)",
    "payments:fail": "as payments:return (the provider failed the payment)",
    # sign-up, login and recovery: for visitors by nature; the links carry a signed token
    **{
        name: "accounts: for visitors, or the requester's own session"
        for name in (
            "accounts:signup",
            "accounts:signup_done",
            "accounts:login",
            "accounts:logout",
            "accounts:resend_verification",
            "accounts:verify_phone",
            "accounts:password_change",
            "accounts:password_reset",
            "accounts:password_reset_done",
            "accounts:password_reset_complete",
        )
    },
    "accounts:verify_email": "the emailed link's signed token is the credential (tests/accounts)",
    "accounts:password_reset_confirm": "the emailed link's signed token is the credential (tests/accounts)",
    **{
        name: "the requester's own account or session (tests/accounts)"
        for name in (
            "api-token",
            "api-token-refresh",
            "api-logout",
            "api-signup",
            "api-verify-email",
            "api-resend-verification",
            "api-password-reset",
            "api-password-reset-confirm",
            "api-phone-code",
            "api-phone-verify",
            "api-password-change",
        )
    },
    # creating things: the requester's own, checked for role in the views' own tests
    "catalog:seller_product_new": "a seller lists a product of their own (tests/catalog)",
    "auctions:new": "a seller lists a lot of their own (tests/auctions)",
    "cart:add": "adds to the requester's own cart",
    "auctions:notices_read": "marks the requester's own notices read (login required; tests/auctions/test_pages.py)",
    "orders:checkout": "orders the requester's own cart",
    "api-cart-items": "adds to the requester's own cart",
    "api-restock-alerts": "asks for the requester's own restock alert (tests/catalog/test_restock_alerts.py)",
}
UNNAMED = {r"^api/.*$": "the API's JSON 404 for anything else"}


def routes(patterns=None, prefix="", namespace=""):
    """(route, name) for every URL pattern, the admin's left out."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern) == settings.ADMIN_PATH:
                continue
            yield from routes(
                p.url_patterns, prefix + str(p.pattern), namespace + (f"{p.namespace}:" if p.namespace else "")
            )
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (namespace + p.name) if p.name else None


def test_every_route_is_in_the_matrix():
    listed = [r.name for r in PRIVATE + SELF_SCOPED + OWN_PAGES] + list(PUBLIC)
    assert len(listed) == len(set(listed)), "a route is listed twice"
    found = {name for _route, name in routes() if name}
    assert found - set(listed) == set(), "routes nobody decided about: add them to tests/test_authorization.py"
    assert set(listed) - found == set(), "listed routes that do not exist any more"
    assert {route for route, name in routes() if not name} <= set(UNNAMED)
    assert all(PUBLIC.values()), "every public route says why"


def test_every_api_operation_with_an_object_in_its_path_is_in_the_matrix():
    """The same from the OpenAPI schema's side: an operation on an object is private or self-scoped, or the
    public product."""
    from tests.openapi import schema

    named = {resolve(re.sub(r"\{\w+\}", "1", path)).url_name for path in schema().raw_schema["paths"] if "{" in path}
    assert named - {r.name for r in PRIVATE + SELF_SCOPED} == {"api-product"}


# --- the checks --------------------------------------------------------------------------------------------


@pytest.fixture
def cast(sim):
    return world.build()


def snapshot(c: world.Cast) -> dict:
    """Every private row of the cast, as it stands."""

    def rows(qs, *fields):
        return sorted(qs.values_list(*fields))

    return {
        "orders": rows(
            Order.objects.filter(pk__in=[c.order.pk, c.paid_order.pk]),
            "pk",
            "status",
            "recipient",
            "address2",
            "total",
            "confirmed_at",
        ),
        "addresses": rows(SavedAddress.objects.filter(user=c.buyer), "pk", "address2", "is_default"),
        "shipments": rows(Shipment.objects.filter(order__user=c.buyer), "pk", "status", "courier", "tracking_number"),
        "payments": rows(Payment.objects.filter(order__user=c.buyer), "merchant_uid", "status", "failure"),
        "reviews": rows(Review.objects.filter(user=c.buyer), "pk", "rating", "text"),
        "cart": rows(CartItem.objects.filter(cart__user=c.buyer), "pk", "variant_id", "quantity"),
        "wishlist": rows(WishlistItem.objects.filter(user=c.buyer), "product_id"),
        "watches": rows(Watch.objects.filter(user=c.buyer), "lot_id"),
        "bids": rows(Bid.objects.filter(bidder=c.buyer), "lot_id", "max_amount"),
        "offers": rows(SecondChanceOffer.objects.filter(user=c.buyer), "pk", "status"),
        "products": rows(Product.objects.filter(seller=c.seller), "pk", "name", "active", "base_price", "description"),
        "variants": rows(Variant.objects.filter(product__seller=c.seller), "pk", "price", "stock"),
        "lots": rows(Lot.objects.filter(seller=c.seller), "pk", "status", "title", "cancel_reason", "relisted_from_id"),
        "messages": rows(ChatMessage.objects.filter(user=c.buyer), "pk", "text", "hidden_at"),
        "saved_methods": rows(SavedPaymentMethod.objects.filter(user=c.buyer), "pk", "state", "is_default"),
        "subscriptions": rows(
            Subscription.objects.filter(user=c.buyer), "pk", "state", "next_at", "next_cycle", "method_id", "address2"
        ),
        "plans": [
            (p, json.dumps(i))
            for p, i in rows(Plan.objects.filter(product__seller=c.seller), "product_id", "intervals")
        ],
    }


def client_for(user, *, api: bool) -> Client:
    if user is None:
        return Client()
    if api:
        return Client(headers={"Authorization": f"Bearer {token_pair(user)['access']}"})
    client = Client()
    client.force_login(user)
    return client


def call(client: Client, route: Route, cast: world.Cast, method: str):
    url = reverse(route.name, kwargs=route.kwargs(cast))
    body = route.body(cast) if callable(route.body) else route.body
    if route.api:
        if method == "get":
            return client.get(url)
        return getattr(client, method)(url, json.dumps(body), content_type="application/json")
    if method in ("get", "post"):
        return getattr(client, method)(url, body)
    return getattr(client, method)(url, urlencode(body), content_type="application/x-www-form-urlencoded")


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def text(response) -> str:
    return response.content.decode("utf-8", "replace")


def refused(response, *, anonymous: bool, page_action: bool) -> bool:
    """403/404 (405 for a method the route does not take); a visitor may be sent to log in or get a 401. A page's
    form that refuses (a state or a permission problem) may send the browser back with a message instead."""
    if response.status_code in (403, 404, 405):
        return True
    if anonymous and (response.status_code == 401 or is_login_redirect(response)):
        return True
    return page_action and response.status_code == 302


def assert_nobody_else_gets_it(route: Route, cast: world.Cast, *, may_act: bool):
    before = snapshot(cast)
    marker = route.marker(cast) if route.marker else None
    for who in OTHERS + (None,):
        client = client_for(getattr(cast, who) if who else None, api=route.api)
        for method in METHODS:
            response = call(client, route, cast, method)
            where = f"{method.upper()} {route.name} as {who or 'anonymous'}: {response.status_code}"
            assert response.status_code < 500, where
            if marker:
                assert marker not in text(response), f"{where} shows the owner's data"
            if not may_act:
                assert refused(response, anonymous=who is None, page_action=not route.api and method != "get"), where
            assert snapshot(cast) == before, f"{where} changed someone's private rows"


@pytest.mark.parametrize("route", PRIVATE, ids=str)
def test_a_private_object_is_its_owners_only(route, cast):
    assert_nobody_else_gets_it(route, cast, may_act=False)
    # and the owner gets it: the route reaches this very object
    before = snapshot(cast)
    owner = client_for(getattr(cast, route.owner), api=route.api)
    response = call(owner, route, cast, route.owner_method)
    assert response.status_code in route.owner_statuses, (response.status_code, text(response)[:500])
    if route.marker:
        assert route.marker(cast) in text(response)
    if route.owner_changes:
        assert snapshot(cast) != before


@pytest.mark.parametrize("route", SELF_SCOPED, ids=str)
def test_acting_on_a_public_object_touches_only_your_own_rows(route, cast):
    assert_nobody_else_gets_it(route, cast, may_act=True)
    if route.marker:
        owner = client_for(getattr(cast, route.owner), api=route.api)
        assert route.marker(cast) in text(call(owner, route, cast, "get"))


@pytest.mark.parametrize("route", OWN_PAGES, ids=str)
def test_own_pages_show_only_your_own_things(route, cast):
    marker = route.marker(cast)
    response = client_for(getattr(cast, route.owner), api=route.api).get(reverse(route.name))
    assert response.status_code == 200 and marker in text(response)
    for who in OTHERS + (None,):
        response = client_for(getattr(cast, who) if who else None, api=route.api).get(reverse(route.name))
        assert response.status_code < 500 and marker not in text(response), f"{route.name} as {who or 'anonymous'}"


# --- an order holding two sellers' items -------------------------------------------------------------------


def test_each_seller_sees_and_fulfils_only_their_own_shipment(cast):
    """The buyer's order holds the seller's camera and the rival seller's tripod. Each seller sees only their
    own line and shipment and moves only it; a visitor and another buyer see and change nothing; the buyer
    sees both parcels with their tracking links."""
    tripod = world.make_product(cast.rival_seller, name=f"{world.MARK} tripod", slug="tripod", price=31_111, stock=5)
    buyer_cart = world.cart._user_cart(cast.buyer)
    world.cart.add_item(buyer_cart, cast.product.variants.get().pk, 1)
    world.cart.add_item(buyer_cart, tripod.variants.get().pk, 1)
    CartItem.objects.filter(cart=buyer_cart, quantity=2).delete()  # the cast's own cart line is not part of this
    both = orders.place_order(cast.buyer, shipping_address=world.address("two-sellers"))
    orders.mark_paid(both)
    number = both.number
    page, api = (lambda user: client_for(user, api=False)), (lambda user: client_for(user, api=True))

    # the seller sees the address and their camera, never the tripod or its price
    for response in (
        page(cast.seller).get(reverse("orders:detail", args=[number])),
        api(cast.seller).get(reverse("api-order", args=[number])),
        api(cast.seller).get(reverse("api-orders-manage")),
    ):
        assert response.status_code == 200 and number in text(response)
        assert "Rangefinder camera" in text(response) and "tripod" not in text(response)
        assert "31,111" not in text(response) and "31111" not in text(response)
    assert "two-sellers unit" in text(page(cast.seller).get(reverse("orders:detail", args=[number])))
    listing = text(page(cast.seller).get(reverse("orders:seller_orders")))
    assert number in listing and format_money(both.total, "KRW") not in listing  # the order's total holds the tripod
    assert "Rangefinder camera" not in text(api(cast.rival_seller).get(reverse("api-order", args=[number])))

    # each ships their own: the rival seller's request moves the rival seller's shipment, not the seller's
    shipped = api(cast.rival_seller).post(
        reverse("api-order-status", args=[number]),
        {"status": "shipped", "courier": "hanjin", "tracking_number": "4321-0987-6543"},
        content_type="application/json",
    )
    assert shipped.status_code == 200, shipped.content
    assert [(s["status"], s["tracking_number"]) for s in shipped.json()["shipments"]] == [("shipped", "432109876543")]
    statuses = dict(Shipment.objects.filter(order=both).values_list("seller_id", "status"))
    assert statuses == {cast.seller.pk: "new", cast.rival_seller.pk: "shipped"}
    assert Order.objects.get(pk=both.pk).status == "preparing"  # one parcel on its way, the other not yet

    # a visitor and another buyer can neither see nor change either shipment
    before = sorted(Shipment.objects.filter(order=both).values_list("pk", "status", "courier", "tracking_number"))
    for who in (cast.rival, None):
        assert "two-sellers unit" not in text(page(who).get(reverse("orders:detail", args=[number])))
        assert "two-sellers unit" not in text(api(who).get(reverse("api-order", args=[number])))
        response = api(who).post(
            reverse("api-order-status", args=[number]), {"status": "delivered"}, content_type="application/json"
        )
        assert refused(response, anonymous=who is None, page_action=False)
        response = page(who).post(reverse("orders:advance", args=[number]), {"status": "delivered"})
        assert refused(response, anonymous=who is None, page_action=False)
    assert (
        sorted(Shipment.objects.filter(order=both).values_list("pk", "status", "courier", "tracking_number")) == before
    )

    # the buyer sees both parcels, the shipped one with a tracking link at the courier
    mine = text(page(cast.buyer).get(reverse("orders:detail", args=[number])))
    assert "432109876543" in mine and "hanjin.com" in mine
    shipments = api(cast.buyer).get(reverse("api-order", args=[number])).json()["shipments"]
    assert sorted(s["status"] for s in shipments) == ["new", "shipped"]

    # the seller ships theirs too: the order follows its shipments
    page(cast.seller).post(
        reverse("orders:advance", args=[number]),
        {"status": "shipped", "courier": "cj", "tracking_number": "123456789012"},
    )
    assert Order.objects.get(pk=both.pk).status == "shipped"
