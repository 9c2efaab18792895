"""Product search on PostgreSQL finds exactly what SQLite finds (issue #14 item 6): the Korean cases of
tests/catalog/search_cases.py, the ranking, the fixed query count, and the trigram index serving it."""

import pytest
from django.db import connection

from bidcart.catalog import selectors
from bidcart.catalog.models import Product
from tests.catalog.search_cases import CASES, RANKED, korean_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return korean_shop()


def found(text):
    return {p.slug for p in selectors.search(selectors.active_products(), text)}


def test_every_korean_case_finds_the_same_products_as_on_sqlite(shop):
    assert connection.vendor == "postgresql"
    for query, expected in CASES:
        assert found(query) == expected, query


def test_the_exact_name_comes_first(shop, client):
    query, order = RANKED
    body = client.get("/api/v1/products/", {"search": query}).json()
    assert [p["slug"] for p in body["results"]] == order


def test_the_api_and_the_list_page_find_it_with_a_fixed_number_of_queries(shop, client, django_assert_num_queries):
    client.get("/healthz")
    with django_assert_num_queries(3):  # count, products, images
        body = client.get("/api/v1/products/?search=셔츠&ordering=price").json()
    assert [p["slug"] for p in body["results"]] == ["tee"] and body["count"] == 1
    with django_assert_num_queries(4):  # count, products, images, category tree
        page = client.get("/products/?search=커피").content.decode()
    assert page.count('data-testid="product-card"') == 2 and "에티오피아 예가체프 원두" in page


def test_the_match_uses_the_trigram_index_on_the_search_text(shop):
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == ("pg_trgm",)
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'catalog_product_search_text_trgm'")
        (indexdef,) = cursor.fetchone()
    assert "gin" in indexdef.lower() and "gin_trgm_ops" in indexdef and "search_text" in indexdef
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = selectors.search(Product.objects.all(), "스트라이프").explain()
        cursor.execute("SET enable_seqscan = on")
    assert "catalog_product_search_text_trgm" in plan
