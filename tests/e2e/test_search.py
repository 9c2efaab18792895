"""Korean search in Chromium (issue #14 item 6): a shopper types 커피 and finds the 커피·차 category's
products, types 키보드 and finds every keyboard with the product named exactly that first, on a phone and
on a desktop screen."""

import os

import pytest
from playwright.sync_api import expect

from tests.catalog.search_cases import korean_shop

SHOTS = os.environ.get("E2E_SCREENSHOTS", "")


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width, height", [(390, 844), (1280, 800)])
def test_korean_queries_find_categories_options_and_rank_the_exact_name_first(page, live_url, width, height):
    korean_shop()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_url}/")
    if width < 760:
        page.get_by_test_id("menu-button").click()  # on a phone the search sits in the menu
    page.get_by_test_id("nav-search").fill("커피")
    page.get_by_test_id("nav-search").press("Enter")
    expect(page.get_by_test_id("product-card")).to_have_count(2)
    expect(page.locator("body")).to_contain_text("에티오피아 예가체프 원두")
    shot(page, f"search-coffee-{width}")

    page.get_by_test_id("search-input").fill("키보드")
    page.get_by_test_id("search-submit").click()
    expect(page.get_by_test_id("product-card")).to_have_count(4)
    expect(page.get_by_test_id("product-card").first).to_contain_text("키보드")
    links = [a.get_attribute("href") for a in page.get_by_test_id("product-link").all()]
    assert links == ["/products/exact/", "/products/wristrest/", "/products/mechanical/", "/products/lowprofile/"], (
        links
    )
    expect(page.get_by_test_id("filter-ordering")).to_have_value("relevance")
    shot(page, f"search-keyboard-{width}")

    page.get_by_test_id("search-input").fill("검정")
    page.get_by_test_id("search-submit").click()
    expect(page.get_by_test_id("product-card")).to_have_count(1)
    expect(page.get_by_test_id("product-card")).to_contain_text("오버핏 코튼 티셔츠")
