"""Contract checks: a request or an answer against the provider's own published spec (tests/data/specs).

`check(provider, method, url, status, request, response)` finds the operation in the provider's spec files
by method and path, and validates the request body against its request schema and the answer against the
schema of the answer's status, with `jsonschema` (Draft 4: the dialect of OpenAPI 3.0 and Swagger 2.0
schemas, `nullable` / `x-nullable` turned into a null type). It answers a list of readable problems;
an empty list means the exchange is what the spec allows.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

SPECS = Path(__file__).parent / "data" / "specs"
# pgsim's base path of each provider -> the spec files that describe it
FILES = {
    "portone": ["portone-v2.openapi.json", "portone-v2-billing.openapi.json"],
    "iamport": ["portone-v1.swagger.json", "portone-v1-subscribe.swagger.json"],
    "paypal": [
        "paypal-checkout_orders_v2.json",
        "paypal-payments_payment_v2.json",
        "paypal-notifications_webhooks_v1.json",
        "paypal-vault_payment_tokens_v3.json",
    ],
}


NUMBERS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")


def _nullable(node: Any) -> Any:
    """OpenAPI's dialect as plain JSON Schema: `nullable` as a null type, numbers written as strings
    ("maxLength": "127" in PayPal's files) as numbers, and a `discriminator` as what it means: the
    variant is the one its mapping names for the property's value (without it, PortOne's error and
    payment unions match several variants at once)."""
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if (node.get("nullable") is True or node.get("x-nullable") is True) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        for key in NUMBERS:
            if isinstance(node.get(key), str) and node[key].lstrip("-").isdigit():
                node[key] = int(node[key])
        discriminator = node.get("discriminator")
        if isinstance(discriminator, dict) and discriminator.get("mapping") and ("oneOf" in node or "anyOf" in node):
            prop = discriminator["propertyName"]
            node.pop("anyOf", None)
            node["oneOf"] = [
                {"allOf": [{"$ref": ref}, {"properties": {prop: {"enum": [value]}}, "required": [prop]}]}
                for value, ref in discriminator["mapping"].items()
            ]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


# Where a published file contradicts the provider's documented, observed behaviour, the correction is
# listed here (one line each, with the reason) instead of loosening the check everywhere.
ERRATA = {
    # The prepare object is {merchant_uid, amount, currency}; its `required` lists the pagination fields
    # of PaymentList (total/previous/next), copied by mistake upstream.
    ("portone-v1.swagger.json", "PaymentPrepareAnnotation"): lambda schema: schema.pop("required", None),
    # Vaulting a setup token is `payment_source.token.type: "SETUP_TOKEN"` in PayPal's "Save payment methods"
    # guides and SDKs; the published enum still lists only BILLING_AGREEMENT (the older migration path).
    ("paypal-vault_payment_tokens_v3.json", "token_id_request"): lambda schema: schema["properties"]["type"][
        "enum"
    ].append("SETUP_TOKEN"),
}


def _swagger_nulls(node: Any) -> Any:
    """Swagger 2.0 cannot say a field may be null, and PortOne V1 answers null for every field that does
    not apply (`"message": null` on success, the card fields of a bank transfer): an optional property
    may be null; a required one may not."""
    if isinstance(node, dict):
        node = {k: _swagger_nulls(v) for k, v in node.items()}
        if isinstance(node.get("properties"), dict):
            required = set(node.get("required") or [])
            node["properties"] = {
                k: v if k in required else {"anyOf": [v, {"type": "null"}]} for k, v in node["properties"].items()
            }
        return node
    if isinstance(node, list):
        return [_swagger_nulls(v) for v in node]
    return node


def _customer_answer(path: dict) -> None:
    for op in path.values():
        op["responses"]["200"]["schema"] = {"$ref": "#/definitions/CustomerResponse"}


# The same, for an operation's own text (file, path template) -> fix of its path item.
PATH_ERRATA = {
    # The 200 answer's schema lists the two kinds of key answer as *properties* of one object
    # ({"CustomerResponse": ..., "SuperBillingKeyResponse": ...}), which any object satisfies; the
    # documented answer for a plain billing key is the CustomerResponse envelope itself.
    ("portone-v1-subscribe.swagger.json", "/subscribe/customers/{customer_uid}"): _customer_answer,
}


@cache
def spec(name: str) -> dict:
    doc = json.loads((SPECS / name).read_text(encoding="utf-8"))
    for (file, definition), fix in ERRATA.items():
        if file == name:
            fix(doc.get("definitions", doc.get("components", {}).get("schemas", {}))[definition])
    for (file, template), fix in PATH_ERRATA.items():
        if file == name:
            fix(doc["paths"][template])
    doc = _nullable(doc)
    return _swagger_nulls(doc) if "swagger" in doc else doc


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def operation(provider: str, method: str, path: str) -> tuple[str, str] | None:
    """(spec file, path template) of the operation serving `method path` (path below the provider's base)."""
    segments = path.strip("/").split("/")
    best = None
    for name in FILES.get(provider, []):
        for template, ops in spec(name)["paths"].items():
            parts = template.strip("/").split("/")
            if method.lower() not in ops:
                continue
            # A trailing path parameter the spec marks not required may be left out
            # (V1's /payments/find/{merchant_uid}/{payment_status}: "지정하지 않으면 모든 상태").
            optional = {
                f"{{{p['name']}}}"
                for p in ops[method.lower()].get("parameters", [])
                if p.get("in") == "path" and p.get("required") is False
            }
            while len(parts) > len(segments) and parts[-1] in optional:
                parts = parts[:-1]
            if len(parts) != len(segments):
                continue
            if all(p == s or (p.startswith("{") and p.endswith("}")) for p, s in zip(parts, segments)):
                params = sum(p.startswith("{") for p in parts)
                if best is None or params < best[0]:
                    best = (params, name, template)
    return (best[1], best[2]) if best else None


def _validate(name: str, pointer: str, instance: Any) -> list[str]:
    root = dict(spec(name))
    root["$ref"] = "#" + pointer
    validator = jsonschema.Draft4Validator(root)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in validator.iter_errors(instance)
    ]


def _node(doc: dict, pointer: str) -> tuple[Any, str]:
    """The node at a JSON pointer, following `$ref`s; with the pointer it was finally found at."""
    node = doc
    for key in pointer.strip("/").split("/"):
        node = node[key.replace("~1", "/").replace("~0", "~")]
    if isinstance(node, dict) and "$ref" in node:
        return _node(doc, node["$ref"].lstrip("#"))
    return node, pointer


def request_problems(name: str, template: str, method: str, body: Any) -> list[str]:
    doc = spec(name)
    op = doc["paths"][template][method.lower()]
    base = f"/paths/{_escape(template)}/{method.lower()}"
    if "requestBody" in op:
        request_body, where = _node(doc, f"{base}/requestBody")
        if body is None:
            return ["missing request body"] if request_body.get("required") else []
        if "application/json" in request_body.get("content", {}):
            return _validate(name, f"{where}/content/application~1json/schema", body)
        return []
    params = op.get("parameters", [])
    for i, param in enumerate(params):
        if param.get("in") == "body":
            return _validate(name, f"{base}/parameters/{i}/schema", body if body is not None else {})
    form = [p for p in params if p.get("in") == "formData"]
    if form and isinstance(body, dict):  # Swagger 2.0 form fields: one object schema of them
        schema = {
            "type": "object",
            "required": [p["name"] for p in form if p.get("required")],
            "properties": {
                p["name"]: {k: v for k, v in p.items() if k in ("type", "enum", "items", "format")} for p in form
            },
            "definitions": spec(name).get("definitions", {}),
        }  # fields may $ref them (schedules)
        coerced = {k: _coerce(v, schema["properties"].get(k, {})) for k, v in body.items()}
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in jsonschema.Draft4Validator(schema).iter_errors(coerced)
        ]
    return []


def _coerce(value: Any, schema: dict) -> Any:
    """Form fields travel as text; compare them with the type the spec gives the field."""
    kind = schema.get("type")
    if isinstance(value, str):
        try:
            if kind == "integer":
                return int(value)
            if kind == "number":
                return float(value)
        except ValueError:
            return value
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    return value


def response_problems(name: str, template: str, method: str, status: int, body: Any) -> list[str]:
    doc = spec(name)
    responses = doc["paths"][template][method.lower()]["responses"]
    key = str(status) if str(status) in responses else ("default" if "default" in responses else None)
    if key is None:
        return [f"status {status} is not among the documented answers {sorted(responses)}"]
    answer, base = _node(doc, f"/paths/{_escape(template)}/{method.lower()}/responses/{key}")
    if "content" in answer:  # OpenAPI 3
        if "application/json" not in answer["content"]:
            return []
        return _validate(name, f"{base}/content/application~1json/schema", body)
    if "schema" in answer:  # Swagger 2.0
        return _validate(name, f"{base}/schema", body)
    return []


def check(base: str, method: str, url: str, status: int | None, request: Any, response: Any) -> list[str]:
    """Problems with one call to pgsim at `base` (`.../pgsim/<provider>`): request and answer."""
    provider = base.rstrip("/").rsplit("/", 1)[-1]
    path = urlsplit(url).path[len(urlsplit(base).path.rstrip("/")) :]
    found = operation(provider, method, path)
    if found is None:
        return [f"{method} {path}: not in {FILES.get(provider) or 'any spec'}"]
    name, template = found
    problems = [f"request: {p}" for p in request_problems(name, template, method, request)]
    if status is not None:
        problems += [
            f"answer {status}: {p}" for p in response_problems(name, template, method, status, copy.deepcopy(response))
        ]
    return [f"{method} {template} ({name}) {p}" for p in problems]
