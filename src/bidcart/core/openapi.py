"""The API's OpenAPI schema: drf-spectacular's, plus the error answers declared once for every operation.

Every error the API gives has one body (core/errors.py): `{"code", "detail", "errors"?}`. Which statuses an
operation can answer follows from what it is, so they are derived here rather than listed on each view:

- 400 when it takes a body or query parameters (invalid input);
- 401 and 403 when it authenticates (a missing, expired or bad token; a user who may not do this);
- 404 when it names an object in the path or pages a list (`?page=` past the end);
- 409 when it changes something (the domain refused it in the state it is in);
- 415 when it takes a body (sent in a media type it does not parse);
- 429 always (rate limits, login lockout).

A view still declares what is particular to it (a 502 from a payment provider, a 503 from the SMS gateway).
"""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

REASONS = {
    400: "Invalid input (`code` `invalid`, field problems in `errors`) or a refused value.",
    401: "Not authenticated: no credentials, or an expired or invalid token.",
    403: "Authenticated but not allowed to do this.",
    404: "No such object (or not yours), or no such page.",
    409: "The request conflicts with the object's current state.",
    415: "The body is in a media type this operation does not take (send JSON).",
    429: "Too many requests: wait and try again.",
    502: "The payment provider failed or did not answer.",
    503: "A service this needs (e.g. the SMS gateway) is unavailable.",
}


class FieldErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    code = serializers.CharField(help_text="Stable and machine-readable, e.g. `invalid`, `not_found`, `conflict`.")
    detail = serializers.CharField(help_text="For people.")
    errors = serializers.DictField(
        child=serializers.ListField(child=FieldErrorSerializer()),
        required=False,
        help_text="Field problems, by field name (`non_field_errors` for the body as a whole).",
    )


def error_responses(*codes: int) -> dict:
    """Error statuses particular to one view (for `extend_schema(responses=...)`), with the error body."""
    return {code: OpenApiResponse(ErrorSerializer, description=REASONS.get(code, "")) for code in codes}


def error_statuses(method: str, operation: dict, authenticates: bool) -> set[int]:
    located = {p["in"] for p in operation.get("parameters", [])}
    unsafe = method in UNSAFE_METHODS
    codes = {429}
    if unsafe or "query" in located:
        codes.add(400)
    if authenticates:
        codes |= {401, 403}
    if "path" in located or "query" in located:
        codes.add(404)
    if unsafe:
        codes.add(409)
    if "requestBody" in operation:
        codes.add(415)
    return codes


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        authenticates = bool(getattr(self.view, "authentication_classes", None))
        for code in sorted(error_statuses(self.method, operation, authenticates)):
            operation["responses"].setdefault(
                str(code), {"description": REASONS[code], "content": {"application/json": {"schema": error}}}
            )
        operation["responses"] = dict(sorted(operation["responses"].items()))
        return operation
