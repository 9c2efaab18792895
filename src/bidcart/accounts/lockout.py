"""django-axes glue: which username a login tried, and what a locked-out caller sees."""

from django.shortcuts import render

from bidcart.core.errors import json_error


def attempted_username(request, credentials) -> str:
    """The admin form posts `username`, our login form and the token endpoint post `email`."""
    credentials = credentials or {}
    data = getattr(request, "data", None) or request.POST
    for source in (credentials, data):
        for field in ("email", "username"):
            value = source.get(field) if hasattr(source, "get") else None
            if value:
                return str(value).strip().lower()
    return ""


def lockout_response(request, credentials=None, *args, **kwargs):
    if request.path.startswith("/api/"):
        return json_error("locked_out", "Too many failed logins. Try again later.", 429)
    return render(request, "accounts/locked_out.html", status=429)
