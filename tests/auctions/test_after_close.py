"""After the close: paid wins, unpaid wins (strike, second-chance offer to the runner-up, relist), offer
expiry, the ending-soon notice for watchers, and the sweeps being registered."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bidcart.auctions import services, tasks  # noqa: F401  (registers the sweeps)
from bidcart.auctions.models import Lot, Notice, SecondChanceOffer, Strike, Watch, Win
from bidcart.core import jobs
from bidcart.core.errors import DomainError
from bidcart.orders import services as order_services
from bidcart.orders.models import Order
from tests.auctions.factories import api_for, bidder, end_now, make_lot, make_user

pytestmark = pytest.mark.django_db


def won_lot(*bids, reserve=None):
    """A closed lot: `bids` are (user, max) in order; answers (lot, win)."""
    lot = make_lot(start=10_000, reserve=reserve)
    for user, amount in bids:
        services.place_bid(user, lot.pk, amount)
    end_now(lot)
    services.close_ended_lots()
    lot.refresh_from_db()
    return lot, lot.wins.first()


def expire(order):
    order_services.expire_unpaid(now=order.payment_due_at + timedelta(seconds=1))


def test_a_paid_win_is_settled_as_paid():
    winner = bidder()
    lot, win = won_lot((winner, 20_000))
    order_services.mark_paid(win.order)
    assert services.settle_wins() == 1
    win.refresh_from_db()
    assert win.status == Win.Status.PAID and win.settled_at
    assert not Strike.objects.exists() and not SecondChanceOffer.objects.exists()
    assert not services.can_relist(lot)


def test_an_unpaid_win_strikes_the_buyer_and_offers_the_runner_up_their_own_maximum(django_capture_on_commit_callbacks):
    winner, runner, third = bidder(), bidder(language="en"), bidder()
    lot, win = won_lot((third, 11_000), (runner, 18_000), (winner, 25_000))
    assert win.user == winner and win.price == 18_500
    expire(win.order)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.settle_wins() == 1
    win.refresh_from_db()
    assert win.status == Win.Status.UNPAID
    assert Strike.objects.get().user == winner
    offer = SecondChanceOffer.objects.get()
    assert (offer.user, offer.price, offer.status) == (runner, 18_000, "open")
    assert timedelta(hours=47) < offer.expires_at - timezone.now() <= timedelta(hours=48)
    assert [m.to for m in mail.outbox if "Second chance" in m.subject] == [[runner.email]]
    assert runner.auction_notices.filter(kind="second_chance").exists()
    assert winner.auction_notices.filter(kind="strike").exists()
    assert not services.can_relist(lot)  # an offer is pending
    assert services.settle_wins() == 0  # settled once

    # the runner-up accepts: a new auction order at their own maximum, with its own deadline
    response = api_for(runner).post(f"/api/v1/second-chance-offers/{offer.pk}/accept/")
    assert response.status_code == 201, response.content
    order = Order.objects.get(number=response.json()["order"])
    assert (order.user, order.kind, order.total, order.status) == (runner, "auction", 18_000, "pending_payment")
    assert Win.objects.get(order=order).kind == Win.Kind.SECOND_CHANCE
    again = api_for(runner).post(f"/api/v1/second-chance-offers/{offer.pk}/accept/")
    assert (again.status_code, again.json()["code"]) == (409, "offer_closed")
    assert api_for(third).post(f"/api/v1/second-chance-offers/{offer.pk}/accept/").status_code == 404


def test_a_declined_offer_lets_the_seller_relist_with_one_click():
    winner, runner = bidder(), bidder()
    lot, win = won_lot((runner, 15_000), (winner, 20_000))
    expire(win.order)
    services.settle_wins()
    offer = SecondChanceOffer.objects.get()
    services.decline_offer(runner, offer.pk)
    assert lot.seller.auction_notices.filter(kind="relist").exists()
    assert services.can_relist(lot)
    copy = services.relist(lot.seller, lot.pk)
    assert (copy.status, copy.title, copy.start_price, copy.relisted_from, copy.bid_count) == (
        "live",
        lot.title,
        10_000,
        lot,
        0,
    )
    assert copy.ends_at - copy.starts_at == lot.scheduled_end - lot.starts_at
    with pytest.raises(DomainError) as error:
        services.relist(lot.seller, lot.pk)  # once
    assert error.value.code == "relist_unavailable"
    with pytest.raises(DomainError):
        services.relist(bidder(), copy.pk)


def test_an_expired_offer_also_allows_relisting():
    winner, runner = bidder(), bidder()
    lot, win = won_lot((runner, 15_000), (winner, 20_000))
    expire(win.order)
    services.settle_wins()
    SecondChanceOffer.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(DomainError) as error:
        services.accept_offer(runner, SecondChanceOffer.objects.get().pk)
    assert error.value.code == "offer_expired"
    assert services.expire_offers() == 1
    assert SecondChanceOffer.objects.get().status == "expired"
    assert services.can_relist(lot)


def test_no_offer_when_the_runner_up_is_below_the_reserve_or_there_is_none():
    winner, runner = bidder(), bidder()
    lot, win = won_lot((runner, 30_000), (winner, 60_000), reserve=50_000)
    expire(win.order)
    services.settle_wins()
    assert not SecondChanceOffer.objects.exists()
    assert services.can_relist(lot)

    solo, solo_win = won_lot((bidder(), 20_000))
    expire(solo_win.order)
    services.settle_wins()
    assert not SecondChanceOffer.objects.filter(lot=solo).exists() and services.can_relist(solo)


def test_an_unpaid_second_chance_is_a_strike_too_and_then_the_seller_relists():
    winner, runner = bidder(), bidder()
    lot, win = won_lot((runner, 15_000), (winner, 20_000))
    expire(win.order)
    services.settle_wins()
    second = services.accept_offer(runner, SecondChanceOffer.objects.get().pk)
    expire(second.order)
    services.settle_wins()
    assert set(Strike.objects.values_list("user_id", flat=True)) == {winner.pk, runner.pk}
    assert SecondChanceOffer.objects.count() == 1  # no third round
    assert services.can_relist(lot)


def test_a_buyer_cancelling_their_win_is_a_strike_but_a_staff_cancel_is_not():
    lot, win = won_lot((bidder(), 20_000))
    order_services.cancel_by_buyer(win.user, win.order)
    services.settle_wins()
    assert Strike.objects.filter(user=win.user).exists()

    lot2, win2 = won_lot((bidder(), 20_000))
    order_services.transition(win2.order, "cancelled", actor=make_user(staff=True), note="seller could not ship")
    services.settle_wins()
    assert not Strike.objects.filter(user=win2.user).exists()


def test_three_unpaid_wins_block_bidding():
    deadbeat = bidder()
    for _ in range(3):
        lot, win = won_lot((deadbeat, 20_000))
        expire(win.order)
        services.settle_wins()
    assert Strike.objects.filter(user=deadbeat).count() == 3
    with pytest.raises(DomainError) as error:
        services.place_bid(deadbeat, make_lot().pk, 50_000)
    assert error.value.code == "bidding_blocked"


def test_watchers_hear_ten_minutes_before_the_end_once():
    soon = make_lot(runs=timedelta(minutes=9))
    later = make_lot(runs=timedelta(hours=2))
    watcher = bidder()
    Watch.objects.create(user=watcher, lot=soon)
    Watch.objects.create(user=watcher, lot=later)
    assert services.send_ending_soon() == 1
    assert services.send_ending_soon() == 0
    assert list(Notice.objects.filter(user=watcher).values_list("lot_id", "kind")) == [(soon.pk, "ending_soon")]


def test_outbid_notices_are_kept_to_one_unread_per_lot(django_capture_on_commit_callbacks):
    lot = make_lot(start=10_000)
    a, b = bidder(), bidder()
    with django_capture_on_commit_callbacks(execute=True):
        services.place_bid(a, lot.pk, 11_000)
        services.place_bid(b, lot.pk, 12_000)
        services.place_bid(a, lot.pk, 13_000)
        services.place_bid(b, lot.pk, 15_000)
    assert a.auction_notices.filter(kind="outbid").count() == 1
    assert a.auction_notices.get(kind="outbid").data["price"] == 13_500
    assert b.auction_notices.filter(kind="outbid").count() == 1


def test_an_outbid_bidder_gets_one_email_once_the_delay_passed_unless_leading_again(
    django_capture_on_commit_callbacks, mailoutbox, settings
):
    lot = make_lot(start=10_000, title="Rolleiflex 2.8F")
    a, b, c = bidder(language="ko"), bidder(), bidder()
    with django_capture_on_commit_callbacks(execute=True):
        services.place_bid(a, lot.pk, 11_000)
        services.place_bid(b, lot.pk, 12_000)  # a is outbid
        services.place_bid(c, lot.pk, 14_000)  # b is outbid…
        services.place_bid(b, lot.pk, 20_000)  # …and leads again before any email went out; c is outbid
    assert services.email_notices() == 0  # within the delay: a bidder in the room may still answer
    Notice.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert services.email_notices() == 2
    assert services.email_notices() == 0  # once per notice
    assert sorted(m.to[0] for m in mailoutbox) == sorted([a.email, c.email])  # b leads: no email
    [mail] = [m for m in mailoutbox if m.to == [a.email]]
    assert "Rolleiflex 2.8F" in mail.subject and "상위 입찰" in mail.subject  # in a's own language
    now_price = Lot.objects.get(pk=lot.pk).current_price
    assert now_price > 11_500 and f"{now_price:,}원" in mail.body  # the price as it stands, not when a was outbid
    assert f"/auctions/{lot.pk}/" in mail.body  # and the way back to the room
    assert Notice.objects.filter(emailed_at__isnull=True).count() == 0  # b's was taken too, and skipped


def test_a_watcher_is_emailed_once_when_the_lot_ends_soon(mailoutbox):
    lot = make_lot(runs=timedelta(minutes=9), title="Hasselblad 500C")
    watcher = bidder()
    Watch.objects.create(user=watcher, lot=lot)
    services.send_ending_soon()
    assert services.email_notices() == 1
    assert services.email_notices() == 0
    assert [m.to for m in mailoutbox] == [[watcher.email]]
    assert "Hasselblad 500C" in mailoutbox[0].subject


def test_no_email_for_a_notice_already_read_or_a_lot_already_over(mailoutbox):
    read, over = make_lot(runs=timedelta(minutes=9)), make_lot(runs=timedelta(minutes=9))
    watcher = bidder()
    Notice.objects.create(user=watcher, lot=read, kind="ending_soon", read_at=timezone.now())
    Notice.objects.create(user=watcher, lot=over, kind="ending_soon")
    end_now(over)
    assert services.email_notices() == 0
    assert mailoutbox == []


def test_the_auction_sweeps_are_registered_with_short_intervals():
    names = {s.name: s.every.total_seconds() for s in jobs.registered()}
    assert names["bidcart.auctions.tasks.close_ended_lots"] <= 2
    assert names["bidcart.auctions.tasks.start_scheduled_lots"] <= 2
    assert "bidcart.auctions.tasks.settle_wins" in names


def test_the_job_loop_closes_a_lot():
    lot = make_lot()
    services.place_bid(bidder(), lot.pk, 20_000)
    end_now(lot)
    jobs.tick()
    assert Lot.objects.get(pk=lot.pk).status == "sold"


def test_auction_emails_link_back_under_site_url_written_with_or_without_a_trailing_slash(
    django_capture_on_commit_callbacks, mailoutbox, settings
):
    for site in ("https://shop.example", "https://shop.example/"):
        settings.SITE_URL = site
        mailoutbox.clear()
        winner = bidder()
        with django_capture_on_commit_callbacks(execute=True):
            lot, win = won_lot((winner, 20_000))
        [won] = [m for m in mailoutbox if m.to == [winner.email]]
        assert f"https://shop.example/orders/{win.order.number}/" in won.body
        assert "example//" not in won.body
