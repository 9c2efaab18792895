"""Media on S3-compatible object storage across machines (issue #16 item 2): a real S3 server (moto in
server mode), two bidcart web servers as separate processes with separate local folders. A seller uploads
a picture through one; the renditions land in the bucket (nothing on that server's disk); the other
server's product page links them straight to the store, which answers them as pictures."""

import html
import io
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import boto3
import httpx
import pytest
from django.test import Client
from PIL import Image

from bidcart.catalog.models import ProductImage
from tests.factories import make_category, make_product, make_user
from tests.livesrv import free_port

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "bidcart-media"


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.communicate()[0]
            pytest.fail(f"{what} did not start on port {port}:\n{output[-3000:]}")
        time.sleep(0.2)


@contextmanager
def running(args, env, port, what):
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, process, what)
        yield process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture
def s3_endpoint():
    """moto's S3 server from PyPI (moto[server]); the suite fails, never skips, if it cannot start."""
    port = free_port()
    with running([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], None, port, "moto (S3)"):
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        ).create_bucket(Bucket=BUCKET)
        yield endpoint


def bucket_keys(endpoint) -> set[str]:
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    return {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


@contextmanager
def web_server(subprocess_env, data_dir, storage_url):
    port = free_port()
    env = dict(
        subprocess_env,
        BIDCART_DATA_DIR=str(data_dir),
        MEDIA_STORAGE_URL=storage_url,
        DEBUG="0",
        SECURE_COOKIES="0",
        LOG_LEVEL="WARNING",
    )
    args = [sys.executable, "-m", "uvicorn", "bidcart.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    with running(args, env, port, "bidcart web server"):
        yield f"http://127.0.0.1:{port}"


def jpeg(size=(1200, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 90, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_picture_uploaded_through_one_server_is_served_by_the_other_from_object_storage(
    s3_endpoint, subprocess_env, tmp_path
):
    storage_url = f"s3://test:test@{BUCKET}?endpoint_url={s3_endpoint}&region_name=us-east-1&addressing_style=path"
    seller = make_user(seller=True)
    product = make_product(seller, make_category(), name="캔버스 토트백", slug="tote")
    session = Client()
    session.force_login(seller)  # a session row both servers read
    cookies = {"sessionid": session.cookies["sessionid"].value}

    with (
        web_server(subprocess_env, tmp_path / "one", storage_url) as one,
        web_server(subprocess_env, tmp_path / "two", storage_url) as two,
    ):
        with httpx.Client(base_url=one, cookies=cookies) as browser:
            form = browser.get(f"/seller/products/{product.pk}/")
            assert form.status_code == 200
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
            response = browser.post(
                f"/seller/products/{product.pk}/",
                data={
                    "csrfmiddlewaretoken": token,
                    "action": "product",
                    "name": product.name,
                    "category": product.category_id,
                    "base_price": product.base_price,
                    "brand": "",
                    "description": "",
                    "active": "on",
                },
                files={"images": ("tote.jpg", jpeg(), "image/jpeg")},
                headers={"Referer": f"{one}/seller/"},
            )
            assert response.status_code == 302, response.text[-2000:]

        (image,) = ProductImage.objects.filter(product=product)
        assert (image.width, image.height) == (1200, 600)
        stem = image.image.name.rsplit(".", 1)[0]
        expected = {image.image.name} | {f"{stem}_{k}.{e}" for k in ("list", "detail", "zoom") for e in ("jpg", "webp")}
        assert bucket_keys(s3_endpoint) == expected  # resized and stored in the bucket ...
        assert not [p for p in (tmp_path / "one").rglob("*") if "media" in p.parts and p.is_file()]  # ... not on disk

        page = httpx.get(f"{two}/products/tote/")
        assert page.status_code == 200
        assert s3_endpoint in page.headers["Content-Security-Policy"].split("img-src", 1)[1].split(";", 1)[0]
        sources = {html.unescape(u) for u in re.findall(r'(?:src|srcset)="([^"]+)"', page.text)}
        detail = next(u for u in sources if f"/{BUCKET}/{stem}_detail.jpg" in u)
        webp = next(u for u in sources if f"/{BUCKET}/{stem}_detail.webp" in u)
        assert detail.startswith(s3_endpoint) and webp.startswith(s3_endpoint)
        for url, content_type, fmt in [(detail, "image/jpeg", "JPEG"), (webp, "image/webp", "WEBP")]:
            served = httpx.get(url)
            assert served.status_code == 200
            assert served.headers["content-type"] == content_type
            assert "immutable" in served.headers["cache-control"]
            with Image.open(io.BytesIO(served.content)) as picture:
                assert (picture.format, picture.size) == (fmt, (800, 400))
        assert httpx.get(f"{two}/media/{image.image.name}").status_code == 404  # not from the server's disk


def test_copymedia_carries_a_local_sites_pictures_into_the_bucket(s3_endpoint, subprocess_env, tmp_path):
    """Moving a site that used local files onto object storage (deploy/README.md, "Media")."""
    old = tmp_path / "old-media"
    (old / "products/2025/01").mkdir(parents=True)
    (old / "products/2025/01/a.jpg").write_bytes(jpeg((40, 20)))
    (old / "lots/2025/01").mkdir(parents=True)
    (old / "lots/2025/01/pwn.js").write_bytes(b"alert(1)")
    storage_url = f"s3://test:test@{BUCKET}?endpoint_url={s3_endpoint}&region_name=us-east-1&addressing_style=path"
    env = dict(
        subprocess_env,
        MEDIA_STORAGE_URL=storage_url,
        BIDCART_DATA_DIR=str(tmp_path / "new"),
        DJANGO_SETTINGS_MODULE="bidcart.settings",
    )
    done = subprocess.run(
        [sys.executable, "-m", "django", "copymedia", str(old)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "1 file(s) copied" in done.stdout and "pwn.js" in done.stderr
    assert bucket_keys(s3_endpoint) == {"products/2025/01/a.jpg"}
    stored = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    ).get_object(Bucket=BUCKET, Key="products/2025/01/a.jpg")
    assert stored["ContentType"] == "image/jpeg" and "immutable" in stored["CacheControl"]
    assert stored["Body"].read() == (old / "products/2025/01/a.jpg").read_bytes()
