"""Request helpers shared by views, middleware and django-axes."""

from django.conf import settings


def client_ip(request) -> str:
    """The caller's IP. X-Forwarded-For is trusted only for as many hops as NUM_PROXIES says."""
    hops = getattr(settings, "NUM_PROXIES", 0)
    if hops:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
