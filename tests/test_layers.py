"""Where rules live, checked on the import graph (docs/ARCHITECTURE.md).

- HTTP stays at the edge: services, selectors, models and helpers raise the kinds of refusal in
  `bidcart.core.domain`; only transport modules (pages, the API, its filters and serializers, middleware,
  the WebSocket's handshake) import Django's HTTP layer or DRF, and `core.errors` maps kinds to statuses.
- Reviews build on the catalog, never the other way round (catalog/page_parts.py says why).
"""

from __future__ import annotations

import ast
from pathlib import Path

import bidcart
from bidcart.core import domain
from bidcart.core.errors import http_status

SRC = Path(bidcart.__file__).parent

# The transport edge: modules whose job is HTTP (or the WebSocket's handshake).
EDGE = {
    "api",
    "methods_api",
    "views",
    "filters",
    "serializers",
    "permissions",
    "pagination",
    "parsers",
    "errors",
    "middleware",
    "media",
    "openapi",
    "wsauth",
    "honeypot",
    "jwt",
    "settings",
    "asgi",
}
HTTP_PACKAGES = ("rest_framework", "django.http")
APPS = ("accounts", "auctions", "cart", "catalog", "orders", "reviews", "payments", "core")


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:  # relative: resolve against the file's package
                package = path.relative_to(SRC.parent).with_suffix("").parts[: -node.level]
                names.add(".".join((*package, node.module)))
            else:
                names.add(node.module)
    return names


def modules(*apps: str) -> list[Path]:
    return [p for app in apps for p in sorted((SRC / app).rglob("*.py")) if "migrations" not in p.parts]


def test_only_transport_modules_import_django_http_or_drf():
    offenders = {
        str(path.relative_to(SRC)): sorted(n for n in imported(path) if n.startswith(HTTP_PACKAGES))
        for path in modules(*APPS)
        if path.stem not in EDGE
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_catalog_imports_nothing_from_reviews():
    offenders = {
        str(p.relative_to(SRC)): sorted(n for n in imported(p) if n.startswith("bidcart.reviews"))
        for p in modules("catalog")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_each_kind_of_refusal_is_answered_with_its_own_status():
    statuses = {
        kind.__name__: http_status(kind("refused"))
        for kind in (
            domain.Invalid,
            domain.NotAuthenticated,
            domain.Forbidden,
            domain.NotFound,
            domain.Conflict,
            domain.TooLarge,
            domain.Throttled,
            domain.ProviderError,
            domain.Unavailable,
        )
    }
    assert statuses == {
        "Invalid": 400,
        "NotAuthenticated": 401,
        "Forbidden": 403,
        "NotFound": 404,
        "Conflict": 409,
        "TooLarge": 413,
        "Throttled": 429,
        "ProviderError": 502,
        "Unavailable": 503,
    }
