"""What every visitor of the catalog sees, read once per change instead of once per request.

Cached: the *data* of the product list, product detail, home page and the products/categories API (the
selector results and the API's response bodies), and the rendered fragments every visitor shares (the list's
cards and category menu; the product page's gallery, options, offer, description and reviews), never whole
HTML pages. Pages are still assembled per request, so each visitor gets their own CSRF token, cart badge,
messages and wishlist hearts, and a logged-in page stays personal while sharing the same parts as everyone.

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
degrading backend answers misses and the version is unknown, so every request computes its data and
renders its page: slower, never stale.

Two levels: an entry is looked up in this process's memory first (the `local` cache), then in the shared
cache, and computed only when both miss. That is safe because an entry's key names its version: a key is
never reused for newer data, so a copy in memory cannot go stale; only the version itself is read from the
shared cache, once per request (memoized between Django's request_started and request_finished). Templates
cache their shared fragments in `local` too (`{% cache … using="local" %}` under a key with the version):
a warm catalog page costs one round trip to Redis, where it cost one per entry and fragment.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache, caches
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models.signals import post_delete, post_save

VERSION_KEY = "catalog:version"
TIMEOUT = 300  # a backstop only: every change already makes old entries unreachable
_MISSING = object()
_NONE = "catalog:none"  # stands for a cached None (e.g. no such product), since the cache's None is a miss


LOCAL = "local"  # settings.CACHES: this process's memory, for entries under versioned keys only

# The version read once per request: one round trip, and every key of the page names the same version.
# Only between request_started and request_finished of this thread; anywhere else (tasks, shells, tests
# outside a request) each call reads it anew.
_request = threading.local()


def _request_began(**kwargs) -> None:
    _request.active, _request.version = True, None


def _request_ended(**kwargs) -> None:
    _request.active, _request.version = False, None


def version() -> int | None:
    """The catalog's current version, or None while the shared cache cannot tell (Redis unreachable)."""
    if getattr(_request, "active", False) and _request.version is not None:
        return _request.version
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, time.time_ns(), None)
        current = cache.get(VERSION_KEY)
    if getattr(_request, "active", False):
        _request.version = current
    return current


def _bump() -> None:
    # A new unique value rather than incr(): incr of an evicted or missing key raises, and a value that
    # was once in use must never come back (entries stored under it may still be there).
    cache.set(VERSION_KEY, time.time_ns(), None)
    _request.version = None  # a write inside a request: the rest of it reads the new version


def changed() -> None:
    """Catalog data changed: everything cached before is stale, now and again once committed."""
    _bump()
    transaction.on_commit(_bump)


def key(name: str, *parts: Any) -> str | None:
    """The key of this entry in the current version; None while the version is unknown (nothing is cached
    then)."""
    current = version()
    if current is None:
        return None
    digest = hashlib.sha1(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()
    return f"catalog:{current}:{name}:{digest}"


def fragment_key(name: str, *parts: Any) -> str:
    """Names a template's cached fragments (`{% cache … using="local" %}`) in the current version; while the
    version is unknown, a key used once, so that no fragment is ever served from an unknown version."""
    return key(name, *parts) or f"catalog:unversioned:{uuid.uuid4().hex}"


def _get(entry_key: str) -> Any:
    local = caches[LOCAL]
    value = local.get(entry_key, _MISSING)
    if value is _MISSING:
        value = cache.get(entry_key, _MISSING)
        if value is not _MISSING:
            local.set(entry_key, value, TIMEOUT)
    return value


def _set(entry_key: str, value: Any) -> None:
    cache.set(entry_key, value, TIMEOUT)
    caches[LOCAL].set(entry_key, value, TIMEOUT)


def remember(name: str, parts: tuple, compute: Callable[[], Any]) -> Any:
    """The cached value of `compute()` for this name and these parts in the current catalog version."""
    entry_key = key(name, *parts)
    if entry_key is None:
        return compute()
    value = _get(entry_key)
    if value is _MISSING:
        value = compute()
        _set(entry_key, _NONE if value is None else value)
        return value
    return None if value == _NONE else value


def lookup(name: str, parts: tuple) -> Any:
    """The entry kept for this name and these parts in the current catalog version, or None."""
    entry_key = key(name, *parts)
    value = _get(entry_key) if entry_key else _MISSING
    return None if value is _MISSING else value


def keep(name: str, parts: tuple, value: Any) -> None:
    """Keep `value` (never None) for this name and these parts until the catalog changes."""
    entry_key = key(name, *parts)
    if entry_key is not None:
        _set(entry_key, value)


def _on_change(sender, **kwargs) -> None:
    changed()


def watch(model: str) -> None:
    """Saves and deletes of `model` ("app_label.Model") change what the catalog shows: each moves the
    version. Another app whose data the catalog's pages show (reviews) calls it from its `ready()`."""
    post_save.connect(_on_change, sender=model, dispatch_uid=f"catalog-cache-save-{model}")
    post_delete.connect(_on_change, sender=model, dispatch_uid=f"catalog-cache-delete-{model}")


def connect() -> None:
    """Signals for the catalog's own model writes and for the request's version (called from
    CatalogConfig.ready)."""
    for model in ("catalog.Product", "catalog.Variant", "catalog.ProductImage", "catalog.Category"):
        watch(model)
    request_started.connect(_request_began, dispatch_uid="catalog-cache-request-started")
    request_finished.connect(_request_ended, dispatch_uid="catalog-cache-request-finished")
