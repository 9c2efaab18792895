"""The OpenAPI schema apps build on is valid and generates without a warning (a warning usually means an
endpoint documented wrongly: an unknown serializer, a colliding enum, a path parameter without a type)."""

from django.core.management import call_command


def test_openapi_schema_is_valid_without_warnings(tmp_path, db):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    assert "/api/v1/orders/{number}/payments/" in schema and "PaymentStatusEnum" in schema
