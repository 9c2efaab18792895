"""Listing lots and placing bids through the service: every rule and every refusal's reason code."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bidcart.auctions import services
from bidcart.auctions.models import Bid, BidderAlias, Lot, Strike, Win
from bidcart.core.errors import DomainError, http_status
from bidcart.orders.models import Order
from tests.auctions.factories import bidder, end_now, make_lot, make_user, seller

pytestmark = pytest.mark.django_db


def refused(func, *args) -> DomainError:
    with pytest.raises(DomainError) as error:
        func(*args)
    return error.value


# --- listing -------------------------------------------------------------------------------------------


def test_a_lot_starting_now_is_live_and_a_later_one_scheduled():
    assert make_lot().status == Lot.Status.LIVE
    later = make_lot(starts_in=timedelta(hours=1))
    assert later.status == Lot.Status.SCHEDULED
    assert later.increment_table[0] == [0, 100]  # the KRW table, copied onto the lot


@pytest.mark.parametrize(
    "terms, code",
    [
        ({"start": 10_000, "reserve": 9_000}, "reserve_below_start"),
        ({"start": 10_000, "buy_now": 12_999}, "buy_now_too_low"),  # at least 130 % of the start
        ({"start": 10_000, "buy_now": 13_000, "reserve": 20_000}, "reserve_above_buy_now"),
        ({"runs": timedelta(days=31)}, "too_long"),
        ({"soft_close": -1}, "soft_close_invalid"),
    ],
)
def test_lot_terms_are_checked(terms, code):
    error = refused(lambda: make_lot(**terms))
    assert (error.code, http_status(error)) == (code, 400)


def test_buy_now_at_exactly_130_percent_is_fine():
    assert make_lot(start=10_000, buy_now=13_000).buy_now_price == 13_000


def test_only_verified_sellers_list_lots():
    buyer = bidder()
    error = refused(lambda: make_lot(buyer))
    assert (error.code, http_status(error)) == ("not_a_seller", 403)
    unverified = make_user(seller=True)  # email verified, no phone
    assert refused(lambda: make_lot(unverified)).code == "not_verified"


# --- bidding -------------------------------------------------------------------------------------------


def test_proxy_bidding_through_the_service():
    lot = make_lot(start=10_000)
    a, b = bidder(), bidder()
    first = services.place_bid(a, lot.pk, 15_000)
    assert (first.leading, first.my_max, first.lot.price, first.lot.leader_id) == (True, 15_000, 10_000, a.pk)
    second = services.place_bid(b, lot.pk, 12_000)
    assert second.leading is False  # accepted, but A's earlier maximum is higher
    lot.refresh_from_db()
    assert (lot.current_price, lot.leader_id, lot.leader_max, lot.second_max, lot.bid_count) == (
        12_500,
        a.pk,
        15_000,
        12_000,
        2,
    )
    third = services.place_bid(b, lot.pk, 20_000)
    assert third.leading is True
    lot.refresh_from_db()
    assert (lot.current_price, lot.leader_id, lot.min_next_bid) == (15_500, b.pk, 16_000)
    # the log: prices as they stood, stable aliases (A is #1, B is #2), one alias per bidder
    assert list(Bid.objects.filter(lot=lot).order_by("id").values_list("alias", "price_after", "leading_after")) == [
        (1, 10_000, True),
        (2, 12_500, False),
        (2, 15_500, True),
    ]
    assert BidderAlias.objects.filter(lot=lot).count() == 2
    assert lot.leader_alias == 2
    assert lot.seq == 3  # one event per bid


def test_raising_your_own_maximum():
    lot = make_lot(start=10_000)
    a, b = bidder(), bidder()
    services.place_bid(a, lot.pk, 15_000)
    services.place_bid(b, lot.pk, 12_000)
    services.place_bid(a, lot.pk, 40_000)
    lot.refresh_from_db()
    assert (lot.current_price, lot.leader_max) == (12_500, 40_000)  # the price doesn't move
    error = refused(services.place_bid, a, lot.pk, 40_000)
    assert (error.code, http_status(error)) == ("max_not_raised", 409)


def test_reserve_is_hidden_but_met_or_not():
    lot = make_lot(start=10_000, reserve=50_000)
    a = bidder()
    services.place_bid(a, lot.pk, 30_000)
    lot.refresh_from_db()
    assert (lot.current_price, lot.reserve_met) == (10_000, False)
    services.place_bid(a, lot.pk, 60_000)
    lot.refresh_from_db()
    assert (lot.current_price, lot.reserve_met) == (50_000, True)


@pytest.mark.parametrize("amount", [0, -5, "abc", "12.5", None, True, 10**16, [], {}])
def test_bad_amounts_are_400(amount):
    lot = make_lot()
    error = refused(services.place_bid, bidder(), lot.pk, amount)
    assert (error.code, http_status(error)) == ("invalid_amount", 400)


def test_bid_too_low():
    lot = make_lot(start=10_000)
    error = refused(services.place_bid, bidder(), lot.pk, 9_999)
    assert (error.code, http_status(error)) == ("bid_too_low", 409)
    assert "10,000" in error.detail


def test_seller_cannot_bid_on_their_own_lot():
    owner = seller()
    lot = make_lot(owner)
    assert refused(services.place_bid, owner, lot.pk, 50_000).code == "seller_cannot_bid"


@pytest.mark.parametrize("who", ["no phone", "phone not verified", "email not verified"])
def test_bidders_must_have_verified_email_and_phone(who):
    lot = make_lot()
    user = bidder()
    if who == "no phone":
        user.phone = ""
    elif who == "phone not verified":
        user.phone_verified_at = None
    else:
        user.email_verified_at = None
    user.save()
    assert refused(services.place_bid, user, lot.pk, 50_000).code == "not_verified"


def test_a_stale_user_object_does_not_get_past_verification():
    lot = make_lot()
    user = bidder()
    from bidcart.accounts.models import User

    User.objects.filter(pk=user.pk).update(phone_verified_at=None)  # e.g. changed phone in another tab
    assert user.is_verified  # the object in hand still says yes
    assert refused(services.place_bid, user, lot.pk, 50_000).code == "not_verified"


def test_three_strikes_block_bidding_for_30_days_and_lifting_one_unblocks():
    user = bidder()
    now = timezone.now()
    strikes = [_strike(user, now - timedelta(days=d)) for d in (40, 20, 1)]
    lot = make_lot()
    error = refused(services.place_bid, user, lot.pk, 50_000)
    assert error.code == "bidding_blocked"
    staff = make_user(staff=True)
    services.lift_strike(staff, strikes[0])
    assert services.place_bid(user, lot.pk, 50_000).leading


def test_the_block_ends_30_days_after_the_third_strike():
    user = bidder()
    now = timezone.now()
    for d in (60, 45, 31):
        _strike(user, now - timedelta(days=d))
    assert services.place_bid(user, make_lot().pk, 50_000).leading


def _strike(user, at):
    lot = make_lot()
    order = Order.objects.create(
        number=f"BCX{Order.objects.count()}{user.pk}",
        user=user,
        kind="auction",
        subtotal=1,
        shipping=0,
        total=1,
        payment_due_at=at,
        status="expired",
    )
    win = Win.objects.create(lot=lot, user=user, order=order, kind=Win.Kind.AUCTION, price=1, status=Win.Status.UNPAID)
    return Strike.objects.create(user=user, win=win, created_at=at)


def test_a_scheduled_lot_refuses_bids_until_it_starts_by_the_clock():
    lot = make_lot(starts_in=timedelta(minutes=5))
    user = bidder()
    assert refused(services.place_bid, user, lot.pk, 50_000).code == "lot_not_live"
    Lot.objects.filter(pk=lot.pk).update(starts_at=timezone.now() - timedelta(seconds=1))
    result = services.place_bid(user, lot.pk, 50_000)  # no sweep needed: the clock decides
    assert result.lot.status == Lot.Status.LIVE


def test_a_bid_after_the_end_is_refused_even_before_the_closing_sweep():
    lot = end_now(make_lot())
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.LIVE  # not closed yet
    error = refused(services.place_bid, bidder(), lot.pk, 50_000)
    assert (error.code, http_status(error)) == ("lot_ended", 409)


def test_cancelled_and_missing_lots():
    lot = make_lot()
    services.cancel_lot(make_user(staff=True), lot.pk, "Counterfeit")
    assert refused(services.place_bid, bidder(), lot.pk, 50_000).code == "lot_not_live"
    error = refused(services.place_bid, bidder(), 999_999, 50_000)
    assert (error.code, http_status(error)) == ("not_found", 404)


# --- soft close ----------------------------------------------------------------------------------------


def test_a_bid_inside_the_window_moves_the_end_to_bid_time_plus_window():
    lot = make_lot(runs=timedelta(seconds=60), soft_close=120)
    before = timezone.now()
    result = services.place_bid(bidder(), lot.pk, 50_000)
    after = timezone.now()
    lot.refresh_from_db()
    assert result.extended
    assert before + timedelta(seconds=120) <= lot.ends_at <= after + timedelta(seconds=120)
    assert lot.extended and lot.scheduled_end < lot.ends_at
    assert lot.seq == 2  # the bid and the extension are two events


def test_a_bid_outside_the_window_leaves_the_end_alone():
    lot = make_lot(runs=timedelta(minutes=10), soft_close=120)
    end = lot.ends_at
    assert not services.place_bid(bidder(), lot.pk, 50_000).extended
    lot.refresh_from_db()
    assert lot.ends_at == end


def test_window_zero_is_a_hard_close():
    lot = make_lot(runs=timedelta(seconds=30), soft_close=0)
    end = lot.ends_at
    services.place_bid(bidder(), lot.pk, 50_000)
    lot.refresh_from_db()
    assert lot.ends_at == end


# --- Buy It Now ----------------------------------------------------------------------------------------


def test_buy_now_ends_the_lot_at_once_with_an_order_for_the_buyer(django_capture_on_commit_callbacks, mailoutbox):
    lot = make_lot(start=10_000, buy_now=20_000, title="Film camera")
    buyer = bidder()
    with django_capture_on_commit_callbacks(execute=True):
        win = services.buy_now(buyer, lot.pk)
    lot.refresh_from_db()
    assert (lot.status, lot.final_price, lot.sold_via) == (Lot.Status.SOLD, 20_000, "buy_now")
    assert lot.ends_at <= timezone.now()
    order = win.order
    assert (order.user, order.kind, order.total, order.status) == (buyer, "auction", 20_000, "pending_payment")
    line = order.lines.get()
    assert (line.product_name, line.unit_price, line.sku, line.seller_id) == (
        "Film camera",
        20_000,
        f"LOT-{lot.pk}",
        lot.seller_id,
    )
    assert not order.has_address  # the winner gives it at checkout
    assert abs(order.payment_due_at - timezone.now() - timedelta(hours=48)) < timedelta(minutes=1)
    assert any("Film camera" in m.subject for m in mailoutbox)
    assert refused(services.place_bid, bidder(), lot.pk, 50_000).code == "lot_ended"


def test_buy_now_goes_with_the_first_bid_unless_a_reserve_is_unmet():
    plain = make_lot(start=10_000, buy_now=20_000)
    services.place_bid(bidder(), plain.pk, 11_000)
    assert refused(services.buy_now, bidder(), plain.pk).code == "buy_now_unavailable"

    reserved = make_lot(start=10_000, reserve=30_000, buy_now=40_000)
    services.place_bid(bidder(), reserved.pk, 20_000)
    buyer = bidder()
    assert services.buy_now(buyer, reserved.pk).user == buyer  # reserve unmet: still offered
    other = make_lot(start=10_000, reserve=30_000, buy_now=40_000)
    services.place_bid(bidder(), other.pk, 30_000)
    assert refused(services.buy_now, bidder(), other.pk).code == "buy_now_unavailable"


def test_buy_now_follows_the_bidding_rules():
    owner = seller()
    lot = make_lot(owner, buy_now=20_000)
    assert refused(services.buy_now, owner, lot.pk).code == "seller_cannot_bid"
    assert refused(services.buy_now, make_user(), lot.pk).code == "not_verified"
    no_bin = make_lot()
    assert refused(services.buy_now, bidder(), no_bin.pk).code == "buy_now_unavailable"


# --- closing -------------------------------------------------------------------------------------------


def test_closing_sells_to_the_leader_at_the_current_price(django_capture_on_commit_callbacks, mailoutbox):
    lot = make_lot(start=10_000, reserve=12_000, title="Leica M3")
    a, b = bidder(language="en"), bidder()
    services.place_bid(a, lot.pk, 20_000)
    services.place_bid(b, lot.pk, 15_000)
    end_now(lot)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.close_ended_lots() == 1
    lot.refresh_from_db()
    assert (lot.status, lot.final_price, lot.sold_via) == (Lot.Status.SOLD, 15_500, "auction")
    win = Win.objects.get(lot=lot)
    assert (win.user, win.price, win.kind, win.order.total, win.order.user) == (a, 15_500, "auction", 15_500, a)
    won = [m for m in mailoutbox if m.to == [a.email] and "Leica M3" in m.subject]
    assert won and "You won" in won[0].subject  # in the winner's language (English here)
    assert f"/orders/{win.order.number}/" in won[0].body
    assert a.auction_notices.filter(kind="won").exists()
    assert lot.seller.auction_notices.filter(kind="sold").exists()
    assert services.close_ended_lots() == 0  # idempotent: nothing left to close
    assert Order.objects.filter(kind="auction").count() == 1


def test_closing_without_bids_or_below_the_reserve_is_unsold():
    empty = end_now(make_lot())
    low = make_lot(start=10_000, reserve=50_000)
    services.place_bid(bidder(), low.pk, 40_000)
    end_now(low)
    assert services.close_ended_lots() == 2
    assert set(Lot.objects.filter(pk__in=[empty.pk, low.pk]).values_list("status", flat=True)) == {"unsold"}
    assert not Win.objects.exists() and not Order.objects.exists()


def test_a_lot_extended_by_soft_close_is_not_closed():
    lot = make_lot(runs=timedelta(seconds=60), soft_close=120)
    services.place_bid(bidder(), lot.pk, 50_000)
    assert services.close_lot(lot.pk) is None
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.LIVE


def test_scheduled_lots_start_by_sweep():
    lot = make_lot(starts_in=timedelta(minutes=5))
    Lot.objects.filter(pk=lot.pk).update(starts_at=timezone.now() - timedelta(seconds=1))
    assert services.start_scheduled_lots() == 1
    lot.refresh_from_db()
    assert (lot.status, lot.seq) == (Lot.Status.LIVE, 1)


def test_cancelling():
    owner = seller()
    lot = make_lot(owner)
    staff = make_user(staff=True)
    assert refused(services.cancel_lot, staff, lot.pk, "").code == "reason_required"
    services.place_bid(bidder(), lot.pk, 50_000)
    assert refused(services.cancel_lot, owner, lot.pk, "changed my mind").code == "lot_has_bids"
    assert refused(services.cancel_lot, bidder(), lot.pk, "x").code == "not_found"
    services.cancel_lot(staff, lot.pk, "Counterfeit item")
    lot.refresh_from_db()
    assert (lot.status, lot.cancel_reason, lot.cancelled_by) == ("cancelled", "Counterfeit item", staff)
    fresh = make_lot(owner)
    services.cancel_lot(owner, fresh.pk, "")  # a seller may withdraw a lot nobody bid on
    assert Lot.objects.get(pk=fresh.pk).status == "cancelled"
    assert refused(services.cancel_lot, staff, fresh.pk, "again").code == "lot_ended"
