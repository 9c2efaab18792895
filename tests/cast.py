"""A small marketplace with one of every kind of private object, each owned by someone, for the tests that
go over every endpoint (tests/test_authorization.py, tests/services/test_api_schemathesis.py).

Two buyers (`buyer` owns everything a buyer can own, `rival` is an ordinary verified user who owns nothing),
two sellers (`seller` owns the product and the lots, `rival_seller` owns nothing) and a staff member. Objects
are made through the services, as the product makes them; every text a page or answer could show carries
`MARK`, so a test can tell whether an object's private data reached a response.

A payment needs the payment simulator: set `PGSIM_URL` (the `sim` or `live_shop` fixture) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from bidcart.accounts.models import User
from bidcart.auctions import services as auctions
from bidcart.auctions.models import ChatMessage, Lot, SecondChanceOffer
from bidcart.cart import services as cart
from bidcart.cart.models import CartItem
from bidcart.catalog import services as catalog
from bidcart.catalog.models import Product
from bidcart.orders import services as orders
from bidcart.orders.models import Order
from bidcart.payments import services as payments
from bidcart.payments.models import Payment
from bidcart.reviews import services as reviews
from bidcart.reviews.models import Review
from tests.auctions.factories import bidder, make_lot
from tests.auctions.factories import seller as make_seller
from tests.catalog.factories import make_category, make_product, make_user

MARK = "zq-private"


def address(tag: str) -> dict:
    return {"recipient": f"{MARK} {tag} recipient", "phone": "010-1234-5678", "postcode": "06236",
            "address1": "서울 강남구 테헤란로 152", "address2": f"{MARK} {tag} unit"}


@dataclass
class Cast:
    buyer: User
    rival: User
    seller: User
    rival_seller: User
    staff: User
    product: Product
    order: Order  # the buyer's, awaiting payment, with a payment under way
    payment: Payment
    paid_order: Order  # the buyer's, paid: the buyer may review the product
    review: Review
    cart_item: CartItem
    lot: Lot  # the seller's, live; the buyer bid on it, watches it and chatted in it
    message: ChatMessage
    offer: SecondChanceOffer  # the buyer's, open, on another lot of the seller's

    def users(self) -> dict[str, User]:
        return {"buyer": self.buyer, "rival": self.rival, "seller": self.seller, "rival_seller": self.rival_seller,
                "staff": self.staff}


def build() -> Cast:
    buyer, rival = bidder("buyer@example.com"), bidder("rival@example.com")
    seller, rival_seller = make_seller("seller@example.com"), make_seller("rival-seller@example.com")
    staff = make_user("staff@example.com", staff=True)
    category = make_category("Cameras", slug="cameras")
    product = make_product(seller, category, name="Rangefinder camera", slug="rangefinder", price=25_000, stock=50)
    variant = product.variants.get()

    buyer_cart = cart._user_cart(buyer)
    cart.add_item(buyer_cart, variant.pk, 1)
    paid_order = orders.place_order(buyer, shipping_address=address("paid-order"))
    orders.mark_paid(paid_order)
    review = reviews.create_review(buyer, product, rating=4, text=f"{MARK} review text")
    cart.add_item(buyer_cart, variant.pk, 1)
    order = orders.place_order(buyer, shipping_address=address("order"))
    payment, _next = payments.start_payment(buyer, order, provider="kakaopay")
    cart_item = cart.add_item(buyer_cart, variant.pk, 2)
    catalog.add_to_wishlist(buyer, product)

    lot = make_lot(seller, category=category, title="Leica M3", start=10_000, runs=timedelta(hours=2))
    auctions.place_bid(buyer, lot.pk, 54_321)
    auctions.watch(buyer, lot.pk)
    message = auctions.post_message(buyer, lot.pk, f"{MARK} chat line")
    ended = make_lot(seller, category=category, title="Leica M2", start=10_000, runs=timedelta(hours=1))
    offer = SecondChanceOffer.objects.create(lot=ended, user=buyer, price=12_345, expires_at=timezone.now() + timedelta(hours=48))
    return Cast(buyer=buyer, rival=rival, seller=seller, rival_seller=rival_seller, staff=staff, product=product,
                order=order, payment=payment, paid_order=paid_order, review=review, cart_item=cart_item, lot=lot,
                message=message, offer=offer)
