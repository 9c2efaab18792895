"""재입고 알림 in Chromium: a sold-out option offers the alert, remembers it, and one email goes out when
the seller puts stock back."""

from django.core import mail
from playwright.sync_api import expect

from bidcart.catalog import services, tasks
from tests.factories import PASSWORD, make_category, make_product, make_user


def test_notify_me_when_a_sold_out_option_is_back(page, live_url):
    seller = make_user("e2e.seller@example.com", seller=True)
    tee = make_product(
        seller,
        make_category("티셔츠", "tees"),
        name="오버핏 코튼 티셔츠",
        slug="tee",
        price=19_000,
        variants=[({"size": "M"}, 19_000, 5), ({"size": "L"}, 21_000, 0)],
    )
    large = tee.variants.get(stock=0)
    buyer = make_user("e2e.buyer@example.com", display_name="구매자")
    page.goto(f"{live_url}/products/tee/")
    expect(page.get_by_test_id(f"restock-{large.pk}")).to_contain_text("로그인하고 재입고 알림 받기")
    page.goto(f"{live_url}/accounts/login/?next=/products/tee/")
    page.locator("input[name=email]").fill(buyer.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-logout")).to_be_visible()
    page.goto(f"{live_url}/products/tee/")
    page.get_by_test_id(f"restock-{large.pk}").get_by_test_id("restock-ask").click()
    expect(page.get_by_test_id(f"restock-{large.pk}").get_by_test_id("restock-waiting")).to_be_visible()

    services.set_stock(seller, large, stock=4)
    tasks.send_restock_alerts()
    tasks.send_restock_alerts()
    assert [m.to for m in mail.outbox] == [[buyer.email]]
    assert "재입고" in mail.outbox[0].subject
    page.reload()
    expect(page.get_by_test_id(f"restock-{large.pk}")).to_have_count(0)  # in stock again: nothing to wait for
