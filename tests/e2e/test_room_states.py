"""The live room never contradicts itself: the history and the panel tell the same story, the price label
follows the bids, "나" marks you, and the end reads right for everyone, the winner and the losers, also when
the lot went by Buy It Now. A bid far above the price asks first; Buy It Now shows a review step."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from bidcart.auctions import services
from bidcart.auctions.models import Lot, Win
from tests.auctions.factories import bidder, make_category, make_lot
from tests.e2e.test_auctions import bid, login


def end_and_close(lot):
    Lot.objects.filter(pk=lot.pk).update(ends_at=Lot.objects.get(pk=lot.pk).starts_at + timedelta(microseconds=1))
    assert services.close_ended_lots() == 1


def test_you_lead_then_a_lower_bid_is_answered_by_your_maximum_and_the_end_names_winner_and_loser(browser, shop):
    lot = make_lot(
        title="라이카 M3", start=120_000, runs=timedelta(hours=1), category=make_category("카메라", "cameras")
    )
    alice, bob = bidder("alice@example.com", display_name="앨리스"), bidder("bob@example.com", display_name="밥")
    ctx_a, page_a = login(browser, shop, alice)
    ctx_b, page_b = login(browser, shop, bob)
    try:
        for page in (page_a, page_b):
            page.goto(f"{shop}/auctions/{lot.pk}/")
            expect(page.get_by_test_id("connection")).to_have_class(re.compile("online"))
            expect(page.get_by_test_id("price-label")).to_have_text("시작가")

        bid(page_a, 130_000)
        expect(page_a.get_by_test_id("my-status")).to_contain_text("최고 입찰자입니다")
        expect(page_a.get_by_test_id("leader-me")).to_have_text("(나)")
        expect(page_a.get_by_test_id("history-leader").first).to_contain_text("#1 (나)")
        # Bob never reloaded: the label follows the live bid
        expect(page_b.get_by_test_id("price-label")).to_have_text("현재가")
        expect(page_b.get_by_test_id("leader-me")).to_have_count(0)

        # Bob bids below Alice's hidden maximum: the newest history row says Alice's maximum answered him,
        # as the panel does (not "#2" on top of a panel saying #1 leads)
        bid(page_b, 125_000)
        expect(page_b.get_by_test_id("my-status")).to_contain_text("상회 입찰되었습니다")
        for page in (page_a, page_b):
            expect(page.get_by_test_id("leader")).to_have_text("#1")
            newest = page.get_by_test_id("history-row").first
            expect(newest.get_by_test_id("history-leader")).to_contain_text("#1")
            expect(newest.get_by_test_id("history-auto")).to_contain_text("#2")
        expect(page_b.get_by_test_id("history-row").first.get_by_test_id("history-auto")).to_contain_text("#2 (나)")
        # the same on a fresh page (the server's rendering of the same rows)
        page_b.reload()
        newest = page_b.get_by_test_id("history-row").first
        expect(newest.get_by_test_id("history-leader")).to_have_text("#1")
        expect(newest.get_by_test_id("history-auto")).to_contain_text("#2 (나)")

        # the end: "ended" for both, the next step for the winner, a loss notice for the loser
        expect(page_b.get_by_test_id("connection")).to_have_class(re.compile("online"))
        end_and_close(lot)
        for page in (page_a, page_b):
            expect(page.get_by_test_id("ended-notice")).to_have_text("경매가 끝났습니다.")
            expect(page.get_by_test_id("price-label")).to_have_text("낙찰가")
        expect(page_a.get_by_test_id("won")).to_be_visible()
        expect(page_a.get_by_test_id("lost-notice")).to_be_hidden()
        expect(page_b.get_by_test_id("lost-notice")).to_have_text("아쉽게도 낙찰받지 못했습니다.")
        expect(page_b.get_by_test_id("won")).to_have_count(0)
        # the panel no longer says "you lead" / "outbid" once it's over: the end notices say how it went
        expect(page_a.get_by_test_id("my-status")).not_to_contain_text("최고 입찰자입니다")
        expect(page_b.get_by_test_id("my-status")).not_to_contain_text("상회 입찰되었습니다")
        page_b.reload()
        expect(page_b.get_by_test_id("lost-notice")).to_be_visible()
        expect(page_b.get_by_test_id("my-status")).not_to_contain_text("상회 입찰되었습니다")

        # 내 입찰: 낙찰 for Alice, 패찰 for Bob
        page_a.goto(f"{shop}/auctions/mine/")
        expect(page_a.get_by_test_id("my-bid-standing")).to_have_text("낙찰")
        page_b.goto(f"{shop}/auctions/mine/")
        expect(page_b.get_by_test_id("my-bid-standing")).to_have_text("패찰")
    finally:
        ctx_a.close()
        ctx_b.close()


def test_an_unsold_lot_reads_unsold_in_my_bids_not_leading(browser, shop):
    lot = make_lot(title="예비가 있는 시계", start=50_000, reserve=500_000, runs=timedelta(hours=1))
    carol = bidder("carol@example.com")
    services.place_bid(carol, lot.pk, 60_000)
    end_and_close(lot)
    ctx, page = login(browser, shop, carol)
    try:
        page.goto(f"{shop}/auctions/mine/")
        expect(page.get_by_test_id("my-bid-standing")).to_have_text("유찰")
    finally:
        ctx.close()


def test_buy_it_now_shows_a_review_step_and_the_room_then_reads_sold_by_buy_it_now(browser, shop, page):
    lot = make_lot(title="즉시 구매 렌즈", start=100_000, buy_now=300_000, runs=timedelta(hours=1))
    dave, erin = bidder("dave@example.com"), bidder("erin@example.com")
    ctx_d, page_d = login(browser, shop, dave)
    ctx_e, page_e = login(browser, shop, erin)
    try:
        page_e.goto(f"{shop}/auctions/{lot.pk}/")
        expect(page_e.get_by_test_id("connection")).to_have_class(re.compile("online"))
        page_d.goto(f"{shop}/auctions/{lot.pk}/")
        page_d.get_by_test_id("buy-now").click()
        # one click only opens the review: nothing is bought yet
        review = page_d.get_by_test_id("buy-now-review")
        expect(review).to_be_visible()
        expect(review).to_contain_text("300,000원")
        expect(review).to_contain_text("48시간")
        assert not Win.objects.filter(lot=lot).exists()
        page_d.get_by_test_id("buy-now-confirm").click()
        page_d.wait_for_url(re.compile(r"/orders/\w+/$"))
        assert Win.objects.get(lot=lot).user == dave

        # Erin, watching live, and a visitor, arriving later: the sale price, never the start price or 0 bids
        for room in (page_e, page):
            if room is page:
                room.goto(f"{shop}/auctions/{lot.pk}/")
            expect(room.get_by_test_id("price")).to_have_text("300,000원")
            expect(room.get_by_test_id("price-label")).to_have_text("즉시 구매가")
            expect(room.get_by_test_id("sold-by-bin")).to_have_text("즉시 구매로 판매됨")
            expect(room.get_by_test_id("bids-line")).to_be_hidden()
            expect(room.get_by_test_id("ended-notice")).to_be_visible()
        expect(page.get_by_test_id("login-to-bid")).to_have_count(0)
    finally:
        ctx_d.close()
        ctx_e.close()


def test_a_bid_over_three_times_the_price_asks_first(browser, shop):
    lot = make_lot(title="필름 카메라", start=10_000, runs=timedelta(hours=1))
    frank = bidder("frank@example.com")
    ctx, page = login(browser, shop, frank)
    try:
        page.goto(f"{shop}/auctions/{lot.pk}/")
        expect(page.get_by_test_id("connection")).to_have_class(re.compile("online"))
        bid(page, 100_000)  # an extra zero
        expect(page.get_by_test_id("bid-confirm")).to_be_visible()
        expect(page.get_by_test_id("bid-confirm-text")).to_contain_text("100,000원")
        expect(page.get_by_test_id("bid-confirm-text")).to_contain_text("10,000원")
        page.get_by_test_id("bid-confirm-no").click()
        expect(page.get_by_test_id("bid-confirm")).to_be_hidden()
        assert Lot.objects.get(pk=lot.pk).bid_count == 0

        bid(page, 25_000)  # under three times: no question
        expect(page.get_by_test_id("bid-result")).to_have_class(re.compile(r"\bok\b"))
        expect(page.get_by_test_id("bid-confirm")).to_be_hidden()

        page.get_by_test_id("bid-amount").fill("90000")
        page.get_by_test_id("bid-submit").click()
        page.get_by_test_id("bid-confirm-yes").click()
        expect(page.get_by_test_id("my-max")).to_have_text("90,000원")
    finally:
        ctx.close()


def test_chat_offers_no_report_on_your_own_message_and_remembers_a_report_after_reload(browser, shop):
    lot = make_lot(title="채팅 경매", start=10_000, runs=timedelta(hours=1))
    gina, hank = bidder("gina@example.com"), bidder("hank@example.com")
    services.place_bid(gina, lot.pk, 12_000)
    services.post_message(gina, lot.pk, "제 메시지예요")
    services.post_message(hank, lot.pk, "싸게 팝니다 www.cheap.example")
    ctx, page = login(browser, shop, gina)
    try:
        page.goto(f"{shop}/auctions/{lot.pk}/")
        expect(page.get_by_test_id("connection")).to_have_class(re.compile("online"))
        own = page.get_by_test_id("chat-message").filter(has_text="제 메시지예요")
        other = page.get_by_test_id("chat-message").filter(has_text="www.cheap.example")
        expect(other.get_by_test_id("report")).to_be_visible()
        expect(own.get_by_test_id("report")).to_have_count(0)

        other.get_by_test_id("report").click()
        other.get_by_test_id("report-spam").click()
        expect(other.get_by_test_id("reported")).to_be_visible()
        page.reload()
        expect(page.get_by_test_id("connection")).to_have_class(re.compile("online"))
        other = page.get_by_test_id("chat-message").filter(has_text="www.cheap.example")
        expect(other.get_by_test_id("reported")).to_be_visible()
        expect(other.get_by_test_id("report")).to_have_count(0)
    finally:
        ctx.close()


def test_a_first_time_chatters_own_message_has_no_report_button(browser, shop):
    lot = make_lot(title="처음 채팅", start=10_000, runs=timedelta(hours=1))
    ivy = bidder("ivy@example.com")  # never bid or chatted here: no alias yet
    ctx, page = login(browser, shop, ivy)
    try:
        page.goto(f"{shop}/auctions/{lot.pk}/")
        expect(page.get_by_test_id("connection")).to_have_class(re.compile("online"))
        page.get_by_test_id("chat-input").fill("안녕하세요, 처음 왔어요")
        page.get_by_test_id("chat-send").click()
        own = page.get_by_test_id("chat-message").filter(has_text="처음 왔어요")
        expect(own).to_be_visible()
        expect(own.get_by_test_id("report")).to_have_count(0)
    finally:
        ctx.close()
