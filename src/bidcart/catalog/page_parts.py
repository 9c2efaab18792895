"""The parts other apps add to the product page (the reviews today), without the catalog importing them.

Why a registry and not an import: reviews depends on the catalog (a review is of a product; its average is a
product column that `catalog.services.set_rating` keeps), so the catalog importing reviews made the two one
knot: neither could change, be tested or be left out without the other. The page is the catalog's; an app that
builds on the catalog adds its part in its `AppConfig.ready()`, the way apps register with Django's admin.

A part gives a template (included below the product, in registration order) and up to two context builders:
`shared(product)` for what every visitor sees (cached with the product's data until the catalog changes, so
the app must move the catalog version when its data changes: `catalog.cache.watch`), and
`personal(user, product)` for what depends on the visitor (computed per request, never cached).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Part:
    template: str
    shared: Callable[[Any], dict] | None = None
    personal: Callable[[Any, Any], dict] | None = None


PARTS: list[Part] = []


def add_part(part: Part) -> None:
    """Register a part of the product page (idempotent: `ready()` may run more than once in tests)."""
    if part not in PARTS:
        PARTS.append(part)


def shared_context(product) -> dict:
    return {key: value for part in PARTS if part.shared for key, value in part.shared(product).items()}


def personal_context(user, product) -> dict:
    return {key: value for part in PARTS if part.personal for key, value in part.personal(user, product).items()}


def templates() -> list[str]:
    return [part.template for part in PARTS]
