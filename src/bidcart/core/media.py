"""Local uploads served by bidcart itself (`bidcart serve` on one machine; nginx does the same in
deploy/nginx.conf). Only what core/images.py stores is shown as a picture, with its own content type;
anything else that may sit in the folder (a file from an older version, a name someone guessed) is a
download of opaque bytes: never HTML, SVG or script in the shop's origin.

Every answer carries `X-Content-Type-Options: nosniff` (the browser must not guess another type), a
Content-Security-Policy of its own that forbids everything (`sandbox` too, should a browser still try to
render it as a document) and, since stored names are random and never rewritten, a year of caching."""

from __future__ import annotations

import posixpath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from .images import CONTENT_TYPES
from .storage import CACHE_CONTROL

MEDIA_CSP = "default-src 'none'; sandbox"


@require_safe
def serve(request, path: str):
    try:
        handle = default_storage.open(path, "rb")
    except (SuspiciousFileOperation, OSError, ValueError):  # outside MEDIA_ROOT, missing, a folder
        raise Http404 from None
    name = posixpath.basename(path)
    content_type = CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None
    response = FileResponse(
        handle,
        content_type=content_type or "application/octet-stream",
        as_attachment=content_type is None,
        filename=name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    response["Cache-Control"] = CACHE_CONTROL if content_type else "no-store"
    return response
