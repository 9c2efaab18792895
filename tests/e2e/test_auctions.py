"""Two bidders in one live room, in two browser contexts: prices move live, the outbid bidder is told at
once, a bid near the end extends the countdown, chat goes both ways, and the winner pays through the
simulator."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from bidcart.auctions import services
from bidcart.auctions.models import ChatReport, Lot, Win
from tests.auctions.factories import PASSWORD, bidder, make_category, make_lot
from tests.e2e.steps import give_address, pay_on_providers_page


def login(browser, live_url, user):
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_url}/accounts/login/")
    page.locator("input[name=email]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-logout")).to_be_visible()
    return context, page


def seconds_left(page) -> int:
    text = page.get_by_test_id("countdown").inner_text()
    match = re.fullmatch(r"(?:(\d+):)?(\d+):(\d\d)", text.strip())
    assert match, text
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def bid(page, amount):
    page.get_by_test_id("bid-amount").fill(str(amount))
    page.get_by_test_id("bid-submit").click()


def test_two_bidders_in_the_live_room(browser, shop):
    live_url = shop
    lot = make_lot(
        title="빈티지 필름 카메라",
        start=10_000,
        runs=timedelta(seconds=100),
        soft_close=120,
        category=make_category("카메라", "cameras"),
    )
    alice, bob = bidder("alice@example.com", display_name="앨리스"), bidder("bob@example.com", display_name="밥")
    ctx_a, page_a = login(browser, live_url, alice)
    ctx_b, page_b = login(browser, live_url, bob)
    try:
        page_a.get_by_test_id("nav-auctions").click()
        page_a.get_by_test_id("lot-link").first.click()
        page_b.goto(f"{live_url}/auctions/{lot.pk}/")
        for page in (page_a, page_b):
            expect(page.get_by_test_id("lot-title")).to_have_text("빈티지 필름 카메라")
            expect(page.get_by_test_id("connection")).to_have_class(re.compile("online"))
            expect(page.get_by_test_id("price")).to_have_text("10,000원")
            expect(page.get_by_test_id("countdown")).to_have_text(
                re.compile(r"^\d+:\d\d$")
            )  # counting down, on the server's clock
            assert 0 < seconds_left(page) <= 100
            expect(page.get_by_test_id("extended")).to_be_hidden()

        # Alice bids with 100 s left and a 120 s window: the end moves to 120 s after her bid
        bid(page_a, 15_000)
        expect(page_a.get_by_test_id("bid-result")).to_have_class(re.compile(r"\bok\b"))  # you lead
        expect(page_a.get_by_test_id("my-status")).to_contain_text("15,000원")
        for page in (page_a, page_b):
            expect(page.get_by_test_id("bid-count")).to_have_text("1")
            expect(page.get_by_test_id("extended")).to_be_visible()
            expect(page.get_by_test_id("leader")).to_have_text("#1")
            expect(page.get_by_test_id("history-row")).to_have_count(1)
        assert seconds_left(page_b) > 100  # the countdown jumped up, live

        # Bob bids below Alice's hidden maximum: accepted, outbid at once, and the price moves for Alice too
        bid(page_b, 12_000)
        expect(page_b.get_by_test_id("bid-result")).to_have_class(
            re.compile(r"\berr\b")
        )  # in, but outbid by a proxy bid
        expect(page_a.get_by_test_id("price")).to_have_text("12,500원")
        expect(page_b.get_by_test_id("min-next-bid")).to_have_text("13,000원")

        # Bob goes over Alice's maximum: Alice sees the outbid notice without reloading
        expect(page_a.get_by_test_id("outbid-notice")).to_be_hidden()
        bid(page_b, 20_000)
        expect(page_a.get_by_test_id("outbid-notice")).to_be_visible()
        expect(page_a.get_by_test_id("bid-result")).to_have_text("")  # her "you lead" is gone with it
        expect(page_a.get_by_test_id("price")).to_have_text("15,500원")
        expect(page_a.get_by_test_id("leader")).to_have_text("#2")
        expect(page_a.get_by_test_id("my-status").locator("strong.err")).to_be_visible()  # outbid
        expect(page_b.get_by_test_id("my-status").locator("strong.ok")).to_be_visible()  # leading
        expect(page_b.get_by_test_id("outbid-notice")).to_be_hidden()
        expect(page_b.get_by_test_id("history-row")).to_have_count(3)

        # chat both ways; Bob reports nothing, Alice reports an advertisement she doesn't like
        page_a.get_by_test_id("chat-input").fill("좋은 물건이네요")
        page_a.get_by_test_id("chat-send").click()
        expect(page_b.get_by_test_id("chat-message")).to_contain_text(["좋은 물건이네요"])
        expect(page_a.get_by_test_id("chat-input")).to_have_value("")
        page_b.get_by_test_id("chat-input").fill("www.cheap.example 에서 더 싸게")
        page_b.get_by_test_id("chat-send").click()
        spam = page_a.get_by_test_id("chat-message").filter(has_text="www.cheap.example")
        spam.get_by_test_id("report").click()
        spam.get_by_test_id("report-advertisement").click()
        expect(spam.get_by_test_id("report-spam")).to_have_count(0)  # the choices gave way to a thank-you
        assert ChatReport.objects.get().reason == "advertisement"  # staff see it in the admin's queue

        # the end: Bob wins, the room says so, and Bob pays for the lot on the provider's page
        Lot.objects.filter(pk=lot.pk).update(ends_at=Lot.objects.get(pk=lot.pk).starts_at + timedelta(microseconds=1))
        assert services.close_ended_lots() == 1
        for page in (page_a, page_b):
            expect(page.get_by_test_id("lot-status")).to_have_class(re.compile("status-sold"))
            expect(page.get_by_test_id("bid-form")).to_be_hidden()
        page_b.reload()
        win = Win.objects.get(lot=lot)
        assert (win.user, win.price) == (bob, 15_500)
        page_b.get_by_test_id("pay-link").click()
        expect(page_b).to_have_url(re.compile(rf"/orders/{win.order.number}/$"))
        page_b.get_by_test_id("order-pay").click()
        give_address(page_b, recipient="밥")
        pay_on_providers_page(page_b, "card", total="15,500")
        expect(page_b.get_by_test_id("order-status")).to_have_text("결제 완료")
        win.order.refresh_from_db()
        assert win.order.status == "paid" and win.order.payments.get().amount == 15_500
    finally:
        ctx_a.close()
        ctx_b.close()


def test_a_bidder_past_the_bid_limit_is_told_in_the_room(browser, live_url, settings):
    settings.RATE_LIMIT_BID = "1/min"
    lot = make_lot(title="라이카 렌즈", start=10_000)
    context, page = login(browser, live_url, bidder())
    try:
        page.goto(f"{live_url}/auctions/{lot.pk}/")
        expect(page.get_by_test_id("connection")).to_have_class(re.compile("online"))
        bid(page, 15_000)
        expect(page.get_by_test_id("bid-result")).to_have_class(re.compile(r"\bok\b"))
        bid(page, 20_000)  # a second bid within the minute, over the socket
        expect(page.get_by_test_id("bid-result")).to_contain_text("요청이 너무 많습니다")
        expect(page.get_by_test_id("bid-result")).to_have_class(re.compile(r"\berr\b"))
        expect(page.get_by_test_id("bid-submit")).to_be_enabled()  # free to try again later
        expect(page.get_by_test_id("my-status")).to_contain_text("15,000원")
        assert Lot.objects.get(pk=lot.pk).bid_count == 1
    finally:
        context.close()
