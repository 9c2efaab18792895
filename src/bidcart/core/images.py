"""The one image service for every upload a shopper will see (product and lot pictures).

What a seller uploads is never stored or served as uploaded: Pillow must decode it as a JPEG, PNG or
WebP picture (the file name and the browser's content type are not trusted), within a size and a
dimension limit; then it is *re-encoded* (EXIF rotation applied, metadata and anything hidden in the
file dropped) under a random name with the extension of what it really is, together with fixed
renditions for the pages:

- `list` (cards, thumbnails), `detail` (the product page / lot page), `zoom` (the enlarged view),
  each as JPEG or PNG (what the stored picture is, `stored_extension`) *and* as WebP for browsers that take it
  (`<picture>`, see core/templatetags/pictures.py);
- a rendition is never larger than the picture, and its size is computed by `fit()` so a page can set
  `width`/`height` from the stored picture's size without opening any file.

Everything goes through Django's default storage: local files, or S3-compatible object storage
(settings "Media storage"), renditions included.

Limits are settings, with these defaults:
- `CATALOG_IMAGE_MAX_BYTES` (5 MB) per file;
- `CATALOG_IMAGE_MAX_SIDE` (6000 px) for the width and the height;
- `CATALOG_IMAGE_MAX_COUNT` (12) images per product (lots: `AUCTION_MAX_IMAGES`).
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from bidcart.core.domain import DomainError, Invalid

# Pillow format name -> the extension the stored file gets (never the uploader's own)
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
ACCEPT = "image/jpeg,image/png,image/webp"
# What media may be served as: anything else is a download, never HTML or script (core/media.py, nginx).
CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

# Longest side of each rendition, in pixels. The names are part of the stored file names.
RENDITIONS = {"list": 400, "detail": 800, "zoom": 1600}
JPEG_QUALITY = 85
WEBP_QUALITY = 80


def max_bytes() -> int:
    return getattr(settings, "CATALOG_IMAGE_MAX_BYTES", 5 * 1024 * 1024)


def max_side() -> int:
    return getattr(settings, "CATALOG_IMAGE_MAX_SIDE", 6000)


def max_count() -> int:
    return getattr(settings, "CATALOG_IMAGE_MAX_COUNT", 12)


def _refuse(message: str, code: str) -> DomainError:
    return Invalid(message, code=code)


def check(upload) -> str:
    """Check one uploaded file; return the extension to store it under. Raises Invalid."""
    name = getattr(upload, "name", "") or _("the file")
    if upload.size > max_bytes():
        raise _refuse(
            _("%(name)s is too large: an image may be at most %(limit)s MB.")
            % {"name": name, "limit": f"{max_bytes() / (1024 * 1024):g}"},
            "image_too_large",
        )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                kind, (width, height) = image.format, image.size
                image.verify()  # reads the whole file: a damaged or fake image fails here
    except Exception:  # Pillow raises many kinds (UnidentifiedImageError, SyntaxError, OSError, bombs...)
        kind = None
    finally:
        upload.seek(0)
    if kind not in FORMATS:
        raise _refuse(_("%(name)s is not a JPEG, PNG or WebP image.") % {"name": name}, "image_invalid")
    if width > max_side() or height > max_side():
        raise _refuse(
            _("%(name)s is %(width)d×%(height)d pixels: an image may be at most %(limit)d pixels on each side.")
            % {"name": name, "width": width, "height": height, "limit": max_side()},
            "image_too_big",
        )
    return FORMATS[kind]


def fit(width: int, height: int, longest: int) -> tuple[int, int]:
    """The size of a rendition: the picture scaled down (never up) so its longest side is `longest`."""
    if max(width, height) <= longest:
        return width, height
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def stored_extension(extension: str, has_alpha: bool) -> str:
    """The format a picture is stored in, and its renditions beside WebP: one every browser shows.
    JPEG and PNG stay what they are; a WebP upload becomes PNG if it has transparency, else JPEG."""
    if extension == "webp":
        return "png" if has_alpha else "jpg"
    return extension


def rendition_name(name: str, kind: str, extension: str) -> str:
    """products/2026/12/ab12….jpg + detail + webp -> products/2026/12/ab12…_detail.webp"""
    return f"{name.rsplit('.', 1)[0]}_{kind}.{extension}"


def rendition_names(name: str) -> list[str]:
    """Every file that may belong to a stored picture (for deleting it)."""
    extension = name.rsplit(".", 1)[-1]
    return [rendition_name(name, kind, ext) for kind in RENDITIONS for ext in (extension, "webp")]


@dataclass(frozen=True)
class Stored:
    name: str
    width: int
    height: int


def _encode(image: Image.Image, extension: str) -> bytes:
    buffer = io.BytesIO()
    if extension == "jpg":
        image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif extension == "png":
        image.save(buffer, "PNG", optimize=True)
    else:
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    return buffer.getvalue()


def _decode(upload) -> Image.Image:
    upload.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(upload) as opened:
            image = ImageOps.exif_transpose(opened)  # a copy, upright, the orientation tag applied
            image.load()
    upload.seek(0)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def store(upload, folder: str, extension: str | None = None) -> Stored:
    """Re-encode a checked upload and write it and its renditions to the default storage, under a new
    random name in `folder` (e.g. "products"). Call `check` first (it gives `extension`). On failure,
    whatever was written is removed again."""
    extension = extension or check(upload)
    image = _decode(upload)
    extension = stored_extension(extension, has_alpha=image.mode == "RGBA")
    now = timezone.now()
    name = f"{folder}/{now:%Y/%m}/{uuid.uuid4().hex}.{extension}"
    written: list[str] = []
    try:
        written.append(default_storage.save(name, ContentFile(_encode(image, extension))))
        name = written[0]
        for kind, longest in RENDITIONS.items():
            size = fit(*image.size, longest)
            scaled = image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)
            for ext in (extension, "webp"):
                target = rendition_name(name, kind, ext)
                saved = default_storage.save(target, ContentFile(_encode(scaled, ext)))
                written.append(saved)
                if saved != target:  # the storage renamed it: the page could not find it
                    raise RuntimeError(f"storage stored {target} as {saved}")
    except BaseException:
        delete(written)
        raise
    return Stored(name=name, width=image.size[0], height=image.size[1])


def delete(names) -> None:
    """Remove stored pictures' files (each name with its renditions); missing files are fine."""
    for name in names:
        for each in [name, *rendition_names(name)]:
            try:
                default_storage.delete(each)
            except Exception:  # a file already gone, or an object store hiccup: nothing to keep it for
                pass


@dataclass(frozen=True)
class Source:
    url: str
    width: int
    height: int


@dataclass(frozen=True)
class Picture:
    """What a page needs to show a stored picture at one rendition: the WebP and the JPEG/PNG URL,
    and the size to put in `width`/`height`."""

    src: str
    webp: str | None
    width: int | None
    height: int | None


def picture(file, width: int, height: int, kind: str) -> Picture:
    """The rendition `kind` of a stored picture (`file` is the model's FieldFile). Pictures stored before
    renditions existed (no size recorded) are shown as they are."""
    if not file:
        raise ValueError("no picture")
    if not width or not height or kind not in RENDITIONS:
        return Picture(src=file.url, webp=None, width=width or None, height=height or None)
    storage, name = file.storage, file.name
    w, h = fit(width, height, RENDITIONS[kind])
    return Picture(
        src=storage.url(rendition_name(name, kind, name.rsplit(".", 1)[-1])),
        webp=storage.url(rendition_name(name, kind, "webp")),
        width=w,
        height=h,
    )


def describe(image, absolute=lambda url: url) -> dict:
    """An API client's view of a stored picture (`image` is a ProductImage or LotImage): its size and every
    rendition's URLs and size, so an app picks the size it shows. Empty renditions for a picture stored
    before they existed. `absolute` turns a URL into an absolute one (request.build_absolute_uri)."""
    renditions = {}
    if image.width and image.height:
        for kind in RENDITIONS:
            shown = picture(image.image, image.width, image.height, kind)
            renditions[kind] = {
                "url": absolute(shown.src),
                "webp": absolute(shown.webp),
                "width": shown.width,
                "height": shown.height,
            }
    return {"width": image.width or None, "height": image.height or None, "renditions": renditions}
