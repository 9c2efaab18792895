"""Sellers upload, order and delete their products' images from the seller dashboard."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from bidcart.catalog import services
from bidcart.catalog.models import Product, ProductImage
from bidcart.core.domain import Invalid, NotFound
from tests.factories import make_category, make_product, make_user, picture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def product_form(product, **extra):
    data = {
        "action": "product",
        "name": product.name,
        "category": product.category_id,
        "base_price": product.base_price,
        "brand": product.brand,
        "description": product.description,
        "active": "on",
    }
    data.update(extra)
    return data


def rendition_url(image, kind, extension=None):
    stem, stored = image.image.name.rsplit(".", 1)
    return f"/media/{stem}_{kind}.{extension or stored}"


def gallery(product):
    return list(ProductImage.objects.filter(product=product).order_by("position", "id"))


@pytest.fixture
def product(seller):
    return make_product(seller, name="린넨 셔츠", slug="linen")


def test_seller_uploads_several_images_and_the_first_is_the_cover(client, seller, product, media):
    client.force_login(seller)
    url = f"/seller/products/{product.pk}/"
    files = [picture("front.jpg"), picture("back.png", "PNG"), picture("detail.webp", "WEBP")]
    response = client.post(url, product_form(product, images=files))
    assert response.status_code == 302, response.content.decode()
    images = gallery(product)
    assert [i.position for i in images] == [0, 1, 2]
    # stored under MEDIA_ROOT, re-encoded, under a random name with the extension of what is stored (a WebP
    # without transparency becomes a JPEG every browser shows; WebP renditions sit beside it)
    assert [i.image.name.rsplit(".", 1)[1] for i in images] == ["jpg", "png", "jpg"]
    assert all((media / i.image.name).is_file() for i in images)
    assert not any("front" in i.image.name for i in images)
    page = client.get(url).content.decode()
    assert page.count('data-testid="seller-image"') == 3
    assert page.index(images[0].image.url) < page.index('data-testid="cover-badge"') < page.index(images[1].image.url)
    # the store shows them, cover first, on the card (list size) and in the product page's gallery
    assert rendition_url(images[0], "list") in client.get("/products/").content.decode()
    detail = client.get("/products/linen/").content.decode()
    thumbs = [detail.index(f'data-zoom="{rendition_url(i, "zoom")}"') for i in images]
    assert thumbs == sorted(thumbs)
    body = client.get("/api/v1/products/linen/").json()
    assert body["image"] == "http://testserver" + images[0].image.url
    assert [{k: v for k, v in i.items() if k in ("id", "url", "alt")} for i in body["images"]] == [
        {"id": i.pk, "url": "http://testserver" + i.image.url, "alt": "린넨 셔츠"} for i in images
    ]
    # apps get every size with its dimensions, as the pages do
    cover = body["images"][0]
    assert (cover["width"], cover["height"]) == (64, 48)
    assert cover["renditions"]["list"] == {
        "url": "http://testserver" + rendition_url(images[0], "list"),
        "webp": "http://testserver" + rendition_url(images[0], "list", "webp"),
        "width": 64,
        "height": 48,
    }
    assert set(cover["renditions"]) == {"list", "detail", "zoom"}


def test_a_new_product_can_be_created_with_its_images(client, seller):
    category = make_category()
    client.force_login(seller)
    response = client.post(
        "/seller/products/new/",
        {
            "name": "Mug",
            "category": category.pk,
            "base_price": 9000,
            "brand": "",
            "description": "",
            "active": "on",
            "images": [picture("mug.png", "PNG")],
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(name="Mug")
    assert len(gallery(product)) == 1


def test_a_text_file_renamed_jpg_is_refused_and_nothing_is_stored(client, seller, product, media):
    client.force_login(seller)
    fake = SimpleUploadedFile("photo.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")
    response = client.post(
        f"/seller/products/{product.pk}/", product_form(product, name="Renamed", images=[picture(), fake])
    )
    assert response.status_code == 400
    assert "photo.jpg 파일은 JPEG, PNG, WebP 이미지가 아닙니다." in response.content.decode()  # the seller's language
    assert gallery(product) == []  # the valid one beside it is not stored either: all or nothing
    assert Product.objects.get(pk=product.pk).name == "린넨 셔츠"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_a_new_product_with_a_bad_image_is_not_created(client, seller):
    category = make_category()
    client.force_login(seller)
    response = client.post(
        "/seller/products/new/",
        {
            "name": "Ghost",
            "category": category.pk,
            "base_price": 9000,
            "active": "on",
            "images": [SimpleUploadedFile("x.png", b"not a png", content_type="image/png")],
        },
    )
    assert response.status_code == 400
    assert not Product.objects.filter(name="Ghost").exists()


def test_other_image_types_are_refused(client, seller, product):
    client.force_login(seller)
    response = client.post(
        f"/seller/products/{product.pk}/", product_form(product, images=[picture("anim.gif", "GIF")])
    )
    assert response.status_code == 400
    assert "anim.gif 파일은 JPEG, PNG, WebP 이미지가 아닙니다." in response.content.decode()
    assert gallery(product) == []


def test_an_image_over_the_size_limit_is_refused(client, seller, product, settings):
    settings.CATALOG_IMAGE_MAX_BYTES = 1024 * 1024
    noisy = Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3))  # incompressible: over 4 MB as PNG
    buffer = io.BytesIO()
    noisy.save(buffer, "PNG")
    big = SimpleUploadedFile("huge.png", buffer.getvalue(), content_type="image/png")
    assert big.size > settings.CATALOG_IMAGE_MAX_BYTES
    client.force_login(seller)
    response = client.post(
        f"/seller/products/{product.pk}/", product_form(product, images=[big]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "huge.png is too large: an image may be at most 1 MB." in response.content.decode()
    assert gallery(product) == []


def test_an_image_over_the_dimension_limit_is_refused(client, seller, product, settings):
    settings.CATALOG_IMAGE_MAX_SIDE = 500
    client.force_login(seller)
    wide = picture("wide.png", "PNG", size=(501, 10))
    response = client.post(
        f"/seller/products/{product.pk}/", product_form(product, images=[wide]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "wide.png is 501×10 pixels: an image may be at most 500 pixels on each side." in response.content.decode()


def test_the_number_of_images_is_limited(seller, product, settings):
    settings.CATALOG_IMAGE_MAX_COUNT = 2
    services.add_images(seller, product, [picture(), picture()])
    with pytest.raises(Invalid) as refused:
        services.add_images(seller, product, [picture()])
    assert refused.value.code == "too_many_images"
    assert len(gallery(product)) == 2


def stored_files(media) -> set:
    return {p for p in media.rglob("*") if p.is_file()} if media.exists() else set()


def test_a_product_save_refused_at_its_images_keeps_neither_the_new_details_nor_any_image(
    seller, product, media, settings
):
    settings.CATALOG_IMAGE_MAX_COUNT = 2
    (kept,) = services.add_images(seller, product, [picture()])
    files = stored_files(media)
    with pytest.raises(Invalid) as refused:  # the details are written first, the gallery's limit refuses after
        services.product_save(seller, product, name="Renamed", base_price=1, uploads=[picture(), picture()])
    assert refused.value.code == "too_many_images"
    product.refresh_from_db()
    assert (product.name, product.base_price) == ("린넨 셔츠", 10000)
    assert gallery(product) == [kept] and stored_files(media) == files  # no row, no file of the refused save


def test_a_new_product_refused_at_its_images_is_not_created_and_leaves_no_file(seller, media, settings):
    settings.CATALOG_IMAGE_MAX_COUNT = 1
    with pytest.raises(Invalid):
        services.product_save(
            seller, name="Ghost", category=make_category(), base_price=9000, uploads=[picture(), picture()]
        )
    assert not Product.objects.filter(name="Ghost").exists()
    assert stored_files(media) == set()


def test_a_product_save_with_its_images_saves_both(seller, product):
    saved = services.product_save(seller, product, name="Renamed", uploads=[picture()])
    assert saved.name == "Renamed" and len(gallery(product)) == 1
    created = services.product_save(seller, name="Mug", category=product.category, base_price=9000, uploads=[picture()])
    assert created.seller == seller and len(gallery(created)) == 1


def test_the_product_page_shows_a_refused_save_and_keeps_the_product_as_it_was(client, seller, product, settings):
    settings.CATALOG_IMAGE_MAX_COUNT = 1
    services.add_images(seller, product, [picture()])
    client.force_login(seller)
    response = client.post(
        f"/seller/products/{product.pk}/",
        product_form(product, name="Renamed", images=[picture()]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "A product can have at most 1 images; it has 1." in response.content.decode()
    assert Product.objects.get(pk=product.pk).name == "린넨 셔츠" and len(gallery(product)) == 1


def test_the_seller_reorders_makes_a_cover_and_deletes(
    client, seller, product, media, django_capture_on_commit_callbacks
):
    a, b, c = services.add_images(seller, product, [picture("a.jpg"), picture("b.jpg"), picture("c.jpg")])
    client.force_login(seller)
    url = f"/seller/products/{product.pk}/"
    assert client.post(url, {"action": "image_cover", "image": c.pk}).status_code == 302
    assert gallery(product) == [c, a, b]
    assert client.post(url, {"action": "image_down", "image": c.pk}).status_code == 302
    assert gallery(product) == [a, c, b]
    assert client.post(url, {"action": "image_up", "image": b.pk}).status_code == 302
    assert gallery(product) == [a, b, c]
    stored = media / a.image.name
    assert stored.is_file()
    with django_capture_on_commit_callbacks(execute=True):  # the file is removed once the delete commits
        assert client.post(url, {"action": "image_delete", "image": a.pk}).status_code == 302
    assert gallery(product) == [b, c]
    assert [i.position for i in gallery(product)] == [0, 1]  # b is the new cover
    assert not stored.exists()  # the file goes with the row, and its renditions with it
    assert not [p for p in media.rglob(stored.stem + "_*") if p.is_file()]
    assert (media / b.image.name).is_file() and [p for p in media.rglob(media.joinpath(b.image.name).stem + "_*")]
    assert client.get("/api/v1/products/linen/").json()["image"].endswith(b.image.url)


def test_another_seller_gets_404_for_every_image_action(client, seller, product):
    (image,) = services.add_images(seller, product, [picture()])
    intruder = make_user("intruder@example.com", seller=True)
    own = make_product(intruder, slug="intruder-own")
    client.force_login(intruder)
    url = f"/seller/products/{product.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, product_form(product, images=[picture()])).status_code == 404
    for action in ("image_cover", "image_up", "image_down", "image_delete"):
        assert client.post(url, {"action": action, "image": image.pk}).status_code == 404
        # nor through one of their own products
        assert client.post(f"/seller/products/{own.pk}/", {"action": action, "image": image.pk}).status_code == 404
    assert gallery(product) == [image] and image.image.storage.exists(image.image.name)
    with pytest.raises(NotFound):
        services.add_images(intruder, product, [picture()])


def test_buyers_cannot_upload(client, buyer, product):
    client.force_login(buyer)
    response = client.post(f"/seller/products/{product.pk}/", product_form(product, images=[picture()]))
    assert response.status_code == 404
    assert gallery(product) == []


def test_product_lists_keep_their_query_count_with_images(client, seller, django_assert_num_queries):
    category = make_category()
    for i in range(5):
        services.add_images(seller, make_product(seller, category, slug=f"img-{i}"), [picture(), picture()])
    client.get("/healthz")
    with django_assert_num_queries(3):  # count, products, images
        results = client.get("/api/v1/products/").json()["results"]
    assert all(r["image"].startswith("http://testserver/media/products/") for r in results)
    client.force_login(seller)
    assert client.get("/seller/").content.decode().count('class="seller-thumb"') == 5
