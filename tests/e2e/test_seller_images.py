"""A seller uploads pictures of a product from the seller dashboard, makes another one the cover,
deletes one, and the store shows the cover first."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from bidcart.catalog.models import ProductImage
from tests.factories import PASSWORD, make_category, make_product, make_user


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def picture(name, fmt, colour):
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(buffer, fmt)
    return {"name": name, "mimeType": f"image/{fmt.lower()}", "buffer": buffer.getvalue()}


def test_seller_uploads_orders_and_deletes_product_images(page, live_url):
    seller = make_user("e2e.images@example.com", seller=True)
    product = make_product(seller, make_category("가방", "bags"), name="캔버스 토트백", slug="tote", price=29000)

    page.goto(f"{live_url}/accounts/login/")
    page.locator("input[name=email]").fill(seller.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-logout")).to_be_visible()

    page.goto(f"{live_url}/seller/")
    page.get_by_role("link", name="캔버스 토트백").click()
    expect(page.get_by_test_id("seller-image")).to_have_count(0)
    form = page.get_by_test_id("product-form")
    form.locator("input[name=images]").set_input_files(
        [
            picture("front.jpg", "JPEG", (200, 40, 40)),
            picture("side.png", "PNG", (40, 200, 40)),
            picture("back.webp", "WEBP", (40, 40, 200)),
        ]
    )
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("seller-image")).to_have_count(3)
    front, side, back = ProductImage.objects.filter(product=product).order_by("position")
    expect(page.get_by_test_id("seller-image").first).to_have_attribute("data-image", str(front.pk))

    # the last one becomes the cover
    page.locator(f"[data-image='{back.pk}']").get_by_role("button", name="대표 이미지로").click()
    expect(page.get_by_test_id("seller-image").first).to_have_attribute("data-image", str(back.pk))
    expect(page.get_by_test_id("seller-image").first.get_by_test_id("cover-badge")).to_be_visible()

    # a file that is not a picture is refused with a message, the gallery is unchanged
    page.get_by_test_id("product-form").locator("input[name=images]").set_input_files(
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"just some text"}
    )
    page.get_by_test_id("product-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("error-images")).to_contain_text("notes.jpg 파일은 JPEG, PNG, WebP 이미지가 아닙니다.")
    page.goto(f"{live_url}/seller/products/{product.pk}/")
    expect(page.get_by_test_id("seller-image")).to_have_count(3)

    page.locator(f"[data-image='{side.pk}']").get_by_test_id("delete-image").click()
    expect(page.get_by_test_id("seller-image")).to_have_count(2)
    assert [i.pk for i in ProductImage.objects.filter(product=product).order_by("position")] == [back.pk, front.pk]

    # the store shows the cover first: the main picture and two thumbnails
    page.goto(f"{live_url}/products/tote/")
    detail = back.image.url.rsplit(".", 1)[0] + "_detail.jpg"
    expect(page.get_by_test_id("gallery-main-image")).to_have_attribute("src", detail)
    expect(page.get_by_test_id("gallery-thumb")).to_have_count(2)
