"""API permissions shared by apps."""

from __future__ import annotations

from rest_framework.authentication import CSRFCheck
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission


def _csrf_failure(request) -> str | None:
    """Django's CSRF check on the underlying request: the reason it fails, or None."""

    def get_response(_request):  # pragma: no cover - only called when the check passes
        return None

    check = CSRFCheck(get_response)  # DRF's: its rejection returns the reason instead of a 403 page
    check.process_request(request)
    return check.process_view(request, None, (), {})


class AnyoneWithCsrf(BasePermission):
    """Anyone may call it, but a write that rides on the session cookie must carry the CSRF token.

    DRF checks CSRF only for a *logged-in* session, so an anonymous visitor's session state (the cart) could
    be changed by a form on any other site. Here every unsafe request without a bearer token is checked
    (`X-CSRFToken` header or `csrfmiddlewaretoken` field, as Django's own forms do); token clients carry no
    cookie a page could ride on, so they need none."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS or request.auth is not None:  # a bearer token authenticated it
            return True
        reason = _csrf_failure(request._request)
        if reason:
            raise PermissionDenied(f"CSRF failed: {reason}", code="csrf_failed")
        return True
