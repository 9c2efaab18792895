"""Refunds that match what happened: staff (API and admin) choose the lines and units returned, the
amount defaults to those units' share, restocking puts back exactly those units once, and the order's
status follows the refunds."""

from __future__ import annotations

import httpx
import pytest

from bidcart.catalog.models import Variant
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import services
from bidcart.payments.models import Payment, Refund, Status
from tests.factories import api_for, make_product, make_user

from .fixtures import ADDRESS, make_order

pytestmark = pytest.mark.django_db
ADMIN = "/staff-admin/payments/payment/"


def two_line_order(user):
    """An order of 2 mugs (₩12,000 each) and 1 lamp (₩30,000): ₩54,000, free shipping from ₩50,000."""
    from bidcart.cart import services as cart
    from bidcart.orders import services as orders

    seller = make_user(seller=True)
    mug = make_product(seller, name="머그컵", price=12000, stock=10)
    lamp = make_product(seller, name="스탠드", price=30000, stock=10)
    cart.add_item(cart._user_cart(user), mug.variants.get().pk, 2)
    cart.add_item(cart._user_cart(user), lamp.variants.get().pk, 1)
    order = orders.place_order(user, shipping_address=ADDRESS)
    return order, order.lines.get(product=mug), order.lines.get(product=lamp)


def pay(sim, buyer, order) -> Payment:
    payment, nxt = services.start_payment(buyer, order, provider="kakaopay", site_url="http://shop.test")
    sim.next_outcome("kakaopay", "approve")
    location = httpx.get(nxt.url, follow_redirects=False, timeout=10).headers["location"]
    services.confirm_payment(payment.merchant_uid, {"pg_token": location.split("pg_token=")[1]})
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    return payment


def stock(line) -> int:
    return Variant.objects.get(pk=line.variant_id).stock


def test_staff_refund_units_of_a_line_and_only_those_units_go_back_in_stock(sim, buyer):
    order, mug, lamp = two_line_order(buyer)
    payment = pay(sim, buyer, order)
    assert order.total == 54000 and order.shipping == 0
    mugs, lamps = stock(mug), stock(lamp)
    staff = api_for(make_user(staff=True))
    url = f"/api/v1/payments/{payment.merchant_uid}/refunds/"

    one = staff.post(url, {"reason": "one mug broke", "lines": {str(mug.pk): 1}, "restock": True}, format="json")
    assert one.status_code == 201, one.content
    assert one.json()["amount"] == 12000  # that unit's share, no amount given
    assert (stock(mug), stock(lamp)) == (mugs + 1, lamps)  # one mug back, not the whole order
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED

    kept = staff.post(url, {"reason": "second mug, damaged", "lines": {str(mug.pk): 1}}, format="json")
    assert kept.status_code == 201 and kept.json()["amount"] == 12000
    assert stock(mug) == mugs + 1  # refunded but not restocked: it was damaged

    again = staff.post(url, {"reason": "a third mug?", "lines": {str(mug.pk): 1}}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "line_quantity_invalid"  # each unit once

    last = staff.post(url, {"reason": "lamp returned", "lines": {str(lamp.pk): 1}, "restock": True}, format="json")
    assert last.status_code == 201 and last.json()["amount"] == 30000
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Status.REFUNDED and order.status == OrderStatus.REFUNDED
    assert payment.totals() == {"captured": 54000, "refunded": 54000, "refundable": 0}
    assert (stock(mug), stock(lamp)) == (mugs + 1, lamps + 1)
    assert [r.lines for r in Refund.objects.filter(payment=payment)] == [
        {str(mug.pk): 1},
        {str(mug.pk): 1},
        {str(lamp.pk): 1},
    ]


def test_the_last_units_refunded_by_line_take_the_shipping_with_them(sim, buyer):
    order = make_order(buyer, price=25000, quantity=1)  # ₩25,000 + ₩3,000 shipping
    payment = pay(sim, buyer, order)
    line = order.lines.get()
    done = api_for(make_user(staff=True)).post(
        f"/api/v1/payments/{payment.merchant_uid}/refunds/",
        {"reason": "returned", "lines": {str(line.pk): 1}, "restock": True},
        format="json",
    )
    assert done.status_code == 201 and done.json()["amount"] == 28000
    payment.refresh_from_db()
    assert payment.status == Status.REFUNDED


def test_refunds_by_line_refuse_what_does_not_add_up_and_move_no_money(sim, buyer):
    order, mug, lamp = two_line_order(buyer)
    payment = pay(sim, buyer, order)
    other_order, other_mug, _lamp = two_line_order(make_user())
    staff = api_for(make_user(staff=True))
    url = f"/api/v1/payments/{payment.merchant_uid}/refunds/"
    mugs = stock(mug)

    restock_all = staff.post(url, {"reason": "partial", "amount": 5000, "restock": True}, format="json")
    assert restock_all.status_code == 400 and restock_all.json()["code"] == "restock_lines_required"
    foreign = staff.post(url, {"reason": "x", "lines": {str(other_mug.pk): 1}}, format="json")
    assert foreign.status_code == 400 and foreign.json()["code"] == "line_invalid"
    too_many = staff.post(url, {"reason": "x", "lines": {str(mug.pk): 3}}, format="json")
    assert too_many.status_code == 400 and too_many.json()["code"] == "line_quantity_invalid"
    nothing = staff.post(url, {"reason": "x"}, format="json")
    assert nothing.status_code == 400

    assert not Refund.objects.exists() and stock(mug) == mugs
    assert services._adapter(payment, "test").fetch(payment).refunded == 0  # the provider was never asked
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_staff_refund_chosen_units_from_the_admin(sim, buyer, client):
    order, mug, lamp = two_line_order(buyer)
    payment = pay(sim, buyer, order)
    mugs, lamps = stock(mug), stock(lamp)
    client.force_login(make_user(staff=True, is_superuser=True))
    ask = client.post(ADMIN, {"action": "refund", "_selected_action": [payment.pk]})
    page = ask.content.decode()
    assert ask.status_code == 200 and f'name="line_{mug.pk}"' in page and f'name="line_{lamp.pk}"' in page

    done = client.post(
        ADMIN,
        {
            "action": "refund",
            "apply": "1",
            "_selected_action": [payment.pk],
            "reason": "one mug returned",
            f"line_{mug.pk}": "1",
            f"line_{lamp.pk}": "0",
            "restock": "on",
        },
    )
    assert done.status_code == 302
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.lines, refund.status) == (12000, {str(mug.pk): 1}, Refund.Status.SUCCEEDED)
    assert (stock(mug), stock(lamp)) == (mugs + 1, lamps)
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
