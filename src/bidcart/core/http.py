"""Request helpers shared by views, middleware and django-axes."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The caller's IP, or None when there is no valid one (a unix-socket peer, a garbled header): it is
    stored in IP columns, which PostgreSQL types strictly. X-Forwarded-For is trusted only for as many
    hops as NUM_PROXIES says."""
    candidate = request.META.get("REMOTE_ADDR", "")
    hops = getattr(settings, "NUM_PROXIES", 0)
    if hops:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
