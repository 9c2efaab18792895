"""Korean search on SQLite (issue #14 item 6): names, descriptions, category names and option names, words
inside words, exact names first, in the list's fixed number of queries. PostgreSQL runs the very same
cases in tests/services/test_store_search.py."""

import pytest

from bidcart.catalog import selectors
from bidcart.catalog.models import Variant

from .search_cases import CASES, RANKED, korean_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return korean_shop()


def found(text):
    return {p.slug for p in selectors.search(selectors.active_products(), text)}


@pytest.mark.parametrize("query, expected", CASES, ids=[q for q, _ in CASES])
def test_a_korean_query_finds_what_a_shopper_expects(shop, query, expected):
    assert found(query) == expected


def test_the_exact_name_comes_first_then_names_that_start_with_it(shop, client):
    query, order = RANKED
    body = client.get("/api/v1/products/", {"search": query}).json()
    assert [p["slug"] for p in body["results"]] == order
    page = client.get("/products/", {"search": query, "ordering": "relevance"}).content.decode()
    positions = [page.index(f"/products/{slug}/") for slug in order]
    assert positions == sorted(positions)


def test_a_chosen_sort_still_wins_over_relevance(shop, client):
    body = client.get("/api/v1/products/", {"search": "키보드", "ordering": "-created"}).json()
    assert [p["slug"] for p in body["results"]] == ["wristrest", "exact", "lowprofile", "mechanical"]


def test_the_search_follows_renamed_categories_and_new_options(shop):
    coffee = shop["categories"]["coffee"]
    coffee.name = "음료"
    coffee.save()
    assert found("음료") == {"beans", "greentea"} and found("커피") == set()
    beans = shop["products"]["beans"]
    Variant.objects.create(product=beans, sku="BEANS-1KG", attributes={"용량": "1kg 대용량"}, price=39000, stock=1)
    assert found("대용량") == {"beans"}
    beans.name = "과테말라 안티구아"
    beans.save()
    assert found("예가체프") == set() and found("안티구아") == {"beans"}


def test_the_api_and_the_list_page_keep_their_fixed_number_of_queries(shop, client, django_assert_num_queries):
    client.get("/healthz")
    with django_assert_num_queries(3):  # count, products, images
        body = client.get("/api/v1/products/?search=키보드&ordering=price").json()
    assert body["count"] == 4
    with django_assert_num_queries(4):  # count, products, images, category tree
        page = client.get("/products/?search=커피").content.decode()
    assert page.count('data-testid="product-card"') == 2 and "에티오피아 예가체프 원두" in page
