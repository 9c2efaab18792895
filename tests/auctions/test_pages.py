"""Auction pages without JavaScript (plain forms), the moderation admin, and the demo seed."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from bidcart.auctions import services
from bidcart.auctions.models import (
    ChatMessage,
    ChatMute,
    ChatReport,
    Lot,
    Notice,
    SecondChanceOffer,
    Strike,
    Watch,
    Win,
)
from bidcart.core.domain import Forbidden
from bidcart.orders import services as order_services
from tests.auctions.factories import bidder, end_now, make_category, make_lot, make_user, seller

pytestmark = pytest.mark.django_db

ADMIN = "/staff-admin/auctions"


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_list_page_tabs_search_and_the_nav_link():
    live = make_lot(title="Leica M3")
    later = make_lot(title="Hasselblad", starts_in=timedelta(hours=1))
    home = browser().get("/").content.decode()
    assert 'data-testid="nav-auctions"' in home
    page = browser().get("/auctions/").content.decode()
    assert "Leica M3" in page and "Hasselblad" not in page
    assert "Hasselblad" in browser().get("/auctions/?show=scheduled").content.decode()
    assert "Leica M3" not in browser().get("/auctions/?search=hassel&show=scheduled").content.decode()
    assert browser().get(f"/auctions/{live.pk}/").status_code == 200
    assert browser().get(f"/auctions/{later.pk}/").status_code == 200
    assert browser().get("/auctions/999999/").status_code == 404


def test_the_room_page_renders_the_state_and_only_my_maximum():
    lot = make_lot(start=10_000)
    a, b = bidder(), bidder()
    services.place_bid(a, lot.pk, 90_000)
    services.place_bid(b, lot.pk, 20_000)
    page = browser(b).get(f"/auctions/{lot.pk}/").content.decode()
    assert 'data-testid="price" data-amount="20500"' in page
    assert "20,000" in page and "90,000" not in page
    assert 'src="/static/auctions/js/room.js"' in page and 'type="module"' in page
    anonymous = browser().get(f"/auctions/{lot.pk}/").content.decode()
    assert 'data-testid="login-to-bid"' in anonymous and "90,000" not in anonymous and "20,000" not in anonymous


def test_bidding_with_the_plain_form():
    lot = make_lot(start=10_000)
    user = bidder()
    response = browser(user).post(f"/auctions/{lot.pk}/bid/", {"max_amount": "15000"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/auctions/{lot.pk}/"
    assert Lot.objects.get(pk=lot.pk).leader_id == user.pk
    response = browser(bidder()).post(f"/auctions/{lot.pk}/bid/", {"max_amount": "5"}, follow=True)
    assert "10,500" in response.content.decode()  # the refusal, with the minimum bid
    assert browser().post(f"/auctions/{lot.pk}/bid/", {"max_amount": "20000"}).status_code == 302  # to the login page


def test_buy_now_page_sends_the_buyer_to_the_order():
    lot = make_lot(start=10_000, buy_now=15_000)
    response = browser(bidder()).post(f"/auctions/{lot.pk}/buy-now/")
    win = Win.objects.get(lot=lot)
    assert response["Location"] == f"/orders/{win.order.number}/"


def test_watch_toggle_and_my_auctions_page():
    lot = make_lot(title="Rolleiflex")
    user = bidder()
    browser(user).post(f"/auctions/{lot.pk}/watch/", {"watch": "1"})
    assert Watch.objects.filter(user=user, lot=lot).exists()
    services.place_bid(user, lot.pk, 20_000)
    Notice.objects.create(user=user, lot=lot, kind="ending_soon")
    page = browser(user).get("/auctions/mine/").content.decode()
    assert 'data-testid="my-bid-row"' in page and "Rolleiflex" in page and "20,000" in page
    assert 'data-testid="notice"' in page and 'data-testid="notices-read"' in page
    browser(user).post(f"/auctions/{lot.pk}/watch/", {"watch": "0"})
    assert not Watch.objects.filter(user=user, lot=lot).exists()


def test_my_auctions_page_only_reads_and_its_post_marks_the_shown_notices_read():
    user = bidder()
    lot = make_lot()
    shown = Notice.objects.create(user=user, lot=lot, kind="ending_soon")
    client = browser(user)
    page = client.get("/auctions/mine/").content.decode()
    assert 'class="unread"' in page
    assert Notice.objects.get(pk=shown.pk).read_at is None  # a GET writes nothing
    later = Notice.objects.create(user=user, lot=lot, kind="outbid")  # came in after the page was drawn
    response = client.post("/auctions/mine/notices/read/", {"up_to": str(shown.pk)})  # the page's form
    assert response["Location"] == "/auctions/mine/"
    assert Notice.objects.get(pk=shown.pk).read_at is not None
    assert Notice.objects.get(pk=later.pk).read_at is None
    assert client.post("/auctions/mine/notices/read/", HTTP_X_REQUESTED_WITH="fetch").status_code == 204  # its script
    assert not Notice.objects.filter(user=user, read_at__isnull=True).exists()
    assert 'data-testid="notices-read"' not in client.get("/auctions/mine/").content.decode()
    assert browser().post("/auctions/mine/notices/read/")["Location"].startswith("/accounts/login/")


def test_an_outbid_notice_updated_after_the_page_was_drawn_stays_unread(django_capture_on_commit_callbacks):
    """The page showed "outbid at 12,000"; before its "Mark as read" came, the same unread notice was updated to
    a new price (one unread outbid notice per lot). What the page did not show is not marked read."""
    user, rival = bidder(), bidder()
    lot = make_lot(start=10_000)
    with django_capture_on_commit_callbacks(execute=True):
        services.place_bid(user, lot.pk, 11_000)
        services.place_bid(rival, lot.pk, 12_000)
    client = browser(user)
    page = client.get("/auctions/mine/")
    form = {"up_to": str(page.context["notices_up_to"]), "seen_at": page.context["notices_seen_at"]}
    with django_capture_on_commit_callbacks(execute=True):
        services.place_bid(user, lot.pk, 13_000)
        services.place_bid(rival, lot.pk, 20_000)  # outbid again: the same notice, a new price
    [outbid] = Notice.objects.filter(user=user, kind="outbid")
    assert outbid.pk <= int(form["up_to"])
    client.post("/auctions/mine/notices/read/", form)
    assert Notice.objects.get(pk=outbid.pk).read_at is None
    page = client.get("/auctions/mine/")
    client.post(
        "/auctions/mine/notices/read/",
        {"up_to": str(page.context["notices_up_to"]), "seen_at": page.context["notices_seen_at"]},
    )
    assert Notice.objects.get(pk=outbid.pk).read_at is not None


def _my_auctions_with(user, lots: int) -> None:
    """`lots` of each kind on "My auctions": sold lots the user sells (unpaid wins), lots they bid on and
    watch, lots they won by Buy It Now; each leaves notices."""
    for _n in range(lots):
        sold = make_lot(user)
        services.place_bid(bidder(), sold.pk, 12_000)
        services.close_lot(end_now(sold).pk)
        unsold = make_lot(user)
        services.close_lot(end_now(unsold).pk)
        bid_on = make_lot()
        services.place_bid(user, bid_on.pk, 15_000)
        services.watch(user, bid_on.pk)
        services.buy_now(user, make_lot(buy_now=20_000).pk)


def test_my_auctions_page_asks_the_database_the_same_number_of_times_for_one_lot_or_many(django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one, many = seller(), seller()
    _my_auctions_with(one, 1)
    _my_auctions_with(many, 4)
    client = browser(one)
    client.get("/")  # the first request of a run warms caches (menus, settings): not the page's to pay
    with CaptureQueriesContext(connection) as first:
        page = client.get("/auctions/mine/")
    assert page.content.decode().count('data-testid="my-bid-row"') == 1
    assert page.content.decode().count('data-testid="relist"') == 1  # the unsold lot (the sold one awaits payment)
    client = browser(many)
    with django_assert_num_queries(len(first)):
        page = client.get("/auctions/mine/")
    assert page.content.decode().count('data-testid="my-bid-row"') == 4
    assert page.content.decode().count('data-testid="relist"') == 4


def test_sellers_list_a_lot_with_the_form():
    owner = seller()
    category = make_category("Cameras", "cameras")
    client = browser(owner)
    assert client.get("/auctions/new/").status_code == 200
    response = client.post(
        "/auctions/new/",
        {
            "title": "Nikon F",
            "description": "Works.",
            "category": category.pk,
            "start_price": "50000",
            "buy_now_price": "60000",
            "duration": "60",
            "soft_close_seconds": "120",
        },
    )
    assert response.status_code == 400 and "130" in response.content.decode()  # Buy It Now too low
    response = client.post(
        "/auctions/new/",
        {
            "title": "Nikon F",
            "description": "Works.",
            "category": category.pk,
            "start_price": "50000",
            "buy_now_price": "70000",
            "duration": "60",
            "soft_close_seconds": "120",
        },
    )
    lot = Lot.objects.get(title="Nikon F")
    assert response["Location"] == f"/auctions/{lot.pk}/"
    assert (lot.status, lot.seller, lot.start_price) == ("live", owner, 50_000)
    assert abs(lot.ends_at - timezone.now() - timedelta(minutes=60)) < timedelta(minutes=1)
    assert browser(bidder()).get("/auctions/new/").status_code == 404


def test_second_chance_from_my_auctions_and_relist_from_the_room():
    winner, runner = bidder(), bidder()
    lot = make_lot(start=10_000)
    services.place_bid(runner, lot.pk, 15_000)
    services.place_bid(winner, lot.pk, 20_000)
    end_now(lot)
    services.close_ended_lots()
    order = Win.objects.get(lot=lot).order
    order_services.expire_unpaid(now=order.payment_due_at + timedelta(seconds=1))
    services.settle_wins()
    offer = SecondChanceOffer.objects.get()
    assert 'data-testid="offer-accept"' in browser(runner).get("/auctions/mine/").content.decode()
    browser(runner).post(f"/auctions/offers/{offer.pk}/", {"action": "decline"})
    assert SecondChanceOffer.objects.get().status == "declined"
    owner = browser(lot.seller)
    assert 'data-testid="relist"' in owner.get(f"/auctions/{lot.pk}/").content.decode()
    response = owner.post(f"/auctions/{lot.pk}/relist/")
    copy = Lot.objects.get(relisted_from=lot)
    assert response["Location"] == f"/auctions/{copy.pk}/" and copy.status == "live"


def test_staff_moderate_the_chat_in_the_admin():
    staff = make_user(staff=True, is_superuser=True)
    lot = make_lot()
    spammer, reader = bidder(), bidder()
    message = services.post_message(spammer, lot.pk, "buy cheap at www.spam.example")
    services.report_message(reader, message.lot_id, message.pk, "spam")
    client = browser(staff)
    queue = client.get(f"{ADMIN}/chatreport/")
    assert queue.status_code == 200 and "www.spam.example" in queue.content.decode()
    report = ChatReport.objects.get()
    client.post(f"{ADMIN}/chatreport/", {"action": "hide", "_selected_action": [report.pk]})
    assert ChatMessage.objects.get(pk=message.pk).hidden_at is not None
    assert ChatReport.objects.get().handled_at is not None
    client.post(f"{ADMIN}/chatmessage/", {"action": "mute", "_selected_action": [message.pk]})
    assert ChatMute.objects.filter(lot=lot, user=spammer).exists()
    with pytest.raises(Forbidden) as error:
        services.post_message(spammer, lot.pk, "still here")
    assert error.value.code == "chat_muted"


def test_staff_lift_strikes_and_cancel_lots_with_a_reason_in_the_admin():
    staff = make_user(staff=True, is_superuser=True)
    client = browser(staff)
    lot = make_lot(start=10_000)
    user = bidder()
    services.place_bid(user, lot.pk, 20_000)
    end_now(lot)
    services.close_ended_lots()
    order = Win.objects.get(lot=lot).order
    order_services.expire_unpaid(now=order.payment_due_at + timedelta(seconds=1))
    services.settle_wins()
    strike = Strike.objects.get(user=user)
    client.post(f"{ADMIN}/strike/", {"action": "lift", "_selected_action": [strike.pk]})
    assert Strike.objects.get(pk=strike.pk).lifted_by == staff

    live = make_lot()
    page = client.post(f"{ADMIN}/lot/", {"action": "cancel_lots", "_selected_action": [live.pk]})
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()  # asks for the reason
    client.post(
        f"{ADMIN}/lot/",
        {"action": "cancel_lots", "_selected_action": [live.pk], "apply": "1", "reason": "Stolen goods"},
    )
    live.refresh_from_db()
    assert (live.status, live.cancel_reason) == ("cancelled", "Stolen goods")


def test_the_demo_seed_has_live_lots_with_bids_one_ending_soon_and_one_scheduled():
    call_command("seed_demo")
    now = timezone.now()
    lots = list(Lot.objects.all())
    live = [lot for lot in lots if lot.status == "live"]
    assert len(live) >= 3 and any(lot.status == "scheduled" for lot in lots)
    assert any(lot.ends_at - now <= timedelta(minutes=10) for lot in live)  # a soft close within reach
    with_bids = [lot for lot in live if lot.bid_count]
    assert with_bids
    for lot in with_bids:
        from bidcart.auctions import engine

        bids = list(lot.bids.order_by("id").values_list("bidder_id", "max_amount"))
        assert engine.replay(lot.rules(), bids) == lot.state()
    assert all(lot.seller.email == "seller@example.com" for lot in lots)
    call_command("seed_demo")  # once
    assert Lot.objects.count() == len(lots)


def test_the_demo_reads_like_a_shop_bids_after_opening_a_lot_always_ending_soon_reviews_nothing_sold_out_featured():
    from bidcart.auctions import demo
    from bidcart.catalog import selectors as catalog_selectors
    from bidcart.reviews.models import Review

    call_command("seed_demo")
    now = timezone.now()
    seller = Lot.objects.first().seller
    assert seller.display_name not in ("판매자", "seller")  # a shop's name
    for lot in Lot.objects.filter(bid_count__gt=0):
        assert all(lot.starts_at <= at <= now for at in lot.bids.values_list("created_at", flat=True))
    assert Review.objects.count() >= 3  # 평점순 has something to sort
    featured = catalog_selectors.featured_products(8)
    assert featured and all(p.in_stock for p in featured)  # 지금 인기 상품: nothing sold out

    # an hour later the seeded "ending soon" lot is long over: the sweep lists one again for a newcomer
    later = now + timedelta(hours=1)
    Lot.objects.filter(ends_at__lte=later).update(status="unsold")
    fresh = demo.keep_one_ending_soon(later)
    assert fresh is not None and fresh.starts_at < later < fresh.ends_at <= later + timedelta(minutes=10)
    assert demo.keep_one_ending_soon(later) is None  # one is enough


def test_without_javascript_a_bid_over_three_times_the_price_asks_first_then_goes_in_when_confirmed(client):
    lot = make_lot(start=10_000)
    buyer = bidder()
    client.force_login(buyer)
    asked = client.post(f"/auctions/{lot.pk}/bid/", {"max_amount": "100000"}, HTTP_ACCEPT_LANGUAGE="ko")
    assert asked.status_code == 200 and 'data-testid="bid-confirm"' in asked.content.decode()
    assert "100,000원" in asked.content.decode() and "10,000원" in asked.content.decode()
    lot.refresh_from_db()
    assert lot.bid_count == 0  # nothing placed yet
    client.post(f"/auctions/{lot.pk}/bid/", {"max_amount": "100000", "confirmed": "1"})
    lot.refresh_from_db()
    assert lot.bid_count == 1 and lot.leader_id == buyer.pk
    client.force_login(bidder())
    assert client.post(f"/auctions/{lot.pk}/bid/", {"max_amount": "20000"}).status_code == 302  # under 3x: straight in
    lot.refresh_from_db()
    assert lot.bid_count == 2


def test_every_lot_card_says_how_long_is_left():
    make_lot(title="곧 끝나는 경매", runs=timedelta(minutes=42, seconds=30))
    make_lot(title="내일 끝나는 경매", runs=timedelta(days=1, hours=3, minutes=5))
    page = Client(HTTP_ACCEPT_LANGUAGE="ko").get("/auctions/").content.decode()
    left = [chunk.split("<")[0] for chunk in page.split('data-testid="lot-time-left">')[1:]]
    assert sorted(left) == sorted(["42분 남음", "1일 3시간 남음"]), left
