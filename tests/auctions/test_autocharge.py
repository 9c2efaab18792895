"""Auction winners charged automatically (issue #17 item 4): a bidder opts in per lot with their saved card,
and the win is charged at the close, once, through the payment ledger, against the payment simulator over
real HTTP. A declined card falls back to the 48-hour payment window with an email; a seller may accept
bids only from buyers with a saved card."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from bidcart.auctions import services
from bidcart.auctions.models import BidderAlias, Lot, Win
from bidcart.auctions.services import autocharge
from bidcart.orders import services as order_services
from bidcart.orders.models import Order
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import billing
from bidcart.payments.models import Payment, PaymentEvent, SavedPaymentMethod
from bidcart.payments.models import Status as PaymentStatus
from tests.auctions.factories import api_for, bidder, end_now, make_lot, seller
from tests.payments.fixtures import ADDRESS, pay_in_portone_window

pytestmark = pytest.mark.django_db

DECLINED_CARD = "4000000000000002"  # the simulator's insufficient-funds card


def save_card(user, **card) -> SavedPaymentMethod:
    """The buyer registers a card on PortOne's (simulated) window and comes back: an active default card."""
    method, nxt = billing.start_saving_method(user, provider="portone")
    params = {**nxt.params, **({"card_number": card["card"]} if card.get("card") else {})}
    location = pay_in_portone_window(nxt.script, params, "approve")
    return billing.confirm_saved_method(user, method.pk, params=dict(parse_qsl(urlsplit(location).query)))


def buyer_with_card(email=None, *, card="", language="en"):
    user = bidder(email, language=language)
    save_card(user, card=card)
    order_services.save_address(user, ADDRESS, default=True)
    return user


def charges_at_portone(sim, payment: Payment) -> list[dict]:
    return [p for p in sim.ledger()["iamport_payments"].values() if p["merchant_uid"] == payment.merchant_uid]


def close(lot: Lot, capture) -> Win:
    end_now(lot)
    with capture(execute=True):
        assert services.close_ended_lots() == 1
    return Win.objects.select_related("order").get(lot=lot)


def test_a_win_with_a_saved_card_is_paid_at_the_close_without_the_buyer_acting(
    sim, mailoutbox, django_capture_on_commit_callbacks
):
    buyer = buyer_with_card()
    lot = make_lot(start=30_000)
    answer = api_for(buyer).post(
        f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": 40_000, "pay_with_saved_method": True}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    assert api_for(buyer).get(f"/api/v1/lots/{lot.pk}/").json()["pay_with_saved_method"] is True

    win = close(lot, django_capture_on_commit_callbacks)

    order = Order.objects.get(pk=win.order_id)
    assert order.status == OrderStatus.PAID
    assert (order.recipient, order.address1) == (ADDRESS["recipient"], ADDRESS["address1"])  # the default address
    assert win.charge == Win.Charge.PAID
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.PAID and payment.saved_method_id == win.charge_method_id
    captured = PaymentEvent.objects.filter(payment=payment, type=PaymentEvent.Type.CAPTURED)
    assert [e.amount for e in captured] == [order.total]
    assert [p["amount"] for p in charges_at_portone(sim, payment)] == [order.total]
    # the win's own email (instead of "pay by…"), and the ledger's receipt as for any payment
    assert sorted(m.subject for m in mailoutbox) == [
        f"[bidcart] Payment received for order {order.number}",
        f"[bidcart] You won {lot.title} and it is paid",
    ]
    won = next(m for m in mailoutbox if "You won" in m.subject)
    assert "BC카드 ····0005" in won.body and "nothing more to do" in won.body
    services.settle_wins()
    assert Win.objects.get(pk=win.pk).status == Win.Status.PAID


def test_two_closers_or_a_retried_charge_charge_the_card_once(sim, mailoutbox, django_capture_on_commit_callbacks):
    buyer = buyer_with_card()
    lot = make_lot()
    services.place_bid(buyer, lot.pk, 20_000, pay_with_saved_method=True)
    end_now(lot)
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.close_lot(lot.pk) == Lot.Status.SOLD
    assert services.close_lot(lot.pk) is None  # a retried close: nothing more to do
    for callback in callbacks + callbacks:  # every after-commit hook run twice, as by two workers
        callback()
    win = Win.objects.get(lot=lot)
    payment = Payment.objects.get(order=win.order)
    assert len(charges_at_portone(sim, payment)) == 1
    assert len([m for m in mailoutbox if "it is paid" in m.subject]) == 1
    # the worker died after the charge and before writing its outcome: the retry sweep reads it back
    Win.objects.filter(pk=win.pk).update(charge=Win.Charge.DUE, created_at=timezone.now() - timedelta(minutes=5))
    assert autocharge.retry_due_charges() == 1
    assert Win.objects.get(pk=win.pk).charge == Win.Charge.PAID
    assert Payment.objects.filter(order=win.order).count() == 1 and len(charges_at_portone(sim, payment)) == 1


def test_a_declined_card_leaves_the_48_hour_window_and_an_email(sim, mailoutbox, django_capture_on_commit_callbacks):
    buyer = buyer_with_card(card=DECLINED_CARD)
    lot = make_lot(start=30_000, title="Film camera")
    services.place_bid(buyer, lot.pk, 30_000, pay_with_saved_method=True)
    before = timezone.now()

    win = close(lot, django_capture_on_commit_callbacks)

    order = Order.objects.get(pk=win.order_id)
    assert order.status == OrderStatus.PENDING_PAYMENT and order.is_payable
    assert before + timedelta(hours=47, minutes=59) < order.payment_due_at <= timezone.now() + timedelta(hours=48)
    assert win.charge == Win.Charge.DECLINED
    assert Payment.objects.get(order=order).status == PaymentStatus.FAILED
    [mail] = mailoutbox
    assert mail.subject == "[bidcart] You won Film camera: please pay on the order page"
    assert "We could not charge your saved card" in mail.body
    assert timezone.localtime(order.payment_due_at).strftime("%Y-%m-%d %H:%M") in mail.body
    assert reverse("orders:detail", args=[order.number]) in mail.body


def test_the_declined_email_is_in_korean_for_a_korean_buyer(sim, mailoutbox, django_capture_on_commit_callbacks):
    buyer = buyer_with_card(card=DECLINED_CARD, language="ko")
    lot = make_lot(title="필름 카메라")
    services.place_bid(buyer, lot.pk, 20_000, pay_with_saved_method=True)
    close(lot, django_capture_on_commit_callbacks)
    [mail] = mailoutbox
    assert "필름 카메라" in mail.subject and "낙찰" in mail.subject
    assert "등록한 카드 BC카드 ····0002(으)로 결제하지 못했습니다" in mail.body and "charge" not in mail.body


def test_a_winner_who_did_not_opt_in_pays_on_the_order_page_as_before(
    sim, mailoutbox, django_capture_on_commit_callbacks
):
    buyer = buyer_with_card()
    lot = make_lot()
    services.place_bid(buyer, lot.pk, 20_000)
    win = close(lot, django_capture_on_commit_callbacks)
    assert win.charge == Win.Charge.NONE and win.order.status == OrderStatus.PENDING_PAYMENT
    assert not Payment.objects.filter(order=win.order).exists()
    assert [m.subject for m in mailoutbox] == [f"[bidcart] You won {lot.title}"]


def test_a_later_bid_can_turn_the_choice_off_and_a_bid_saying_nothing_keeps_it(sim):
    buyer = buyer_with_card()
    lot = make_lot()
    services.place_bid(buyer, lot.pk, 20_000, pay_with_saved_method=True)
    services.place_bid(buyer, lot.pk, 30_000)
    assert BidderAlias.objects.get(lot=lot, user=buyer).pay_with_saved_method is True
    services.place_bid(buyer, lot.pk, 40_000, pay_with_saved_method=False)
    assert BidderAlias.objects.get(lot=lot, user=buyer).pay_with_saved_method is False


def test_the_address_chosen_with_the_bid_is_the_orders(sim, django_capture_on_commit_callbacks):
    buyer = buyer_with_card()
    office = order_services.save_address(
        buyer, {**ADDRESS, "recipient": "김사무", "address1": "서울 중구 세종대로 110"}
    )
    lot = make_lot()
    answer = api_for(buyer).post(
        f"/api/v1/lots/{lot.pk}/bids/",
        {"max_amount": 20_000, "pay_with_saved_method": True, "address_id": office.pk},
        format="json",
    )
    assert answer.status_code == 201
    win = close(lot, django_capture_on_commit_callbacks)
    order = Order.objects.get(pk=win.order_id)
    assert (order.recipient, order.address1, order.status) == ("김사무", "서울 중구 세종대로 110", OrderStatus.PAID)


def test_someone_elses_address_is_refused(sim):
    buyer, stranger = buyer_with_card(), buyer_with_card()
    theirs = stranger.addresses.get()
    lot = make_lot()
    answer = api_for(buyer).post(
        f"/api/v1/lots/{lot.pk}/bids/",
        {"max_amount": 20_000, "pay_with_saved_method": True, "address_id": theirs.pk},
        format="json",
    )
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_address"
    assert not lot.bids.exists()


def test_asking_to_pay_with_a_saved_card_without_one_is_refused():
    lot = make_lot()
    answer = api_for(bidder()).post(
        f"/api/v1/lots/{lot.pk}/bids/",
        {"max_amount": 20_000, "pay_with_saved_method": True},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 409 and answer.json()["code"] == "saved_method_required"
    assert "Saved cards" in answer.json()["detail"]


# --- a seller who requires a saved card ---------------------------------------------------------------


def test_a_seller_lists_a_lot_that_requires_a_saved_card_over_the_api():
    owner = seller()
    body = {
        "title": "Rolex",
        "category": make_lot().category.slug,
        "start_price": 100_000,
        "ends_at": (timezone.now() + timedelta(hours=2)).isoformat(),
        "requires_saved_method": True,
    }
    answer = api_for(owner).post("/api/v1/lots/", body, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["requires_saved_method"] is True
    assert Lot.objects.get(pk=answer.json()["id"]).requires_saved_method


def test_a_lot_requiring_a_saved_card_refuses_a_bidder_without_one_over_the_api(sim):
    lot = make_lot(requires_saved_method=True)
    without = bidder(language="en")
    answer = api_for(without).post(
        f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": 20_000}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "saved_method_required"
    assert answer.json()["detail"].startswith("The seller accepts bids only from buyers with a saved card")
    assert not lot.bids.exists()
    with_card = buyer_with_card()
    answer = api_for(with_card).post(f"/api/v1/lots/{lot.pk}/bids/", {"max_amount": 20_000}, format="json")
    assert answer.status_code == 201
    # on such a lot every bid is with the saved card, whatever the bid says
    assert api_for(with_card).get(f"/api/v1/lots/{lot.pk}/").json()["pay_with_saved_method"] is True


def test_a_lot_requiring_a_saved_card_refuses_buy_it_now_without_one():
    lot = make_lot(buy_now=50_000, requires_saved_method=True)
    answer = api_for(bidder()).post(f"/api/v1/lots/{lot.pk}/buy-now/", format="json")
    assert answer.status_code == 409 and answer.json()["code"] == "saved_method_required"
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.LIVE


def test_the_lot_page_tells_a_bidder_without_a_card_to_save_one_and_refuses_their_bid(client):
    lot = make_lot(requires_saved_method=True)
    user = bidder(language="en")
    client.force_login(user)
    page = client.get(reverse("auctions:lot", args=[lot.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-testid="save-a-card"' in page.content
    assert reverse("payments:methods").encode() in page.content
    answer = client.post(
        reverse("auctions:bid", args=[lot.pk]), {"max_amount": "20000"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "The seller accepts bids only from buyers with a saved card" in answer.content.decode()
    assert not lot.bids.exists()


def test_the_lot_page_refusal_is_in_korean_for_a_korean_bidder(client):
    lot = make_lot(requires_saved_method=True)
    client.force_login(bidder())
    answer = client.post(
        reverse("auctions:bid", args=[lot.pk]), {"max_amount": "20000"}, follow=True, HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert "이 판매자는 카드를 등록한 구매자의 입찰만 받습니다" in answer.content.decode()
    assert not lot.bids.exists()


def test_the_bid_form_offers_the_saved_card_and_ticking_it_opts_in(sim, client):
    user = buyer_with_card()
    lot = make_lot()
    client.force_login(user)
    page = client.get(reverse("auctions:lot", args=[lot.pk])).content.decode()
    assert 'data-testid="bid-autopay"' in page and "····0005" in page
    client.post(
        reverse("auctions:bid", args=[lot.pk]),
        {"max_amount": "20000", "autopay_offered": "1", "pay_with_saved_method": "1"},
    )
    assert BidderAlias.objects.get(lot=lot, user=user).pay_with_saved_method is True
    client.post(reverse("auctions:bid", args=[lot.pk]), {"max_amount": "30000", "autopay_offered": "1"})  # unticked
    assert BidderAlias.objects.get(lot=lot, user=user).pay_with_saved_method is False


def test_a_win_paid_on_the_order_page_before_its_charge_is_not_charged(
    sim, mailoutbox, django_capture_on_commit_callbacks
):
    buyer = buyer_with_card()
    lot = make_lot()
    services.place_bid(buyer, lot.pk, 20_000, pay_with_saved_method=True)
    end_now(lot)
    with django_capture_on_commit_callbacks() as callbacks:
        services.close_lot(lot.pk)
    win = Win.objects.get(lot=lot)
    order_services.mark_paid(win.order, note="paid by bank transfer")  # before the after-commit charge ran
    for callback in callbacks:
        callback()
    assert Win.objects.get(pk=win.pk).charge == Win.Charge.NONE
    assert not Payment.objects.filter(order=win.order).exists()
    assert not [m for m in mailoutbox if "could not charge" in m.body]
