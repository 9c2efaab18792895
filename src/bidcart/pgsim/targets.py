"""Where pgsim may send a browser (redirects, postMessage) or a webhook: one rule for both.

pgsim takes return and notice URLs from whoever opens a hosted page or calls its API with the
simulator's public test credentials. Followed blindly, they make it an open redirect on the shop's
origin (`redirectUrl=https://evil.example`) and a server-side request forgery tool (`noticeUrls=`
POSTs, signed with the shop's own webhook secret, to any address the server can reach). So a URL is
accepted only when its origin is one of:

- the origins of the configured webhook URLs (`PGSIM_*_WEBHOOK_URL`);
- the explicit allow-list `PGSIM_ALLOWED_ORIGINS` (comma-separated origins; `*` allows any origin, for
  a simulator run standalone in a test bed, and is refused when mounted in the shop);
- mounted in the shop: the shop's own origin (SITE_URL, or the request's own origin when its host is
  one the shop serves and its port the one the server listens on), given by `SimConfig.shop_origins`.
"""

from __future__ import annotations

from typing import Iterable
from urllib.parse import urlsplit

from starlette.types import Scope

from .config import SimConfig

ANY = "*"
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` in canonical form (lower case, default port left out), or None for a URL
    that is not absolute http(s) or carries credentials (`https://shop@evil.example`)."""
    try:
        parts = urlsplit(str(url).strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc or "\\" in str(url):
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def allowed_origins(config: SimConfig, scope: Scope | None = None) -> list[str]:
    """Every origin pgsim may redirect a browser to or deliver a webhook to, for this request."""
    configured: Iterable[str | None] = (
        config.iamport_webhook_url,
        config.portone_webhook_url,
        config.paypal_webhook_url,
    )
    origins = [o for o in (origin_of(u) for u in configured if u) if o]
    mounted = config.shop_origins is not None
    for entry in config.allowed_origins:
        if entry == ANY:
            if not mounted:
                origins.append(ANY)
        elif origin_of(entry):
            origins.append(origin_of(entry))
    if mounted and scope is not None:
        origins += [o for o in (origin_of(u) for u in config.shop_origins(scope)) if o]
    return list(dict.fromkeys(origins))


def is_allowed(url: str | None, config: SimConfig, scope: Scope | None = None) -> bool:
    origin = origin_of(url or "")
    if origin is None:
        return False
    origins = allowed_origins(config, scope)
    return ANY in origins or origin in origins


def refused(urls: Iterable[str | None], config: SimConfig, scope: Scope | None = None) -> list[str]:
    """The given URLs (blank ones skipped) pgsim must not follow."""
    return [u for u in urls if u and not is_allowed(u, config, scope)]
