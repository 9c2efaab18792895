"""No one-click mistakes: on a won lot's order, paying is the primary action and cancelling first says
what it costs (a strike)."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from bidcart.auctions import services
from bidcart.auctions.models import Win
from tests.auctions.factories import bidder, make_lot
from tests.e2e.test_auctions import login
from tests.e2e.test_room_states import end_and_close


def test_cancelling_a_won_lot_asks_first_and_names_the_strike_while_pay_comes_first(browser, shop):
    lot = make_lot(title="만년필", start=30_000, runs=timedelta(hours=1))
    winner = bidder("winner@example.com")
    services.place_bid(winner, lot.pk, 40_000)
    end_and_close(lot)
    order = Win.objects.get(lot=lot).order
    ctx, page = login(browser, shop, winner)
    try:
        page.goto(f"{shop}/orders/{order.number}/")
        pay, cancel = page.get_by_test_id("order-pay"), page.get_by_test_id("order-cancel-open")
        expect(pay).to_be_visible()
        assert pay.bounding_box()["y"] < cancel.bounding_box()["y"]  # pay first
        expect(pay).to_have_class(re.compile(r"\bprimary\b"))

        cancel.click()  # one click only asks
        expect(page.get_by_test_id("cancel-consequence")).to_contain_text("스트라이크")
        order.refresh_from_db()
        assert order.status == "pending_payment"

        page.get_by_test_id("order-cancel").click()
        expect(page.get_by_test_id("order-status")).to_have_text(re.compile("취소"))
        order.refresh_from_db()
        assert order.status == "cancelled"
    finally:
        ctx.close()
