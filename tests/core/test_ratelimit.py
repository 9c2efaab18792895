"""The rate limiter itself (bidcart/core/ratelimit.py): rules from settings, counting in the cache,
windows that end, Retry-After, and the per-connection frame counter. The endpoints' limits are tested
where they are (tests/accounts/test_rate_limits.py, tests/auctions/test_rate_limits.py)."""

import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from bidcart.core import ratelimit
from bidcart.core.errors import http_status
from bidcart.core.ratelimit import FrameCounter, RateLimited, Rule, parse
from tests.livesrv import free_port


def calls_allowed(action, who, tries):
    allowed = 0
    for _ in range(tries):
        try:
            ratelimit.hit(action, who)
        except RateLimited:
            continue
        allowed += 1
    return allowed


def test_rules_are_read_from_the_setting_text():
    assert parse("10/h") == (Rule(10, 3600),)
    assert parse(" 10/s, 120/min ") == (Rule(10, 1), Rule(120, 60))
    assert parse("5/10s") == (Rule(5, 10),) == parse("5/10seconds")
    assert parse("3/2d") == (Rule(3, 2 * 86400),)
    assert parse("off") == parse("") == ()
    for bad in ("10", "10/fortnight", "ten/h", "10/0s", "10/h;5/s"):
        with pytest.raises(ImproperlyConfigured, match="Bad rate limit"):
            parse(bad)


def test_a_bad_limit_is_reported_by_the_system_check(settings):
    settings.RATE_LIMIT_BID = "10 per second"
    with pytest.raises(SystemCheckError, match="RATE_LIMIT_BID"):
        call_command("check")


def test_the_call_past_the_limit_is_refused_with_how_long_to_wait(settings):
    settings.RATE_LIMIT_BID = "3/min"
    for _ in range(3):
        ratelimit.hit("bid", 7)
    with pytest.raises(RateLimited) as refused:
        ratelimit.hit("bid", 7)
    assert refused.value.code == "rate_limited" and http_status(refused.value) == 429
    assert 58 <= refused.value.retry_after <= 60
    assert str(refused.value.retry_after) in refused.value.detail
    ratelimit.hit("bid", 8)  # another caller has a count of its own
    ratelimit.hit("chat", 7)  # and so has another action


def test_the_next_window_starts_fresh(settings):
    settings.RATE_LIMIT_SIGNUP = "2/1s"
    assert calls_allowed("signup", "10.0.0.1", 5) == 2
    time.sleep(1.05)
    assert calls_allowed("signup", "10.0.0.1", 5) == 2


def test_every_rule_must_hold_a_burst_and_a_sustained_rate(settings):
    settings.RATE_LIMIT_BID = "4/s,6/min"
    assert calls_allowed("bid", 1, 6) == 4  # the burst
    time.sleep(1.05)
    # a new second, but the minute has seen 6 calls (refused ones count too): nothing until it ends
    with pytest.raises(RateLimited) as refused:
        ratelimit.hit("bid", 1)
    assert refused.value.retry_after >= 55  # the minute's window, not the second's
    assert calls_allowed("bid", 2, 4) == 4
    time.sleep(1.05)
    assert calls_allowed("bid", 2, 4) == 2  # 4 + 2 in the minute


def test_off_turns_a_limit_off(settings):
    settings.RATE_LIMIT_CHAT = "off"
    assert calls_allowed("chat", 1, 200) == 200


def test_refusals_are_counted_for_prometheus(settings, client, db):
    settings.RATE_LIMIT_LOGIN = "1/min"
    ratelimit.hit("login", "10.9.9.9")
    with pytest.raises(RateLimited):
        ratelimit.hit("login", "10.9.9.9")
    body = client.get("/metrics").content.decode()
    assert 'bidcart_rate_limited_total{action="login"}' in body


def test_without_its_cache_the_limit_lets_calls_through_and_says_so(settings, caplog):
    settings.RATE_LIMIT_LOGIN = "1/min"
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }  # nothing listens there
    with override_settings(CACHES=down):
        for _ in range(3):
            ratelimit.hit("login", "10.3.3.3")
    assert "rate limit 'login' not applied, the cache is unavailable" in caplog.text


def test_the_frame_counter_counts_one_connection_in_memory():
    frames = FrameCounter("3/s")
    assert [frames.hit() > 0 for _ in range(5)] == [False, False, False, True, True]
    assert 0 < frames.hit() <= 1
    time.sleep(1.05)
    assert frames.hit() == 0
    assert FrameCounter("off").hit() == 0
