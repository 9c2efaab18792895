"""The Redis cache degrades instead of failing while Redis is unreachable (core/cache.py); here, a port
nothing listens on. The recovery after a real Redis restart is in tests/services/test_faults.py."""

import logging

import pytest

from bidcart.core.cache import DegradingRedisCache
from tests.livesrv import free_port


@pytest.fixture
def unreachable(monkeypatch):
    monkeypatch.setattr(DegradingRedisCache, "_warned_at", float("-inf"))  # the warning is rate limited
    return DegradingRedisCache(f"redis://127.0.0.1:{free_port()}/0", {})


def test_reads_miss_writes_are_dropped_and_marks_are_not_taken(unreachable, caplog):
    with caplog.at_level(logging.WARNING, logger="bidcart.core.cache"):
        assert unreachable.get("k") is None
        assert unreachable.get("k", "fallback") == "fallback"
        assert unreachable.get_many(["a", "b"]) == {}
        assert unreachable.has_key("k") is False
        assert unreachable.set("k", 1) is None
        assert unreachable.set_many({"a": 1, "b": 2}) == ["a", "b"]  # the keys that were not stored
        assert unreachable.add("lock", 1, timeout=5) is False  # a lock or once-per-interval mark is not taken
        assert unreachable.touch("k") is False
        assert unreachable.delete("k") is False
        unreachable.delete_many(["a"])
        assert unreachable.get_or_set("k", 7) == 7
        with pytest.raises(ValueError):  # as for a missing key: callers already handle it
            unreachable.incr("counter")
        with pytest.raises(ValueError):
            unreachable.decr("counter")
    assert "cache unreachable" in caplog.text


async def test_the_async_api_degrades_too(unreachable):
    assert await unreachable.aget("k", "fallback") == "fallback"
    assert await unreachable.aadd("k", 1) is False
