"""One error shape for the whole API: `{"code": "...", "detail": "...", "errors": {field: [...]}}`.

`code` is stable and machine-readable; `detail` is for people; `errors` lists field problems.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


TOO_LARGE = "The request body is too large."


class DomainError(Exception):
    """A rule of the domain refused the request: answered as `status` with `code` and `detail`."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"

    def __init__(self, detail: str, *, code: str | None = None, status_code: int | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code


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
        return Response({"code": exc.code, "detail": exc.detail}, status=exc.status_code, headers=error_headers(exc))
    # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE (or too many fields) when DRF reads it.
    if isinstance(exc, RequestDataTooBig):
        return Response({"code": "request_too_large", "detail": TOO_LARGE}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
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
        response.data = {"code": "invalid", "detail": "The request has invalid fields.", "errors": field_errors(exc.detail)}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = {"code": code, "detail": str(exc.detail) if not isinstance(exc.detail, (dict, list)) else exc.default_detail}
    return response


def json_error(code: str, detail: str, status_code: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status_code)
