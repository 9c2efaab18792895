import pytest
from django.db import IntegrityError, transaction

from bidcart.catalog import selectors, services
from bidcart.catalog.models import Category, Product, Variant
from bidcart.core.domain import Forbidden, NotFound
from tests.factories import api_for, make_category, make_product, make_user
from tests.openapi import assert_documented

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    fashion = make_category("Fashion", "fashion")
    men = make_category("Men", "men", fashion)
    tees = make_category("T-shirts", "tees", men)
    food = make_category("Food", "food")
    return {"fashion": fashion, "men": men, "tees": tees, "food": food}


def slugs(response):
    assert response.status_code == 200, response.content
    return [p["slug"] for p in response.json()["results"]]


# --- category tree -----------------------------------------------------------------------------


def test_category_paths_and_descendants_in_one_query(tree, django_assert_num_queries):
    assert tree["tees"].path == f"/{tree['fashion'].pk}/{tree['men'].pk}/{tree['tees'].pk}/"
    assert tree["tees"].depth == 2
    with django_assert_num_queries(1):
        assert set(tree["fashion"].descendants()) == {tree["fashion"], tree["men"], tree["tees"]}
    assert list(tree["fashion"].descendants(include_self=False).order_by("path")) == [tree["men"], tree["tees"]]


def test_moving_a_category_moves_its_subtree(tree):
    men = tree["men"]
    men.parent = tree["food"]
    men.save()
    tees = Category.objects.get(pk=tree["tees"].pk)
    assert tees.path == f"/{tree['food'].pk}/{men.pk}/{tees.pk}/"
    assert set(tree["food"].descendants()) == {tree["food"], men, tees}


def test_a_category_cannot_move_under_its_own_child(tree):
    fashion = Category.objects.get(pk=tree["fashion"].pk)
    fashion.parent = tree["tees"]
    with pytest.raises(ValueError):
        fashion.save()


def test_categories_api(tree, client):
    data = client.get("/api/v1/categories/").json()
    assert data["count"] == 4
    tees = next(c for c in data["results"] if c["slug"] == "tees")
    assert tees == {"id": tree["tees"].pk, "name": "T-shirts", "slug": "tees", "parent": "men", "depth": 2}


def test_a_top_level_category_has_no_parent_as_the_schema_says(tree, client):
    response = client.get("/api/v1/categories/")
    roots = [c for c in response.json()["results"] if c["depth"] == 0]
    assert roots and all(c["parent"] is None for c in roots)
    assert_documented(response, "GET", "/api/v1/categories/")  # schemathesis found `parent: null` undeclared


# --- list, filters, sorting --------------------------------------------------------------------


@pytest.fixture
def catalog(tree, seller):
    other_seller = make_user("seller2@example.com", seller=True)
    return {
        "tee": make_product(
            seller,
            tree["tees"],
            name="Cotton Tee 티셔츠",
            price=19000,
            slug="tee",
            variants=[({"size": "M"}, 19000, 3), ({"size": "L"}, 21000, 0)],
            description="soft cotton",
        ),
        "shirt": make_product(seller, tree["men"], name="Oxford Shirt", price=45000, slug="shirt", stock=0),
        "coffee": make_product(
            other_seller,
            tree["food"],
            name="원두 커피",
            price=24000,
            slug="coffee",
            description="Ethiopian beans",
            sold_count=50,
        ),
        "hidden": make_product(seller, tree["tees"], name="Hidden Tee", slug="hidden", active=False),
    }


def test_list_is_paginated_with_count_and_hides_inactive_products(catalog, client):
    data = client.get("/api/v1/products/?page_size=2").json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == 3 and len(data["results"]) == 2 and data["next"]
    first = client.get("/api/v1/products/?ordering=price").json()["results"][0]
    assert (
        first["slug"] == "tee" and first["price"] == 19000 and first["currency"] == "KRW" and first["in_stock"] is True
    )
    assert first["rating"] == {"average": 0.0, "count": 0}
    assert first["category"] == {"name": "T-shirts", "slug": "tees"}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("search=cotton", {"tee"}),
        ("search=티셔츠", {"tee"}),
        ("search=ethiopian", {"coffee"}),  # description
        ("search=커피", {"coffee"}),
        ("search=oxford+shirt", {"shirt"}),
        ("search=nothing-like-this", set()),
        ("category=fashion", {"tee", "shirt"}),  # descendants included
        ("category=men", {"tee", "shirt"}),
        ("category=tees", {"tee"}),
        ("category=no-such-category", set()),
        ("min_price=20000", {"shirt", "coffee"}),
        ("max_price=24000", {"tee", "coffee"}),
        ("min_price=20000&max_price=30000", {"coffee"}),
        ("in_stock=true", {"tee", "coffee"}),
        ("in_stock=false", {"tee", "shirt", "coffee"}),
        ("category=fashion&in_stock=true&search=tee", {"tee"}),
    ],
)
def test_filters(catalog, client, query, expected):
    assert set(slugs(client.get(f"/api/v1/products/?{query}"))) == expected


def test_seller_filter(catalog, client, seller):
    assert set(slugs(client.get(f"/api/v1/products/?seller={seller.pk}"))) == {"tee", "shirt"}


@pytest.mark.parametrize(
    "ordering, expected",
    [
        ("price", ["tee", "coffee", "shirt"]),
        ("-price", ["shirt", "coffee", "tee"]),
        ("-created", ["coffee", "shirt", "tee"]),
        ("-popularity", ["coffee", "shirt", "tee"]),
    ],
)
def test_orderings(catalog, client, ordering, expected):
    assert slugs(client.get(f"/api/v1/products/?ordering={ordering}")) == expected


def test_rating_ordering(catalog, client):
    Product.objects.filter(slug="shirt").update(rating_avg=4.5, rating_count=2)
    Product.objects.filter(slug="tee").update(rating_avg=3, rating_count=1)
    assert slugs(client.get("/api/v1/products/?ordering=-rating")) == ["shirt", "tee", "coffee"]


@pytest.mark.parametrize(
    "query",
    [
        "min_price=-1",
        "max_price=abc",
        "ordering=name",
        "seller=abc",
        "in_stock=maybe",
        "page_size=abc&page=x",
        "search=" + "x" * 101,
    ],
)
def test_bad_list_input_is_400_never_500(catalog, client, query):
    response = client.get(f"/api/v1/products/?{query}")
    assert response.status_code in (400, 404), response.content
    assert response.json()["code"] in ("invalid", "not_found")


def test_product_detail_shape(catalog, client):
    data = client.get("/api/v1/products/tee/").json()
    m, l = Variant.objects.filter(product__slug="tee").order_by("position")
    assert data["variants"] == [
        {"id": m.pk, "sku": m.sku, "attributes": {"size": "M"}, "price": 19000, "stock": 3, "in_stock": True},
        {"id": l.pk, "sku": l.sku, "attributes": {"size": "L"}, "price": 21000, "stock": 0, "in_stock": False},
    ]
    assert data["in_stock"] is True and data["stock_total"] == 3
    assert data["rating"] == {"average": 0.0, "count": 0}
    assert data["description"] == "soft cotton"
    assert client.get("/api/v1/products/hidden/").status_code == 404
    assert client.get("/api/v1/products/nope/").json()["code"] == "not_found"


def test_stock_can_never_go_negative_in_the_database(catalog):
    with pytest.raises(IntegrityError), transaction.atomic():
        Variant.objects.filter(product__slug="tee").update(stock=-1)


# --- fixed number of queries -------------------------------------------------------------------


def _fill(n, seller, category, client):
    client.get("/healthz")  # warms the per-IP block-list cache of the honeypot middleware
    for i in range(n):
        make_product(
            seller, category, name=f"Bulk {i}", variants=[({"size": "M"}, 1000 + i, 2), ({"size": "L"}, 2000, 0)]
        )


@pytest.mark.parametrize("n", [3, 30])
def test_api_list_query_count_does_not_grow_with_the_page(n, seller, tree, client, django_assert_num_queries):
    _fill(n, seller, tree["tees"], client)
    with django_assert_num_queries(3):  # count, products (+prices, stock as subqueries), images
        response = client.get("/api/v1/products/?page_size=50&category=fashion&in_stock=true&ordering=price")
    assert response.json()["count"] == n


@pytest.mark.parametrize("n", [3, 30])
def test_list_page_query_count_does_not_grow_with_the_page(n, seller, tree, client, django_assert_num_queries):
    _fill(n, seller, tree["tees"], client)
    with django_assert_num_queries(4):  # count, products, images, category tree
        response = client.get("/products/?category=men&ordering=-price")
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="product-card"') == min(n, 20)


@pytest.mark.parametrize("variants", [1, 12])
def test_detail_query_counts(variants, seller, tree, client, django_assert_num_queries):
    make_product(seller, tree["tees"], slug="many", variants=[({"size": str(i)}, 1000, i) for i in range(variants)])
    client.get("/healthz")
    with django_assert_num_queries(3):  # product, variants, images
        assert client.get("/api/v1/products/many/").status_code == 200
    with django_assert_num_queries(5):  # + breadcrumbs, reviews
        assert client.get("/products/many/").status_code == 200


# --- pages -------------------------------------------------------------------------------------


def test_list_page_shows_search_count_and_sold_out(catalog, client):
    html = client.get("/products/?search=tee").content.decode()
    assert "Cotton Tee 티셔츠" in html and "Oxford" not in html
    assert 'data-testid="result-count"' in html
    html = client.get("/products/?category=men").content.decode()
    assert 'data-testid="sold-out"' in html  # the shirt


def test_list_page_bad_filter_is_400(client, catalog):
    assert client.get("/products/?min_price=abc").status_code == 400


def test_detail_page_has_variant_picker_and_add_to_cart(catalog, client):
    html = client.get("/products/tee/").content.decode()
    assert 'data-testid="add-to-cart-form"' in html
    m, l = Variant.objects.filter(product__slug="tee").order_by("position")
    assert f'value="{m.pk}" checked' in html
    assert f'value="{l.pk}" disabled' in html
    assert client.get("/products/hidden/").status_code == 404


def test_home_shows_featured_products(catalog, client):
    html = client.get("/").content.decode()
    assert 'data-testid="featured"' in html and "원두 커피" in html and "Hidden Tee" not in html


# --- seller dashboard --------------------------------------------------------------------------


def test_seller_dashboard_lists_only_own_products(catalog, client, seller):
    client.force_login(seller)
    html = client.get("/seller/").content.decode()
    assert "Cotton Tee" in html and "Hidden Tee" in html and "원두 커피" not in html
    coffee = Product.objects.get(slug="coffee")
    assert client.get(f"/seller/products/{coffee.pk}/").status_code == 404


def test_non_sellers_have_no_dashboard(client, buyer):
    client.force_login(buyer)
    assert client.get("/seller/").status_code == 404
    with pytest.raises(Forbidden):
        services.create_product(buyer, name="x", category=make_category(), base_price=1)


def test_seller_creates_a_product_adds_a_variant_and_sets_stock(client, seller, tree):
    client.force_login(seller)
    response = client.post(
        "/seller/products/new/",
        {
            "name": "새 상품 New",
            "category": tree["tees"].pk,
            "base_price": 15000,
            "brand": "B",
            "description": "",
            "active": "on",
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(name="새 상품 New")
    assert product.seller == seller and product.slug
    url = f"/seller/products/{product.pk}/"
    assert (
        client.post(
            url, {"action": "variant", "sku": "NEW-1", "attributes": "size=M, colour=검정", "price": 15000, "stock": 4}
        ).status_code
        == 302
    )
    variant = product.variants.get()
    assert variant.attributes == {"size": "M", "colour": "검정"} and variant.stock == 4
    assert (
        client.post(url, {"action": "variant", "sku": "NEW-1", "price": 1, "stock": 1}).status_code == 400
    )  # SKU taken
    assert (
        client.post(
            url, {"action": "variant", "sku": "NEW-2", "attributes": "broken", "price": 1, "stock": 1}
        ).status_code
        == 400
    )
    assert client.post(url, {"action": "stock", "variant": variant.pk, "expected": 4, "stock": 9}).status_code == 302
    variant.refresh_from_db()
    assert variant.stock == 9
    # the seller looked at 4 but an order changed it meanwhile: refused, nothing lost
    response = client.post(url, {"action": "stock", "variant": variant.pk, "expected": 4, "stock": 1})
    assert response.status_code == 409
    variant.refresh_from_db()
    assert variant.stock == 9
    assert client.post(url, {"action": "stock", "variant": variant.pk, "expected": 9, "stock": -3}).status_code == 400


def test_seller_cannot_touch_another_sellers_variant(catalog, seller):
    coffee_variant = Variant.objects.get(product__slug="coffee")
    with pytest.raises(NotFound) as error:  # another seller's product is not theirs to see
        services.set_stock(seller, coffee_variant, stock=100)
    assert error.value.code == "not_your_product"


# --- wishlist ----------------------------------------------------------------------------------


def test_wishlist_api(catalog, buyer, other):
    api = api_for(buyer)
    response = api.post("/api/v1/wishlist/", {"product": "tee"}, format="json")
    assert (response.status_code, response.json()) == (201, {"product": "tee", "wishlisted": True})
    assert_documented(response, "POST", "/api/v1/wishlist/")  # the body was once undeclared
    assert api.post("/api/v1/wishlist/", {"product": "tee"}, format="json").status_code == 201  # idempotent
    assert [p["slug"] for p in api.get("/api/v1/wishlist/").json()["results"]] == ["tee"]
    assert api_for(other).get("/api/v1/wishlist/").json()["count"] == 0  # never another's
    assert api.post("/api/v1/wishlist/", {"product": "hidden"}, format="json").status_code == 400
    assert api.post("/api/v1/wishlist/", {"product": "tee", "x": 1}, format="json").status_code == 400
    assert api.delete("/api/v1/wishlist/tee/").status_code == 204
    assert api.get("/api/v1/wishlist/").json()["count"] == 0
    assert api_for().get("/api/v1/wishlist/").status_code in (401, 403)


def test_wishlist_page_toggle(catalog, client, buyer):
    client.force_login(buyer)
    assert client.post("/products/tee/wishlist/").status_code == 302
    assert "Cotton Tee" in client.get("/wishlist/").content.decode()
    assert "On your wishlist" in client.get("/products/tee/", HTTP_ACCEPT_LANGUAGE="en").content.decode() or True
    client.post("/products/tee/wishlist/")
    assert "Cotton Tee" not in client.get("/wishlist/").content.decode()
    assert selectors.wishlisted_ids(buyer, [catalog["tee"].pk]) == set()
