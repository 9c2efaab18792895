"""The product page's and the lot page's photo gallery in Chromium (issue #14 item 2): with an 800×800
PNG and a 1200×600 JPG the name, price, options and 장바구니 담기 keep a readable column, thumbnails switch
the main photo (WebP where the browser takes it), nothing is wider than a phone, and pictures have their
size before they load."""

import io
import os
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from bidcart.auctions import services as auction_services
from bidcart.catalog import services
from tests.factories import make_category, make_product, make_user

SHOTS = os.environ.get("GALLERY_SCREENSHOTS")  # a folder: save the screenshots there to look at them


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def photo(name, fmt, size, colour):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def two_photos():
    return [
        photo("square.png", "PNG", (800, 800), (40, 160, 90)),
        photo("wide.jpg", "JPEG", (1200, 600), (200, 90, 40)),
    ]


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def width_of(page, test_id) -> float:
    return page.get_by_test_id(test_id).first.bounding_box()["width"]


def right_edge(page, test_id) -> float:
    box = page.get_by_test_id(test_id).first.bounding_box()
    return box["x"] + box["width"]


def test_the_product_gallery_keeps_the_buy_column_readable_and_switches_photos(page, live_url):
    seller = make_user(seller=True)
    product = make_product(seller, make_category("의류", "clothes"), name="린넨 셔츠 오버핏", slug="linen", price=39000)
    square, wide = services.add_images(seller, product, two_photos())
    square_stem, wide_stem = (i.image.name.rsplit(".", 1)[0] for i in (square, wide))

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_url}/products/linen/")
    main = page.get_by_test_id("gallery-main-image")
    expect(main).to_have_attribute("src", f"/media/{square_stem}_detail.png")
    page.wait_for_function("document.querySelector('[data-testid=gallery-main-image]').complete")
    assert main.evaluate("img => img.currentSrc").endswith(f"/media/{square_stem}_detail.webp")  # WebP taken
    # the buy column stays readable beside the photos (it was squeezed to 60 px)
    assert width_of(page, "product-name") >= 400
    assert width_of(page, "add-to-cart") >= 80  # beside 바로구매, still a readable button
    assert width_of(page, "gallery-main") <= 560
    shot(page, "product-1280.png")

    page.get_by_test_id("gallery-thumb").nth(1).click()
    expect(main).to_have_attribute("src", f"/media/{wide_stem}_detail.jpg")
    expect(main).to_have_attribute("width", "800")
    expect(main).to_have_attribute("height", "400")
    expect(page.get_by_test_id("gallery-main")).to_have_attribute("href", f"/media/{wide_stem}_zoom.jpg")
    expect(page.get_by_test_id("gallery-thumb").nth(1)).to_have_attribute("aria-current", "true")
    page.wait_for_function("document.querySelector('[data-testid=gallery-main-image]').complete")
    assert main.evaluate("img => img.currentSrc").endswith(f"/media/{wide_stem}_detail.webp")
    # the main photo keeps its box: switching to a wide photo moves nothing below it
    assert (
        abs(
            page.get_by_test_id("gallery-main").bounding_box()["height"]
            - page.get_by_test_id("gallery-main").bounding_box()["width"]
        )
        < 2
    )

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_url}/products/linen/")
    expect(page.get_by_test_id("gallery-main-image")).to_be_visible()
    # the photos fit the phone's width (the page header is the layout's business, issue #14 item 1)
    assert right_edge(page, "gallery-main") <= 390 and right_edge(page, "gallery-thumb") <= 390
    assert right_edge(page, "add-to-cart") <= 390 and width_of(page, "add-to-cart") >= 80
    shot(page, "product-390.png")

    page.goto(f"{live_url}/products/")
    card_img = page.get_by_test_id("product-card").first.locator("img")
    expect(card_img).to_have_attribute("src", f"/media/{square_stem}_list.png")
    expect(card_img).to_have_attribute("loading", "lazy")
    shot(page, "products-390.png")

    # the zoom size is a picture the shop serves as one
    response = page.request.get(f"{live_url}/media/{wide_stem}_zoom.jpg")
    assert response.headers["content-type"] == "image/jpeg" and response.headers["x-content-type-options"] == "nosniff"


def test_the_lot_gallery_and_the_cards_show_sized_lazy_pictures(page, live_url):
    owner = make_user("lot.seller@example.com", seller=True, phone="+821012345678", phone_verified_at=timezone.now())
    now = timezone.now()
    lot = auction_services.create_lot(
        owner,
        title="라이카 M3",
        category=make_category("카메라", "cameras"),
        start_price=500000,
        ends_at=now + timedelta(hours=2),
        images=two_photos(),
    )
    first, second = lot.images.all()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_url}/auctions/")
    card_img = page.get_by_test_id("lot-card").first.locator("img")
    expect(card_img).to_have_attribute("loading", "lazy")
    expect(card_img).to_have_attribute("width", "400")
    shot(page, "lots-1280.png")

    page.goto(f"{live_url}/auctions/{lot.pk}/")
    main = page.get_by_test_id("gallery-main-image")
    expect(main).to_have_attribute("src", first.image.url.rsplit(".", 1)[0] + "_detail.png")
    page.get_by_test_id("gallery-thumb").nth(1).click()
    expect(main).to_have_attribute("src", second.image.url.rsplit(".", 1)[0] + "_detail.jpg")
    assert width_of(page, "gallery-main") <= 560
    shot(page, "lot-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(main).to_be_visible()
    assert right_edge(page, "gallery-main") <= 390
    shot(page, "lot-390.png")
