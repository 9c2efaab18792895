"""Absolute URLs of this site, for what leaves it without a request at hand: emails, provider return and
webhook addresses, live-room links sent from a sweep."""

from django.conf import settings


def absolute_url(path: str, *, base: str = "") -> str:
    """`path` on this site: under SITE_URL, else under `base` (a request's own scheme and host), else the
    bare path (a relative link is better than a wrong host)."""
    site = (settings.SITE_URL or base).rstrip("/")
    return f"{site}{path}"
