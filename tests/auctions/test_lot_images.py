"""Lot pictures go through the same image service as product pictures (core/images.py): a seller listing
a lot at /auctions/new/ cannot store script, HTML or SVG under the shop's origin (issue #13 item 2), and
real pictures are re-encoded with their renditions, shown in the lot page's gallery and on its card."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from bidcart.auctions.models import Lot, LotImage
from tests.auctions.factories import make_category, seller

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media):
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def lot_form(category, **extra):
    return {
        "title": "Nikon F",
        "description": "Works.",
        "category": category.pk,
        "start_price": "50000",
        "duration": "60",
        "soft_close_seconds": "120",
        **extra,
    }


def jpeg(name="camera.jpg", size=(1200, 600)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


HOSTILE = [
    ("pwn.js", b"alert(document.cookie)", "application/javascript"),
    ("x.html", b"<html><script>alert(1)</script></html>", "text/html"),
    ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
    ("x.jpg", b"<script>alert(1)</script>", "image/jpeg"),  # the name and the browser's type are not trusted
]


@pytest.mark.parametrize("name,content,content_type", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_seller_cannot_list_a_lot_with_script_html_or_svg_as_its_image(name, content, content_type, media):
    client = Client()
    client.force_login(seller())
    category = make_category("Cameras", "cameras")
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = client.post("/auctions/new/", lot_form(category, images=[jpeg(), upload]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert f"{name} is not a JPEG, PNG or WebP image." in response.content.decode()
    assert not Lot.objects.exists()  # nothing listed
    assert stored_files(media) == []  # and nothing stored, not even the good picture beside it


def test_lot_images_have_the_product_images_size_limits(settings, media):
    settings.CATALOG_IMAGE_MAX_SIDE = 500
    client = Client()
    client.force_login(seller())
    response = client.post(
        "/auctions/new/", lot_form(make_category(), images=[jpeg("wide.jpg", (501, 10))]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "wide.jpg is 501×10 pixels" in response.content.decode()
    assert not Lot.objects.exists() and stored_files(media) == []


def test_a_lot_picture_is_re_encoded_with_renditions_and_shown_in_the_gallery(media):
    client = Client()
    client.force_login(seller())
    hidden = jpeg("camera.jpg").read() + b"<script>alert(1)</script>"  # a JPEG carrying a payload after its end
    upload = SimpleUploadedFile("camera.jpg", hidden, content_type="image/jpeg")
    response = client.post("/auctions/new/", lot_form(make_category(), images=[upload]))
    lot = Lot.objects.get()
    assert response.status_code == 302
    (image,) = LotImage.objects.filter(lot=lot)
    assert (image.width, image.height) == (1200, 600)
    stem = image.image.name.rsplit(".", 1)[0]
    assert image.image.name.startswith("lots/") and "camera" not in image.image.name
    files = {p.relative_to(media).as_posix() for p in stored_files(media)}
    assert files == {image.image.name} | {
        f"{stem}_{kind}.{ext}" for kind in ("list", "detail", "zoom") for ext in ("jpg", "webp")
    }
    assert all(b"<script>" not in (media / name).read_bytes() for name in files)  # never served as uploaded
    with Image.open(media / f"{stem}_detail.webp") as webp:
        assert (webp.format, webp.size) == ("WEBP", (800, 400))

    page = client.get(f"/auctions/{lot.pk}/").content.decode()
    assert f'<source type="image/webp" srcset="/media/{stem}_detail.webp">' in page
    assert f'src="/media/{stem}_detail.jpg" alt="Nikon F" width="800" height="400"' in page
    assert f'data-zoom="/media/{stem}_zoom.jpg"' not in page  # one picture: no thumbnails
    assert f'href="/media/{stem}_zoom.jpg"' in page
    (shown,) = client.get(f"/api/v1/lots/{lot.pk}/").json()["images"]
    assert shown["renditions"]["detail"] == {
        "url": f"/media/{stem}_detail.jpg",
        "webp": f"/media/{stem}_detail.webp",
        "width": 800,
        "height": 400,
    }
    card = client.get("/auctions/").content.decode()
    assert f'src="/media/{stem}_list.jpg" alt="Nikon F" width="400" height="200" loading="lazy"' in card
