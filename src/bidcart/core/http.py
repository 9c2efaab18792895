"""Request helpers shared by views, middleware and django-axes."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The caller's IP, or None when there is no valid one (a unix-socket peer, a garbled header): it is
    stored in IP columns, which PostgreSQL types strictly. X-Forwarded-For is trusted only for as many
    hops as NUM_PROXIES says."""
    return _client_ip(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def scope_client_ip(scope) -> str | None:
    """The same for a WebSocket (an ASGI scope)."""
    headers = dict(scope.get("headers") or [])
    return _client_ip((scope.get("client") or [""])[0] or "", headers.get(b"x-forwarded-for", b"").decode("latin-1"))


def _client_ip(remote: str, forwarded_for: str) -> str | None:
    candidate = remote
    hops = getattr(settings, "NUM_PROXIES", 0)
    if hops:
        forwarded = [p.strip() for p in forwarded_for.split(",") if p.strip()]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
