"""The OpenAPI schema's own judgement of one answer, for focused tests: `assert_documented(response, "GET",
"/api/v1/categories/")` fails unless the status is declared for that operation, a body is declared if there is
one, and it matches the declared schema (schemathesis' response checks, the same ones
tests/services/test_api_schemathesis.py runs)."""

from __future__ import annotations

import functools
import json

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer


@functools.cache
def schema():
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(generated)))


def assert_documented(response, method: str, path: str) -> None:
    """`response` is a Django test client's; `path` is the schema's template, e.g. `/api/v1/lots/{id}/bids/`."""
    operation = schema()[path][method.upper()]
    declared = operation.definition.raw["responses"]
    assert str(response.status_code) in declared, (
        f"{response.status_code} is not declared for {method} {path}: {sorted(declared)}"
    )
    if response.content:
        assert "content" in declared[str(response.status_code)], (
            f"{method} {path} answers a body its schema does not declare"
        )
    answer = schemathesis.Response(
        status_code=response.status_code,
        headers={name: [value] for name, value in response.headers.items()},
        content=response.content,
        request=requests.Request(method.upper(), f"http://testserver{path}").prepare(),
        elapsed=0.0,
        verify=True,
    )
    operation.validate_response(answer)
