"""What every visitor of the catalog sees, read once per change instead of once per request.

Cached: the *data* of the product list, product detail, home page and the products/categories API (the
selector results and the API's response bodies), never whole HTML pages. Pages are still rendered per
request, so each visitor gets their own CSRF token, cart badge, messages and wishlist hearts, and a
logged-in page stays personal while sharing the same data as everyone else.

Invalidation is a version key (a namespace): every cached entry's key contains the current catalog
version, and `changed()` replaces it, so every entry written before is never read again (and expires
with TIMEOUT). One version for the whole catalog: a price, stock, product, image, category or review
change drops every catalog entry at once. That is coarse but cannot miss a dependency (a stock change
moves the detail page, the cards in every list that shows the product, its `in_stock` filter results
and the home page's "popular" row alike).

Who calls `changed()`: model signals for saves and deletes of Product, Variant, ProductImage, Category
(connected in `connect()`) and Review (the reviews app asks with `watch()`), and explicitly every queryset
`.update()` that moves catalog data (stock in orders, sold counts, ratings, set_stock/set_price), because
`.update()` sends no signal.

It bumps twice: at once (later reads in the same transaction, and tests running inside one transaction,
see the change) and again after commit, because a visitor who read the old rows while our transaction was
still open may have cached them under the version of the first bump.

The version lives in the cache itself (Redis when REDIS_URL: shared by every worker process; local memory
otherwise, which is only correct with one process: `bidcart run` is one, and `bidcart serve` refuses
several workers without REDIS_URL, core/deploy_checks.py E008). While Redis is unreachable the
degrading backend answers misses, so every request computes its data: slower, never stale.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

VERSION_KEY = "catalog:version"
TIMEOUT = 300  # a backstop only: every change already makes old entries unreachable
_MISSING = object()
_NONE = "catalog:none"  # stands for a cached None (e.g. no such product), since the cache's None is a miss


def version() -> int:
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, time.time_ns(), None)
        current = cache.get(VERSION_KEY) or 0
    return current


def _bump() -> None:
    # A new unique value rather than incr(): incr of an evicted or missing key raises, and a value that
    # was once in use must never come back (entries stored under it may still be there).
    cache.set(VERSION_KEY, time.time_ns(), None)


def changed() -> None:
    """Catalog data changed: everything cached before is stale, now and again once committed."""
    _bump()
    transaction.on_commit(_bump)


def key(name: str, *parts: Any) -> str:
    digest = hashlib.sha1(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()
    return f"catalog:{version()}:{name}:{digest}"


def remember(name: str, parts: tuple, compute: Callable[[], Any]) -> Any:
    """The cached value of `compute()` for this name and these parts in the current catalog version."""
    entry_key = key(name, *parts)
    value = cache.get(entry_key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(entry_key, _NONE if value is None else value, TIMEOUT)
        return value
    return None if value == _NONE else value


def lookup(name: str, parts: tuple) -> Any:
    """The entry kept for this name and these parts in the current catalog version, or None."""
    return cache.get(key(name, *parts))


def keep(name: str, parts: tuple, value: Any) -> None:
    """Keep `value` (never None) for this name and these parts until the catalog changes."""
    cache.set(key(name, *parts), value, TIMEOUT)


def _on_change(sender, **kwargs) -> None:
    changed()


def watch(model: str) -> None:
    """Saves and deletes of `model` ("app_label.Model") change what the catalog shows: each moves the
    version. Another app whose data the catalog's pages show (reviews) calls it from its `ready()`."""
    post_save.connect(_on_change, sender=model, dispatch_uid=f"catalog-cache-save-{model}")
    post_delete.connect(_on_change, sender=model, dispatch_uid=f"catalog-cache-delete-{model}")


def connect() -> None:
    """Signals for the catalog's own model writes (called from CatalogConfig.ready)."""
    for model in ("catalog.Product", "catalog.Variant", "catalog.ProductImage", "catalog.Category"):
        watch(model)
