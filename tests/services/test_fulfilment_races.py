"""Fulfilment races on PostgreSQL: sellers of one order shipping at once, a double click on 발송, and 구매확정
by the buyer while the sweep confirms the same order. Real threads, each on its own connection."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bidcart.cart.models import Cart, CartItem
from bidcart.orders import services
from bidcart.orders.models import Order, OrderEvent, Shipment
from tests.factories import make_product, make_user
from tests.services.test_store_concurrency import race_on_own_connections

ADDRESS = {"recipient": "구매자", "phone": "010-1234-5678", "postcode": "06236", "address1": "서울", "address2": ""}
CJ = {"courier": "cj", "tracking_number": "123456789012"}


def paid_order(buyer, sellers):
    cart, _ = Cart.objects.get_or_create(user=buyer)
    for seller in sellers:
        CartItem.objects.create(
            cart=cart, variant=make_product(seller, price=10_000, stock=5).variants.get(), quantity=1
        )
    return services.mark_paid(services.place_order(buyer, shipping_address=ADDRESS))


@pytest.mark.django_db(transaction=True)
def test_sellers_shipping_their_last_parcels_at_once_leave_the_order_shipped():
    """Each seller's request reads the other shipments to decide the order's status: without the order's row
    lock both would see the other parcel still at home and the order would stay 'preparing' for ever."""
    sellers = [make_user(f"seller{i}@example.com", seller=True) for i in range(4)]
    buyer = make_user("buyer@example.com")
    for _round in range(5):
        order = paid_order(buyer, sellers)
        _pids, errors = race_on_own_connections(
            [lambda s=s: services.update_shipment(s, order, "shipped", **CJ) for s in sellers]
        )
        assert errors == []
        assert Order.objects.get(pk=order.pk).status == "shipped"
        steps = list(OrderEvent.objects.filter(order=order, type="status").values_list("to_status", flat=True))
        assert steps == ["paid", "preparing", "shipped"]


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_ship_applies_once():
    seller, buyer = make_user("seller@example.com", seller=True), make_user("buyer@example.com")
    order = paid_order(buyer, [seller])
    _pids, errors = race_on_own_connections([lambda: services.update_shipment(seller, order, "shipped", **CJ)] * 5)
    assert len(errors) == 4 and {e.code for e in errors} <= {"illegal_transition", "status_changed"}
    assert Shipment.objects.get(order=order).status == "shipped"
    assert OrderEvent.objects.filter(order=order, type=OrderEvent.Type.SHIPMENT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_buyer_and_sweep_confirming_at_once_confirm_once(settings):
    settings.ORDER_AUTO_CONFIRM_DAYS = 7
    seller, buyer = make_user("seller@example.com", seller=True), make_user("buyer@example.com")
    order = paid_order(buyer, [seller])
    services.update_shipment(seller, order, "shipped", **CJ)
    services.update_shipment(seller, order, "delivered")
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - timedelta(days=8))
    _pids, errors = race_on_own_connections(
        [lambda: services.confirm_purchase(buyer, order)] * 2 + [services.auto_confirm_delivered] * 2
    )
    assert all(e.code == "already_confirmed" for e in errors)
    assert Order.objects.get(pk=order.pk).confirmed_at is not None
    assert OrderEvent.objects.filter(order=order, type=OrderEvent.Type.CONFIRMED).count() == 1
