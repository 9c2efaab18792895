"""The Django side of tests/services/test_moveto.py, run as a subprocess with the site's environment:

    python -m tests.services.moveto_site build    on the embedded SQLite (BIDCART_DATA_DIR): migrate, the demo
                                                  seed, then a shop's life through the app's own services
    python -m tests.services.moveto_site check    on the moved-to database (DATABASE_URL): log in, keep using the
                                                  site (new rows in the tables the move filled)

Each prints one JSON object on its last line.
"""

from __future__ import annotations

import json
import sys
from urllib.parse import parse_qsl, urlsplit

import django

from bidcart.cli import _prepare_data_dir

_prepare_data_dir()  # as `bidcart run` does before Django starts: the generated secret key of the site's folder
django.setup()

import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from bidcart.accounts.models import User  # noqa: E402
from bidcart.auctions import services as auctions  # noqa: E402
from bidcart.cart import services as cart  # noqa: E402
from bidcart.catalog import services as catalog  # noqa: E402
from bidcart.catalog.models import Category, Variant  # noqa: E402
from bidcart.orders import services as orders  # noqa: E402
from bidcart.payments import services as payments  # noqa: E402
from bidcart.pgsim.app import create_app  # noqa: E402
from bidcart.pgsim.config import SimConfig  # noqa: E402
from bidcart.reviews import services as reviews  # noqa: E402
from tests.auctions.factories import bidder, end_now, make_lot, seller  # noqa: E402
from tests.factories import PASSWORD, make_user, picture  # noqa: E402
from tests.livesrv import running_server  # noqa: E402
from tests.payments.fixtures import ADDRESS, SimControl, make_order  # noqa: E402


def build() -> dict:
    from django.conf import settings

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", verbosity=0)

    # A store order paid with KakaoPay at a real simulator, shipped, confirmed, partly refunded, reviewed; the
    # product has a picture.
    buyer = make_user("mover@example.com", phone="+821055550001")
    staff = make_user("staff-mover@example.com", staff=True)
    order = make_order(buyer, price=25000, quantity=2)
    product = order.lines.get().product
    with running_server(create_app(SimConfig(control=True, allowed_origins=("*",)))) as sim_url:
        settings.PGSIM_URL = sim_url
        payment, nxt = payments.start_payment(buyer, order, provider="kakaopay", site_url="http://shop.test")
        SimControl(sim_url).next_outcome("kakaopay", "approve")
        back = httpx.get(nxt.url, follow_redirects=False, timeout=10).headers["location"]
        payment = payments.confirm_payment(payment.merchant_uid, dict(parse_qsl(urlsplit(back).query)))
        assert payment.status == "paid", payment.status
        orders.update_shipment(product.seller, order, "shipped", courier="cj", tracking_number="123456789012")
        orders.confirm_purchase(buyer, order)  # 구매확정 opens the review below
        refund = payments.refund_payment(payment.merchant_uid, amount=3000, reason="late delivery", actor=staff)
    delivery = payments.receive_webhook(
        "paypal", headers={"paypal-transmission-id": "forged"}, body=b'{"id": "WH-1"}', remote_ip="203.0.113.9"
    )
    payments.process_webhook(delivery)  # not signed: rejected, and kept
    reviews.create_review(buyer, product, rating=5, text="잘 받았어요")
    catalog.add_to_wishlist(buyer, product)
    image = catalog.add_images(product.seller, product, [picture("front.png", "PNG")])[0]
    cart.add_item(cart._user_cart(buyer), Variant.objects.filter(stock__gt=2).exclude(product=product).first().pk, 2)

    # A lot with a bidding war, chat and a watcher, closed: the win with its order, notices.
    lot = make_lot(seller(), start=10_000, title="필름 카메라")
    first, second = bidder(), bidder()
    auctions.watch(first, lot.pk)
    auctions.place_bid(first, lot.pk, 20_000)
    auctions.post_message(first, lot.pk, "상태 좋아 보이네요")
    auctions.place_bid(second, lot.pk, 35_000)
    end_now(lot)
    assert auctions.close_lot(lot.pk) == "sold"

    browser = Client()
    browser.force_login(buyer)  # a session row: the buyer should stay logged in across the move
    return {
        "email": buyer.email,
        "password": PASSWORD,
        "session": browser.cookies[settings.SESSION_COOKIE_NAME].value,
        "order": order.number,
        "merchant_uid": payment.merchant_uid,
        "refund": refund.pk,
        "lot": lot.pk,
        "image": image.image.name,
    }


def check(facts: dict) -> dict:
    seen = {}
    browser = Client()
    login = browser.post("/accounts/login/", {"email": facts["email"], "password": facts["password"]})
    seen["login_status"] = login.status_code
    seen["me"] = browser.get("/api/v1/me/").json().get("email")
    kept = Client()
    kept.cookies["sessionid"] = facts["session"]
    seen["kept_session_me"] = kept.get("/api/v1/me/").json().get("email")
    seen["order_page"] = browser.get(f"/orders/{facts['order']}/").status_code

    # New rows after the move, through the site: a cart line by API and an order from that cart, a new lot
    # and a bid. (The factories' default names would repeat the build's: these are named.)
    variant = Variant.objects.filter(stock__gt=0).order_by("-pk").first()
    added = browser.post("/api/v1/cart/items/", {"variant": variant.pk, "quantity": 1}, content_type="application/json")
    seen["cart_add"] = added.status_code
    seen["new_order"] = orders.place_order(User.objects.get(email=facts["email"]), shipping_address=ADDRESS).number
    lot = make_lot(
        seller("seller-after-move@example.com", phone="+821077770001"),
        category=Category.objects.first(),
        start=5_000,
        title="after",
    )
    seen["new_bid"] = auctions.place_bid(
        bidder("bidder-after-move@example.com", phone="+821077770002"), lot.pk, 9_000
    ).bid.pk
    return seen


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        print(json.dumps(build()))
    elif sys.argv[1:2] == ["check"]:
        print(json.dumps(check(json.loads(sys.argv[2]))))
    else:
        sys.exit(__doc__)
