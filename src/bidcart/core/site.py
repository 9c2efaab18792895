"""Absolute URLs of this site, for what leaves it without a request at hand: emails, provider return and
webhook addresses, the mounted simulator's address, live-room links sent from a sweep. The one place
that reads SITE_URL to build a URL."""

from django.conf import settings


def root(base: str = "") -> str:
    """This site's scheme and host, without a trailing slash: SITE_URL, else `base` (a request's own
    scheme and host), else "" (not known here)."""
    return (settings.SITE_URL or base).rstrip("/")


def absolute_url(path: str, *, base: str = "") -> str:
    """`path` on this site: under SITE_URL, else under `base` (a request's own scheme and host), else the
    bare path (a relative link is better than a wrong host)."""
    return f"{root(base)}{path}"
