"""Rate limits, one per action, enforced where the action happens (the service), so the API, the
pages and the live room's WebSocket share one count.

A limit is a setting `RATE_LIMIT_<ACTION>` such as "10/h" or "10/s,120/min": each rule allows N calls
per window (s, min, h, d, optionally with a length: "5/10s"), every rule must hold, and "off" turns the
limit off. Calls are counted per action and caller (an IP address, a user id) in windows that open with
a caller's first call, in the Django cache: Redis, shared by every process, at scale; locmem in the
embedded default. On Redis a call costs one round trip: every rule's window is opened (`SET NX EX`),
counted (`INCR`) and its time left read (`PTTL`) in one MULTI/EXEC pipeline, so a bid pays one Redis round
trip for its limit, however many rules it has. Elsewhere `cache.add` then `cache.incr` is atomic, so two
processes never both take the last call of a window.

When the cache is unreachable the limits are not applied (a warning is logged): a Redis outage must
not turn every login and bid away. A refusal is `RateLimited`, a `core.domain.Throttled`: HTTP 429 with
`{"code": "rate_limited", ...}` and Retry-After on the API, an `{"type": "error", "code": "rate_limited"}` message
on a WebSocket, a message on a page.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core import checks
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import ngettext

from . import metrics
from .domain import Throttled

log = logging.getLogger(__name__)

UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RULE = re.compile(r"(\d+)/(\d*)([a-z]+)")


@dataclass(frozen=True)
class Rule:
    count: int
    seconds: int


@lru_cache(maxsize=64)
def parse(spec: str) -> tuple[Rule, ...]:
    """ "10/s,120/min" → (Rule(10, 1), Rule(120, 60)); "off" or "" → () (no limit)."""
    spec = "".join(str(spec or "").lower().split())
    if spec in ("", "off"):
        return ()
    rules = []
    for part in spec.split(","):
        match = _RULE.fullmatch(part)
        unit = match and (UNITS.get(match[3]) or UNITS.get(match[3].removesuffix("s")))
        if not unit or int(match[2] or 1) < 1:
            raise ImproperlyConfigured(f"Bad rate limit {spec!r}: write rules like '10/h' or '10/s,120/min', or 'off'.")
        rules.append(Rule(int(match[1]), int(match[2] or 1) * unit))
    return tuple(rules)


def rules_for(action: str) -> tuple[Rule, ...]:
    return parse(getattr(settings, f"RATE_LIMIT_{action.upper()}"))


@checks.register()
def check_limits(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`bidcart manage check`: every RATE_LIMIT_* setting parses."""
    found = []
    for name in dir(settings):
        if name.startswith("RATE_LIMIT_"):
            try:
                parse(getattr(settings, name))
            except ImproperlyConfigured as error:
                found.append(checks.Error(f"{name}: {error}", id="bidcart.E050"))
    return found


class RateLimited(Throttled):
    code = "rate_limited"

    def __init__(self, action: str, retry_after: float):
        self.action = action
        self.retry_after = max(1, math.ceil(retry_after))
        detail = ngettext(
            "Too many requests: try again in %(seconds)d second.",
            "Too many requests: try again in %(seconds)d seconds.",
            self.retry_after,
        ) % {"seconds": self.retry_after}
        super().__init__(detail)


def _key(action: str, who, rule: Rule) -> str:
    return f"bidcart:rl:{action}:{who}:{rule.count}/{rule.seconds}"


def _redis():
    """The redis-py client behind the default cache when it is Django's Redis cache, else None."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]  # `cache` is a proxy to it
    return backend._cache.get_client(write=True) if isinstance(backend, RedisCache) else None


def _hit_redis(client, action: str, who, rules: tuple[Rule, ...]) -> float:
    """One round trip: per rule, open the window if none is open, count this call, read the time left."""
    pipe = client.pipeline(transaction=True)
    for rule in rules:
        key = cache.make_key(_key(action, who, rule))
        pipe.set(key, 0, ex=rule.seconds, nx=True)
        pipe.incr(key)
        pipe.pttl(key)
    replies = pipe.execute()
    wait = 0.0
    for i, rule in enumerate(rules):
        count, left_ms = replies[3 * i + 1], replies[3 * i + 2]
        if count > rule.count:
            wait = max(wait, left_ms / 1000 if left_ms > 0 else rule.seconds)
    return wait


def hit(action: str, who) -> None:
    """Count one call of `action` by `who`; raise RateLimited if that broke a rule of its limit."""
    now = time.time()
    wait = 0.0
    try:
        rules = rules_for(action)
        client = _redis() if rules else None
        if client is not None:
            wait = _hit_redis(client, action, who, rules)
            rules = ()
        for rule in rules:
            key = _key(action, who, rule)
            if _count(key, rule.seconds, now) > rule.count:
                wait = max(wait, (cache.get(f"{key}:until") or now + rule.seconds) - now)
    except ImproperlyConfigured:
        raise
    except Exception as exc:  # the cache (Redis) is down: serve without the limit rather than fail everyone
        log.warning("rate limit %r not applied, the cache is unavailable: %r", action, exc)
        return
    if wait:
        metrics.rate_limited.labels(action).inc()
        raise RateLimited(action, wait)


def over(action: str, who) -> float:
    """Without counting a call: the seconds `who` must wait because a rule of `action` is already broken,
    else 0. For limits counted on an outcome (a refused webhook) but enforced before the next call."""
    now = time.time()
    wait = 0.0
    try:
        client = _redis()
        for rule in rules_for(action):
            key = _key(action, who, rule)
            if client is not None:
                count, left_ms = (
                    client.pipeline(transaction=False).get(cache.make_key(key)).pttl(cache.make_key(key)).execute()
                )
                if int(count or 0) >= rule.count:
                    wait = max(wait, left_ms / 1000 if left_ms > 0 else rule.seconds)
            elif (cache.get(key) or 0) >= rule.count:
                wait = max(wait, (cache.get(f"{key}:until") or now + rule.seconds) - now)
    except ImproperlyConfigured:
        raise
    except Exception as exc:
        log.warning("rate limit %r not applied, the cache is unavailable: %r", action, exc)
        return 0.0
    if wait:
        metrics.rate_limited.labels(action).inc()
    return max(0.0, wait)


def _count(key: str, seconds: int, now: float) -> int:
    """The calls in the current window, this one included. A window opens with the first call after the
    last one ended and lasts `seconds` (the key's expiry); `key:until` remembers when, for Retry-After."""
    if cache.add(key, 1, timeout=seconds):
        cache.set(f"{key}:until", now + seconds, timeout=seconds)
        return 1
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr: this call opens the next one
        cache.add(key, 1, timeout=seconds)
        return 1
    if count == 1:  # Redis' INCR re-created a key that expired just after Django looked: give it an expiry
        cache.touch(key, seconds)
    return count


class FrameCounter:
    """The same rules and windows counted in this process's memory, for one WebSocket connection (which
    lives in one process). `hit()` answers the seconds to wait when a rule is broken, else 0."""

    def __init__(self, spec: str):
        self.rules = parse(spec)
        self.windows = [(0.0, 0)] * len(self.rules)  # (ends at, calls) per rule

    def hit(self) -> float:
        now = time.monotonic()
        wait = 0.0
        for i, rule in enumerate(self.rules):
            ends, count = self.windows[i]
            ends, count = (ends, count + 1) if now < ends else (now + rule.seconds, 1)
            self.windows[i] = (ends, count)
            if count > rule.count:
                wait = max(wait, ends - now)
        return wait
