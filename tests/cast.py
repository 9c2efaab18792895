"""A small marketplace with one of every kind of private object, each owned by someone, for the tests that
go over every endpoint (tests/test_authorization.py, tests/services/test_api_schemathesis.py).

Two buyers (`buyer` owns everything a buyer can own, `rival` is an ordinary verified user with a cart of their
own, so lookups scoped to the requester have something to find),
two sellers (`seller` owns the products and the lots, `rival_seller` owns nothing) and a staff member. Objects
are made through the services, as the product makes them. Private texts carry `MARK`, and amounts are odd
numbers found nowhere else, so a test can tell whether an object's private data reached a response.

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
from bidcart.orders.models import Order, SavedAddress
from bidcart.payments import billing
from bidcart.payments import services as payments
from bidcart.payments.models import Payment, SavedPaymentMethod
from bidcart.reviews import services as reviews
from bidcart.reviews.models import Review
from bidcart.subscriptions import services as subscriptions
from bidcart.subscriptions.models import Subscription
from tests.auctions.factories import bidder, end_now, make_lot
from tests.auctions.factories import seller as make_seller
from tests.factories import make_category, make_product

MARK = "zq-private"
PRICE = 24_987  # the product's: an order's total is PRICE + shipping
BUYER_MAX = 54_321
OFFER_PRICE = 12_345
SAVED_CARD = "4000000000007351"  # the buyer's saved card: its last digits are found nowhere else


def address(tag: str) -> dict:
    return {
        "recipient": f"{MARK} {tag} recipient",
        "phone": "010-1234-5678",
        "postcode": "06236",
        "address1": "서울 강남구 테헤란로 152",
        "address2": f"{MARK} {tag} unit",
    }


@dataclass
class Cast:
    buyer: User
    rival: User
    seller: User
    rival_seller: User
    staff: User
    product: Product
    draft: Product  # the seller's, not yet on sale: only the seller sees it
    order: Order  # the buyer's, awaiting payment, with a payment under way
    payment: Payment
    paid_order: Order  # the buyer's, paid: the buyer may review the product
    review: Review
    cart_item: CartItem
    lot: Lot  # the seller's, live; the buyer bid on it (BUYER_MAX), watches it and chatted in it
    quiet: Lot  # the seller's, live, no bids: the seller may still withdraw it
    unsold: Lot  # the seller's, closed without a bid: the seller may relist it
    message: ChatMessage
    offer: SecondChanceOffer  # the buyer's, open (OFFER_PRICE), on another lot of the seller's
    saved_address: SavedAddress  # in the buyer's address book
    saved_method: SavedPaymentMethod | None = None  # the buyer's saved card (SAVED_CARD), a PortOne V1 billing key
    subscription: Subscription | None = None  # the buyer's, weekly, to the seller's product, with that card

    def users(self) -> dict[str, User]:
        return {
            "buyer": self.buyer,
            "rival": self.rival,
            "seller": self.seller,
            "rival_seller": self.rival_seller,
            "staff": self.staff,
        }


def build() -> Cast:
    buyer, rival = bidder("buyer@example.com"), bidder("rival@example.com")
    seller, rival_seller = make_seller("seller@example.com"), make_seller("rival-seller@example.com")
    staff = bidder("staff@example.com", staff=True)
    category = make_category("Cameras", slug="cameras")
    product = make_product(seller, category, name="Rangefinder camera", slug="rangefinder", price=PRICE, stock=50)
    draft = make_product(seller, category, name=f"{MARK} draft", slug="draft", price=PRICE, active=False)
    variant = product.variants.get()

    buyer_cart = cart._user_cart(buyer)
    cart.add_item(buyer_cart, variant.pk, 1)
    paid_order = orders.place_order(buyer, shipping_address=address("paid-order"))
    orders.mark_paid(paid_order)
    cart.add_item(buyer_cart, variant.pk, 1)
    received = orders.place_order(buyer, shipping_address=address("received"))  # reviews open after 구매확정
    orders.mark_paid(received)
    orders.update_shipment(seller, received, "shipped", courier="cj", tracking_number="123456789012")
    orders.confirm_purchase(buyer, received)
    review = reviews.create_review(buyer, product, rating=4, text=f"{MARK} review")
    cart.add_item(buyer_cart, variant.pk, 1)
    order = orders.place_order(buyer, shipping_address=address("order"))
    payment, _next = payments.start_payment(buyer, order, provider="kakaopay")
    cart_item = cart.add_item(buyer_cart, variant.pk, 2)
    lens_cap = make_product(seller, category, name="Lens cap", slug="lens-cap", price=5_000)
    cart.add_item(cart._user_cart(rival), lens_cap.variants.get().pk, 1)
    catalog.add_to_wishlist(buyer, product)
    saved_address = orders.save_address(buyer, address("saved"))

    lot = make_lot(seller, category=category, title="Leica M3", start=10_000, runs=timedelta(hours=2))
    auctions.place_bid(buyer, lot.pk, BUYER_MAX)
    auctions.watch(buyer, lot.pk)
    message = auctions.post_message(buyer, lot.pk, "Is the shutter accurate at 1/1000?")
    quiet = make_lot(seller, category=category, title="Leica IIIf", start=10_000, runs=timedelta(hours=2))
    unsold = end_now(make_lot(seller, category=category, title="Leica CL", start=10_000, runs=timedelta(hours=1)))
    auctions.close_ended_lots()
    unsold.refresh_from_db()
    ended = make_lot(seller, category=category, title="Leica M2", start=10_000, runs=timedelta(hours=1))
    offer = SecondChanceOffer.objects.create(
        lot=ended, user=buyer, price=OFFER_PRICE, expires_at=timezone.now() + timedelta(hours=48)
    )
    saved_method = save_card(buyer)
    subscriptions.set_plan(seller, product.pk, ["1w", "1m"])
    subscription = subscriptions.subscribe(
        buyer,
        variant_id=variant.pk,
        quantity=1,
        interval="1w",
        method_id=saved_method.pk,
        shipping_address=address("sub"),
        first_date=subscriptions.seoul_today() + timedelta(days=3),
    )
    return Cast(
        buyer=buyer,
        rival=rival,
        seller=seller,
        rival_seller=rival_seller,
        staff=staff,
        product=product,
        draft=draft,
        order=order,
        payment=payment,
        paid_order=paid_order,
        review=review,
        cart_item=cart_item,
        lot=lot,
        quiet=quiet,
        unsold=unsold,
        message=message,
        offer=offer,
        saved_address=saved_address,
        saved_method=saved_method,
        subscription=subscription,
    )


def save_card(user) -> SavedPaymentMethod:
    """A card registered on PortOne's window, as the buyer does it (payments:methods)."""
    from tests.payments.fixtures import pay_in_portone_window

    method, nxt = billing.start_saving_method(user, provider="portone")
    pay_in_portone_window(nxt.script, {**nxt.params, "card_number": SAVED_CARD})
    return billing.confirm_saved_method(user, method.pk)
