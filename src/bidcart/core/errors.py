"""One error shape for the whole API: `{"code": "...", "detail": "...", "errors": {field: [...]}}`.

`code` is stable and machine-readable; `detail` is for people; `errors` lists field problems.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .domain import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    ProviderError,
    Throttled,
    TooLarge,
    Unavailable,
)

TOO_LARGE = "The request body is too large."


# Each kind of domain refusal and the HTTP status it is answered with: the one place they meet.
HTTP_STATUS = {
    Invalid: status.HTTP_400_BAD_REQUEST,
    NotAuthenticated: status.HTTP_401_UNAUTHORIZED,
    Forbidden: status.HTTP_403_FORBIDDEN,
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    TooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    Throttled: status.HTTP_429_TOO_MANY_REQUESTS,
    ProviderError: status.HTTP_502_BAD_GATEWAY,
    Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    DomainError: status.HTTP_409_CONFLICT,
}


def http_status(error: DomainError) -> int:
    """The HTTP status a domain refusal is answered with (the most specific kind in `HTTP_STATUS`)."""
    for kind in type(error).__mro__:
        if kind in HTTP_STATUS:
            return HTTP_STATUS[kind]
    return status.HTTP_409_CONFLICT


def field_errors(detail) -> dict:
    """A serializer's errors as `{field: [{code, message}]}`, the `errors` of the error body."""
    if isinstance(detail, dict):
        return {
            field: [{"code": getattr(e, "code", "invalid"), "message": str(e)} for e in _flatten(errs)]
            for field, errs in detail.items()
        }
    return {"non_field_errors": [{"code": getattr(e, "code", "invalid"), "message": str(e)} for e in _flatten(detail)]}


def _flatten(errs):
    if isinstance(errs, dict):
        for value in errs.values():
            yield from _flatten(value)
    elif isinstance(errs, (list, tuple)):
        for value in errs:
            yield from _flatten(value)
    else:
        yield errs


def error_headers(exc) -> dict | None:
    """Retry-After for a refusal that says how long to wait (rate limits, resend throttles)."""
    retry_after = getattr(exc, "retry_after", None)
    return {"Retry-After": str(retry_after)} if retry_after else None


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "detail": exc.detail}, status=http_status(exc), headers=error_headers(exc))
    # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE (or too many fields) when DRF reads it.
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"code": "request_too_large", "detail": TOO_LARGE}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return Response({"code": "too_many_fields", "detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    # Django's own 404 and permission errors get the same shape as DRF's.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": "invalid",
            "detail": "The request has invalid fields.",
            "errors": field_errors(exc.detail),
        }
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = {
            "code": code,
            "detail": str(exc.detail) if not isinstance(exc.detail, (dict, list)) else exc.default_detail,
        }
    return response


def json_error(code: str, detail: str, status_code: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status_code)
