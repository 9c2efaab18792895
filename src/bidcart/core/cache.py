"""Django's Redis cache, degrading instead of failing while Redis is unreachable.

Nothing bidcart keeps in the cache is the only copy of anything (the honeypot's block list is in the
database, viewer counts and sweep figures are decoration, throttles and once-per-interval marks are
short-lived), but the honeypot middleware asks the cache on every request: with Django's own backend, a
Redis restart turned every page, the API and /healthz into 500s. Here, while Redis is down or restarting,
a read is a miss, a write is dropped, `add` answers False (a mark or a lock is not taken: the sweeps wait
for Redis instead of running everywhere at once) and `incr` raises ValueError as for a missing key. It
says so in the log (at most every WARN_EVERY seconds); /readyz reports the cache and Redis as not ready.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)  # not ResponseError & co.: those are bugs
WARN_EVERY = 10.0


class DegradingRedisCache(RedisCache):
    _warned_at = float("-inf")

    def _degrade(self, operation: str, fallback, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except UNREACHABLE as exc:
            now = time.monotonic()
            if now - DegradingRedisCache._warned_at >= WARN_EVERY:
                DegradingRedisCache._warned_at = now
                log.warning("cache unreachable (%s: %r): serving without it until Redis is back", operation, exc)
            if isinstance(fallback, BaseException):
                raise fallback from exc
            return fallback

    def get(self, key, default=None, version=None):
        return self._degrade("get", default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._degrade("get_many", {}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._degrade("has_key", False, super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("add", False, super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("set", None, super().set, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("set_many", list(data), super().set_many, data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("touch", False, super().touch, key, timeout, version)

    def incr(self, key, delta=1, version=None):
        return self._degrade(
            "incr", ValueError(f"Key '{key}' not found (the cache is unreachable)"), super().incr, key, delta, version
        )

    def delete(self, key, version=None):
        return self._degrade("delete", False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        return self._degrade("delete_many", None, super().delete_many, keys, version)

    def clear(self):
        return self._degrade("clear", False, super().clear)
