"""Rate limits at scale: several processes (as several web servers would) count in one Redis, so together
they let exactly the limit through, never one more."""

import subprocess
import sys
import time

from django.conf import settings

from bidcart.core import ratelimit

PROCESSES = 4
CALLS_EACH = 30
LIMIT = 37

CALLER = """
import sys, time
import django
django.setup()
from bidcart.core import ratelimit
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.001)
allowed = 0
for _ in range(int(sys.argv[2])):
    try:
        ratelimit.hit("bid", "shared-bidder")
    except ratelimit.RateLimited:
        continue
    allowed += 1
print(allowed)
"""


def test_processes_sharing_redis_let_exactly_the_limit_through(subprocess_env):
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    env = {**subprocess_env, "RATE_LIMIT_BID": f"{LIMIT}/min", "DJANGO_SETTINGS_MODULE": "bidcart.settings"}
    start = time.time() + 3  # every process imported and waiting, then all at once
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CALLER, str(start), str(CALLS_EACH)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _out, err in outputs]
    allowed = [int(out.strip().splitlines()[-1]) for out, _err in outputs]
    assert sum(allowed) == LIMIT, allowed  # CALLS_EACH < LIMIT: no single process could reach it alone


def test_a_window_in_redis_ends_and_the_keys_expire(settings):
    settings.RATE_LIMIT_LOGIN = "1/1s"
    import redis

    ratelimit.hit("login", "198.51.100.1")
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = client.keys("*bidcart:rl:login:198.51.100.1*")
    assert keys and all(0 < client.pttl(key) <= 1000 for key in keys)  # nothing kept without an expiry
    time.sleep(1.1)
    ratelimit.hit("login", "198.51.100.1")  # a new window
