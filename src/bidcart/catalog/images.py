"""Product image checks: what a seller uploads must really be a JPEG, PNG or WebP picture (Pillow reads
it; the file name and the browser's content type are not trusted), within a size and a dimension limit.

Limits are settings, with these defaults:
- `CATALOG_IMAGE_MAX_BYTES` (5 MB) per file;
- `CATALOG_IMAGE_MAX_SIDE` (6000 px) for the width and the height;
- `CATALOG_IMAGE_MAX_COUNT` (12) images per product.
"""

from __future__ import annotations

import warnings

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image
from rest_framework import status

from bidcart.core.errors import DomainError

# Pillow format name -> the extension the stored file gets (never the uploader's own)
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
ACCEPT = "image/jpeg,image/png,image/webp"


def max_bytes() -> int:
    return getattr(settings, "CATALOG_IMAGE_MAX_BYTES", 5 * 1024 * 1024)


def max_side() -> int:
    return getattr(settings, "CATALOG_IMAGE_MAX_SIDE", 6000)


def max_count() -> int:
    return getattr(settings, "CATALOG_IMAGE_MAX_COUNT", 12)


def _refuse(message: str, code: str) -> DomainError:
    return DomainError(message, code=code, status_code=status.HTTP_400_BAD_REQUEST)


def check(upload) -> str:
    """Check one uploaded file; return the extension to store it under. Raises DomainError (400)."""
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
