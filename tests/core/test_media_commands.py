"""The operator's media steps (deploy/README.md, "Media"): `copymedia` carries a local media folder into
the configured storage; `makerenditions` brings pictures stored by older versions up to date and removes
stored files that were never pictures (issue #13 item 2's `pwn.js` lot uploads)."""

import io

import pytest
from django.core.management import call_command
from django.test import Client
from PIL import Image

from bidcart.auctions.models import LotImage
from bidcart.catalog.models import ProductImage
from tests.auctions.factories import make_lot
from tests.factories import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def put(root, name, content):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return name


def png(size=(1000, 500)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def test_copymedia_copies_the_pictures_of_a_local_folder_and_only_pictures(media, tmp_path, capsys):
    old = tmp_path / "old-site-media"
    put(old, "products/2025/01/a.jpg", b"jpeg bytes")
    put(old, "products/2025/01/a_list.webp", b"webp bytes")
    put(old, "lots/2025/01/pwn.js", b"alert(1)")
    put(media, "products/2025/01/a.jpg", b"already there")
    call_command("copymedia", str(old))
    assert (media / "products/2025/01/a_list.webp").read_bytes() == b"webp bytes"
    assert (media / "products/2025/01/a.jpg").read_bytes() == b"already there"  # not written twice
    assert not (media / "lots/2025/01/pwn.js").exists()
    out = capsys.readouterr()
    assert "1 file(s) copied, 1 already there, 1 not copied" in out.out
    assert "not a picture, not copied: lots/2025/01/pwn.js" in out.err


def test_makerenditions_re_encodes_old_pictures_and_removes_what_never_was_one(media):
    product = make_product()
    legacy = ProductImage.objects.create(product=product, image=put(media, "products/2025/01/front.png", png()))
    lot = make_lot()
    script = LotImage.objects.create(lot=lot, image=put(media, "lots/2025/01/pwn.js", b"alert(document.cookie)"))
    photo = LotImage.objects.create(lot=lot, image=put(media, "lots/2025/01/photo.png", png((300, 300))), position=1)

    call_command("makerenditions")

    legacy.refresh_from_db()
    assert (legacy.width, legacy.height) == (1000, 500)
    assert legacy.image.name.startswith("products/") and "front" not in legacy.image.name
    stem = legacy.image.name.rsplit(".", 1)[0]
    with Image.open(media / f"{stem}_detail.webp") as detail:
        assert detail.size == (800, 400)
    assert not (media / "products/2025/01/front.png").exists()
    assert not LotImage.objects.filter(pk=script.pk).exists() and not (media / "lots/2025/01/pwn.js").exists()
    photo.refresh_from_db()
    assert photo.width == 300
    page = Client().get(f"/auctions/{lot.pk}/").content.decode()
    assert "pwn.js" not in page and f"{photo.image.name.rsplit('.', 1)[0]}_detail.png" in page
    call_command("makerenditions")  # again: nothing left to do
    legacy.refresh_from_db()
    assert legacy.image.name.startswith(stem)
