"""The catalog's shared data comes from the cache, and every write that changes what a visitor sees
makes the next page show it: each test caches a page, writes, and reads the page again."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from bidcart.cart.models import Cart, CartItem
from bidcart.catalog import cache as catalog_cache
from bidcart.catalog import services
from bidcart.catalog.models import Category, ProductImage, Variant
from bidcart.orders import services as order_services
from bidcart.reviews import services as review_services
from tests.factories import api_for, make_category, make_product, picture

pytestmark = pytest.mark.django_db

ADDRESS = {"recipient": "김구매", "phone": "010-1234-5678", "postcode": "06236", "address1": "서울", "address2": ""}


@pytest.fixture
def shelf(seller):
    category = make_category("Mugs", slug="mugs")
    return make_product(seller, category, name="Blue Mug", slug="blue-mug", price=8000, stock=1)


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def warm(client, *urls):
    for url in urls:
        page(client, url)


PAGES = ("/products/blue-mug/", "/products/", "/", "/api/v1/products/blue-mug/", "/api/v1/products/")


# --- served from the cache -------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES + ("/products/?category=mugs&ordering=price", "/api/v1/categories/"))
def test_a_second_anonymous_visit_runs_no_query(url, shelf, client, django_assert_num_queries):
    warm(client, url)
    with django_assert_num_queries(0):
        page(client, url)


def test_a_logged_in_visit_shares_the_data_but_keeps_its_own_wishlist_heart(
    shelf, client, buyer, other, django_assert_num_queries
):
    services.add_to_wishlist(buyer, shelf)
    warm(Client(), "/products/blue-mug/")  # an anonymous visitor fills the cache
    client.force_login(buyer)
    page(client, "/healthz")
    # all personal: session, user, cart badge, wishlist heart, restock alerts asked, own review, bought it?
    with django_assert_num_queries(7):
        html = page(client, "/products/blue-mug/")
    assert "♥ " in html
    other_client = Client()
    other_client.force_login(other)
    assert "♡ " in page(other_client, "/products/blue-mug/")


def test_each_visitor_gets_their_own_csrf_token_from_a_cached_page(shelf):
    tokens = []
    for _ in range(2):
        visitor = Client()
        html = page(visitor, "/products/blue-mug/")
        found = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert found
        tokens.append((found[0], visitor.cookies["csrftoken"].value))
    assert tokens[0][0] != tokens[1][0] and tokens[0][1] != tokens[1][1]


# --- every write shows at once -------------------------------------------------------------------


def test_a_new_price_shows_everywhere(shelf, client, seller):
    warm(client, *PAGES)
    services.update_variant_price(seller, shelf.variants.get(), price=9900)
    for url in PAGES[:3]:
        assert "9,900" in page(client, url), url
    assert client.get("/api/v1/products/blue-mug/").json()["price"] == 9900
    assert client.get("/api/v1/products/").json()["results"][0]["price"] == 9900


def test_stock_set_by_the_seller_shows_sold_out(shelf, client, seller):
    warm(client, *PAGES)
    services.set_stock(seller, shelf.variants.get(), stock=0)
    assert 'data-testid="sold-out"' in page(client, "/products/blue-mug/")
    assert client.get("/api/v1/products/blue-mug/").json()["in_stock"] is False
    assert "Blue Mug" not in page(client, "/products/?in_stock=true")


def test_the_last_unit_ordered_shows_sold_out_and_a_cancelled_order_puts_it_back(shelf, client, buyer):
    warm(client, "/products/blue-mug/", "/api/v1/products/blue-mug/", "/products/?in_stock=true")
    cart, _ = Cart.objects.get_or_create(user=buyer)
    CartItem.objects.create(cart=cart, variant=shelf.variants.get(), quantity=1)
    order = order_services.place_order(buyer, shipping_address=ADDRESS)  # stock moves by queryset UPDATE
    assert 'data-testid="sold-out"' in page(client, "/products/blue-mug/")
    assert client.get("/api/v1/products/blue-mug/").json()["in_stock"] is False
    assert "Blue Mug" not in page(client, "/products/?in_stock=true")

    order_services.cancel_by_buyer(buyer, order)
    assert 'data-testid="sold-out"' not in page(client, "/products/blue-mug/")
    assert client.get("/api/v1/products/blue-mug/").json()["in_stock"] is True


def test_a_product_edit_shows(shelf, client, seller):
    warm(client, *PAGES)
    services.update_product(seller, shelf, name="Green Mug")
    for url in PAGES:
        assert "Green Mug" in page(client, url), url


def test_a_new_image_and_a_new_cover_show(shelf, client, seller):
    warm(client, "/products/blue-mug/", "/api/v1/products/blue-mug/")
    services.add_images(seller, shelf, [picture("one.jpg"), picture("two.jpg")])
    images = client.get("/api/v1/products/blue-mug/").json()["images"]
    assert len(images) == 2
    first, second = ProductImage.objects.filter(product=shelf).order_by("position")
    assert second.image.url.rsplit(".", 1)[0] + "_detail" in page(client, "/products/blue-mug/")  # its rendition
    services.move_image(seller, second, to=0)  # positions move by bulk_update
    assert client.get("/api/v1/products/blue-mug/").json()["image"].endswith(second.image.url)


def test_a_new_category_shows_in_the_menu_with_its_indent(shelf, client):
    warm(client, "/products/", "/api/v1/categories/")
    services.create_category(name="Cups", slug="cups", parent=Category.objects.get(slug="mugs"))
    assert ">— Cups</option>" in page(client, "/products/")
    assert '"slug":"cups"' in client.get("/api/v1/categories/").content.decode().replace(" ", "")


def test_the_menu_marks_each_visitors_own_category_from_the_cached_options(shelf, client):
    make_category("Cups", slug="cups")
    warm(client, "/products/?category=mugs", "/products/")
    html = page(client, "/products/?category=cups")
    assert '<option value="cups" selected>' in html and '<option value="mugs" selected>' not in html
    assert "selected>" not in page(client, "/products/").split('name="category"')[1].split("</select>")[0]


def test_a_review_and_the_new_rating_show(shelf, client, buyer):
    shelf_variant = Variant.objects.get(product=shelf)
    services.set_stock(shelf.seller, shelf_variant, stock=5)
    cart, _ = Cart.objects.get_or_create(user=buyer)
    CartItem.objects.create(cart=cart, variant=shelf_variant, quantity=1)
    order = order_services.place_order(buyer, shipping_address=ADDRESS)
    order_services.mark_paid(order)
    type(order).objects.filter(pk=order.pk).update(
        status="delivered", confirmed_at=timezone.now()
    )  # 구매확정: reviews open
    warm(client, "/products/blue-mug/", "/api/v1/products/blue-mug/")
    review_services.create_review(buyer, shelf, rating=4, text="Keeps tea hot for ages")
    assert "Keeps tea hot for ages" in page(client, "/products/blue-mug/")
    assert client.get("/api/v1/products/blue-mug/").json()["rating"] == {"average": 4.0, "count": 1}


def test_a_new_product_shows_on_the_list_home_and_api(shelf, client, seller):
    warm(client, "/products/", "/", "/api/v1/products/")
    make_product(seller, Category.objects.get(slug="mugs"), name="Red Kettle", slug="red-kettle")
    assert "Red Kettle" in page(client, "/products/")
    assert "Red Kettle" in page(client, "/")
    assert "red-kettle" in [p["slug"] for p in client.get("/api/v1/products/").json()["results"]]


def test_a_product_taken_off_sale_is_gone_from_its_cached_page(shelf, client, seller):
    warm(client, "/products/blue-mug/", "/api/v1/products/blue-mug/")
    services.update_product(seller, shelf, active=False)
    assert client.get("/products/blue-mug/").status_code == 404
    assert api_for().get("/api/v1/products/blue-mug/").status_code == 404


def test_the_version_moves_again_when_the_writing_transaction_commits(django_capture_on_commit_callbacks):
    """A visitor may read (and cache) the old rows between the write and its commit: the bump at
    commit drops what they cached."""
    with django_capture_on_commit_callbacks(execute=True):
        catalog_cache.changed()
        during = catalog_cache.version()
    assert catalog_cache.version() != during


def test_the_cache_holds_no_password_hash(shelf, client, buyer):
    import pickle

    from django.core.cache import cache

    warm(client, "/products/blue-mug/", "/")
    entries = [cache.get(catalog_cache.key("product-detail", "blue-mug")), cache.get(catalog_cache.key("featured", 8))]
    assert all(entries)
    for entry in entries:
        assert shelf.seller.password.encode() not in pickle.dumps(entry)


def test_the_cached_cards_follow_the_readers_language(shelf, client):
    from django.conf import settings

    assert "8,000원" in page(client, "/products/")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page(client, "/products/")
    assert "₩8,000" in html and "8,000원" not in html


def test_the_product_pages_shared_html_is_rendered_once_per_catalog_change(shelf, client, seller):
    """Rendering, not only reading, was most of a product page's cost: the gallery, options, offer,
    description and reviews are rendered once per catalog version and language; a change renders them anew."""
    services.add_images(seller, shelf, [picture("one.jpg")])
    first = client.get("/products/blue-mug/")
    assert "core/_gallery.html" in [t.name for t in first.templates]
    again = client.get("/products/blue-mug/")
    assert "core/_gallery.html" not in [t.name for t in again.templates]
    token = rb'name="csrfmiddlewaretoken" value="[^"]+"'
    assert re.sub(token, b"", again.content) == re.sub(token, b"", first.content)  # the same page, own token
    services.update_variant_price(seller, shelf.variants.get(), price=9900)
    changed = client.get("/products/blue-mug/")
    assert "core/_gallery.html" in [t.name for t in changed.templates]
    assert "9,900" in changed.content.decode()


def test_the_cached_product_page_follows_the_readers_language(shelf, client):
    from django.conf import settings

    assert "8,000원" in page(client, "/products/blue-mug/")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page(client, "/products/blue-mug/")
    assert "₩8,000" in html and "8,000원" not in html and "Option" in html


def test_while_the_cache_cannot_tell_the_version_every_visit_reads_and_renders_anew(shelf, client, monkeypatch):
    """Redis unreachable: the version is unknown, so neither the shared cache nor this process's memory may
    answer (a copy kept under an old version would never be dropped): a price moved meanwhile shows at once."""
    warm(client, "/products/blue-mug/", "/products/")
    monkeypatch.setattr(catalog_cache, "version", lambda: None)
    Variant.objects.filter(product=shelf).update(price=9900)  # no bump reaches the cache while it is down
    assert "9,900" in page(client, "/products/blue-mug/")
    assert "9,900" in page(client, "/products/")
    Variant.objects.filter(product=shelf).update(price=7700)
    assert "7,700" in page(client, "/products/blue-mug/")
