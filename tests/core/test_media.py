"""Uploaded media as a browser gets them from bidcart itself (no nginx, DEBUG off): pictures with their
own image type, anything else as an opaque download, never HTML or script in the shop's origin; and the
storage configuration read from MEDIA_STORAGE_URL / AWS_* (core/storage.py)."""

import environ
import pytest
from django.test import Client
from PIL import Image

from bidcart.catalog import services
from tests.factories import make_product, make_user, picture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_pictures_are_served_with_their_type_nosniff_and_long_caching(settings, media):
    assert settings.DEBUG is False
    seller = make_user(seller=True)
    (image,) = services.add_images(seller, make_product(seller), [picture("a.png", "PNG", size=(800, 800))])
    stem = image.image.name.rsplit(".", 1)[0]
    for name, content_type in [
        (image.image.name, "image/png"),
        (f"{stem}_list.png", "image/png"),
        (f"{stem}_detail.webp", "image/webp"),
    ]:
        response = Client().get(f"/media/{name}")
        assert response.status_code == 200, name
        assert response["Content-Type"] == content_type
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("inline")
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert "immutable" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == (media / name).read_bytes()


@pytest.mark.parametrize("name", ["lots/2026/12/pwn.js", "lots/2026/12/x.html", "lots/2026/12/x.svg", "lots/noext"])
def test_anything_else_in_the_media_folder_is_a_download_never_script_or_html(media, name):
    """Files an older version stored under the uploader's name (issue #13 item 2) stay harmless."""
    path = media / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"<script>alert(document.cookie)</script>")
    response = Client().get(f"/media/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize(
    "path", ["/media/../settings.py", "/media/%2e%2e/secret_key", "/media/lots/", "/media/missing.jpg"]
)
def test_nothing_outside_the_media_folder_or_missing_is_served(path, media, tmp_path):
    (tmp_path / "secret_key").write_text("s3cret")
    media.mkdir(parents=True, exist_ok=True)
    (media / "lots").mkdir()
    response = Client().get(path)
    assert response.status_code == 404
    assert b"s3cret" not in response.content


def test_a_product_page_with_a_square_png_and_a_wide_jpeg_sets_every_pictures_size(client, media):
    """The issue's case: 800×800 PNG + 1200×600 JPG. Every <img> carries the size of the file it loads."""
    seller = make_user(seller=True)
    product = make_product(seller, name="린넨 셔츠", slug="linen")
    square, wide = services.add_images(
        seller,
        product,
        [
            picture("a.png", "PNG", size=(800, 800)),
            picture("b.jpg", "JPEG", size=(1200, 600)),
        ],
    )
    page = client.get("/products/linen/").content.decode()
    for image, kind, (w, h), ext in [
        (square, "detail", (800, 800), "png"),
        (square, "list", (400, 400), "png"),
        (wide, "list", (400, 200), "jpg"),
    ]:
        stem = image.image.name.rsplit(".", 1)[0]
        assert f'src="/media/{stem}_{kind}.{ext}"' in page
        with Image.open(media / f"{stem}_{kind}.{ext}") as stored, Image.open(media / f"{stem}_{kind}.webp") as webp:
            assert stored.size == webp.size == (w, h)
        assert f'width="{w}" height="{h}"' in page
    stem = wide.image.name.rsplit(".", 1)[0]
    assert (
        f'data-src="/media/{stem}_detail.jpg" data-webp="/media/{stem}_detail.webp" data-width="800" data-height="400"'
        in page
    )
    with Image.open(media / f"{stem}_zoom.jpg") as zoom:
        assert zoom.size == (1200, 600)  # never enlarged
    assert page.count('loading="lazy"') == 2  # the thumbnails; the main picture loads at once
    assert 'aria-label="사진 2/2"' in page and 'title="큰 사진 보기"' in page  # the shopper's language


def config(monkeypatch, tmp_path, **variables):
    from bidcart.core import storage

    for name in (
        "MEDIA_STORAGE_URL",
        "AWS_STORAGE_BUCKET_NAME",
        "AWS_S3_ENDPOINT_URL",
        "AWS_S3_REGION_NAME",
        "AWS_S3_CUSTOM_DOMAIN",
        "AWS_LOCATION",
        "AWS_QUERYSTRING_AUTH",
        "AWS_S3_ADDRESSING_STYLE",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return storage.from_environ(environ.Env(), tmp_path)


def test_local_files_by_default_served_by_bidcart(monkeypatch, tmp_path):
    media = config(monkeypatch, tmp_path)
    assert media.storage == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert (media.url, media.root, media.serve_locally, media.origins) == ("/media/", tmp_path / "media", True, [])


def test_an_s3_compatible_store_from_media_storage_url(monkeypatch, tmp_path):
    media = config(
        monkeypatch,
        tmp_path,
        MEDIA_STORAGE_URL=(
            "s3://AKIA:se%2Fcret@bidcart-media/shop?endpoint_url=https://kr.object.ncloudstorage.com"
            "&region_name=kr-standard&querystring_auth=0&addressing_style=path"
        ),
    )
    options = media.storage["OPTIONS"]
    assert media.storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == "bidcart-media" and options["location"] == "shop"
    assert (options["access_key"], options["secret_key"]) == ("AKIA", "se/cret")
    assert options["endpoint_url"] == "https://kr.object.ncloudstorage.com" and options["region_name"] == "kr-standard"
    assert options["querystring_auth"] is False and options["addressing_style"] == "path"
    assert options["object_parameters"]["CacheControl"] == "public, max-age=31536000, immutable"
    assert media.serve_locally is False and media.root == tmp_path / "media"
    assert media.url == "https://kr.object.ncloudstorage.com/bidcart-media/shop/"
    assert "https://kr.object.ncloudstorage.com" in media.origins


def test_the_usual_aws_variables_and_a_cdn_domain(monkeypatch, tmp_path):
    media = config(
        monkeypatch,
        tmp_path,
        AWS_STORAGE_BUCKET_NAME="shop-media",
        AWS_S3_REGION_NAME="ap-northeast-2",
        AWS_S3_CUSTOM_DOMAIN="img.example.com",
    )
    assert media.storage["OPTIONS"]["bucket_name"] == "shop-media"
    assert media.url == "https://img.example.com/" and media.origins == ["https://img.example.com"]
    plain = config(monkeypatch, tmp_path, AWS_STORAGE_BUCKET_NAME="shop-media", AWS_S3_REGION_NAME="ap-northeast-2")
    assert "https://shop-media.s3.ap-northeast-2.amazonaws.com" in plain.origins


def test_a_storage_url_it_cannot_use_is_refused(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="unsupported scheme"):
        config(monkeypatch, tmp_path, MEDIA_STORAGE_URL="ftp://host/media")
    with pytest.raises(ValueError, match="bucket name"):
        config(monkeypatch, tmp_path, MEDIA_STORAGE_URL="s3:///prefix")


def test_a_picture_is_stored_upright_and_without_its_metadata(media):
    """Phones write the camera's position (GPS) and the rotation into EXIF: the stored picture keeps neither,
    it is turned upright instead."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x010F] = "SecretCam"  # make
    buffer = io.BytesIO()
    Image.new("RGB", (120, 60), (10, 20, 30)).save(buffer, "JPEG", exif=exif)
    seller = make_user(seller=True)
    (image,) = services.add_images(seller, make_product(seller), [SimpleUploadedFile("p.jpg", buffer.getvalue())])
    assert (image.width, image.height) == (60, 120)  # upright
    with Image.open(media / image.image.name) as stored:
        assert stored.size == (60, 120)
        assert not stored.getexif()
    assert b"SecretCam" not in (media / image.image.name).read_bytes()


def test_a_storage_failure_half_way_leaves_no_files_and_no_rows(media, monkeypatch):
    from django.core.files.storage import default_storage

    from bidcart.catalog.models import ProductImage

    seller = make_user(seller=True)
    product = make_product(seller)
    real_save, calls = default_storage.save, []

    def failing_save(name, content, **kwargs):
        calls.append(name)
        if len(calls) == 9:  # the second picture's renditions
            raise OSError("disk full")
        return real_save(name, content, **kwargs)

    monkeypatch.setattr(default_storage, "save", failing_save)
    with pytest.raises(OSError):
        services.add_images(seller, product, [picture("a.png", "PNG"), picture("b.jpg")])
    assert not ProductImage.objects.exists()
    assert not [p for p in media.rglob("*") if p.is_file()]
