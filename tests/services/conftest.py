"""The services suite runs on PostgreSQL and Redis (see .ci/run). It fails, never skips, without them."""

import os

import pytest
from django.conf import settings
from django.db import connection


def pytest_collection_modifyitems(items):
    for item in items:
        if "/services/" in str(item.fspath):
            item.add_marker(pytest.mark.services)


# The store race (test_store_concurrency.py): this many buyers, each on its own connection, all at once;
# plus the suite's own connection and some room for other clients of the server.
RACE_BUYERS = 100
RACE_CONNECTIONS_NEEDED = RACE_BUYERS + 50


@pytest.fixture(scope="session", autouse=True)
def services_ready(django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.fail(
            "The services suite needs DATABASE_URL=postgres://... (it runs on PostgreSQL, not %s)." % connection.vendor
        )
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int"
        )
        max_connections, reserved = cursor.fetchone()
    if max_connections - reserved < RACE_CONNECTIONS_NEEDED:
        pytest.fail(
            f"PostgreSQL's max_connections is {max_connections} ({reserved} reserved for superusers): the store race "
            f"test holds {RACE_BUYERS} buyers' connections open at once and needs at least {RACE_CONNECTIONS_NEEDED} "
            "usable ones. Run .ci/run (it raises max_connections to 300), or run "
            "`ALTER SYSTEM SET max_connections = 300` and restart PostgreSQL."
        )
    if not settings.REDIS_URL:
        pytest.fail("The services suite needs REDIS_URL=redis://...")
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {settings.REDIS_URL} is unreachable: {exc}")
    client.flushdb()  # the suite owns its Redis database number
    yield
    client.flushdb()


@pytest.fixture
def test_database_url():
    """A DATABASE_URL that points another process at this test run's database."""
    s = connection.settings_dict
    host = s.get("HOST") or "127.0.0.1"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


@pytest.fixture
def subprocess_env(test_database_url):
    env = dict(os.environ)
    env["DATABASE_URL"] = test_database_url
    return env
