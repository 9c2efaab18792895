"""Product search on PostgreSQL finds what SQLite's contains match finds: words inside words too."""

import pytest
from django.db import connection

from bidcart.catalog import selectors
from bidcart.catalog.models import Product

from tests.catalog.factories import make_category, make_product, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    seller = make_user(seller=True)
    category = make_category("의류", "clothes")
    make_product(seller, category, name="오버핏 코튼 티셔츠", slug="tee", description="부드러운 면 100%")
    make_product(seller, category, name="스트라이프 셔츠", slug="striped", description="봄 신상")
    make_product(seller, category, name="Oxford Shirt", slug="oxford", description="classic button-down 셔츠")
    make_product(seller, category, name="Linen_Blend Pants", slug="pants", description="summer")
    make_product(seller, category, name="LinenXBlend Scarf", slug="scarf", description="")
    make_product(seller, category, name="원두 커피", slug="coffee", description="산미가 있는 원두")
    return category


def found(text):
    return sorted(p.slug for p in selectors.search(selectors.active_products(), text))


def test_a_korean_word_inside_a_word_is_found(shop):
    assert connection.vendor == "postgresql"
    assert found("셔츠") == ["oxford", "striped", "tee"]  # 티셔츠 (in the name), 셔츠, and the description's word
    assert found("티셔") == ["tee"]
    assert found("코튼 셔츠") == ["tee"]  # every word must match
    assert found("버핏") == ["tee"]
    assert found("xford") == ["oxford"]  # inside an English word too, any case
    assert found("산미") == ["coffee"]  # description: full text, as before
    assert found("바지") == []


def test_an_underscore_is_a_letter_not_a_wildcard(shop):
    assert found("n_b") == ["pants"]  # not LinenXBlend


def test_the_api_and_the_list_page_find_it_with_a_fixed_number_of_queries(shop, client, django_assert_num_queries):
    client.get("/healthz")
    with django_assert_num_queries(3):  # count, products, images
        body = client.get("/api/v1/products/?search=셔츠&ordering=price").json()
    assert sorted(p["slug"] for p in body["results"]) == ["oxford", "striped", "tee"] and body["count"] == 3
    with django_assert_num_queries(4):  # count, products, images, category tree
        page = client.get("/products/?search=셔츠").content.decode()
    assert page.count('data-testid="product-card"') == 3 and "오버핏 코튼 티셔츠" in page


def test_the_name_match_uses_the_trigram_index(shop):
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == ("pg_trgm",)
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'catalog_product_name_trgm'")
        (indexdef,) = cursor.fetchone()
    assert "gin" in indexdef.lower() and "gin_trgm_ops" in indexdef
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = selectors.search(Product.objects.all(), "스트라이프").explain()
        cursor.execute("SET enable_seqscan = on")
    assert "catalog_product_name_trgm" in plan and "catalog_product_search_gin" in plan
