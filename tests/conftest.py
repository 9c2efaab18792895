import pytest
from django.core.cache import cache, caches

pytest_plugins = ["tests.payments.fixtures"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request):
    """On SQLite, test in a file, as the product runs: an in-memory database shared between the live
    server's threads uses shared-cache locking, which fails at once ("table is locked") where a file with
    WAL and a busy timeout waits its turn. pytest-django then adds the xdist worker suffix."""
    import os
    import tempfile

    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):  # one file per test process: runs side by side never share it
        db.setdefault("TEST", {})["NAME"] = os.path.join(tempfile.gettempdir(), f"bidcart-test-{os.getpid()}.sqlite3")
    request.getfixturevalue("django_db_modify_db_settings_parallel_suffix")


@pytest.fixture(scope="session", autouse=True)
def _data_folder():
    """The data folder as the `bidcart` commands make it before Django starts (importing settings makes
    nothing): its static folder, which whitenoise warns about on every test client without it."""
    from django.conf import settings

    from bidcart.core import datadir

    datadir.prepare(settings.DATA_DIR, secret_key=False, admin_path=False, sqlite=False)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """PBKDF2 at full strength makes every login take ~0.3 s; the hashing itself is Django's business."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _bids_announced_in_the_committing_thread(settings):
    """In-process tests see a bid's events and notice as soon as its transaction commits (a server announces
    them from a thread: auctions/announce.py, tested in tests/auctions/test_announce.py)."""
    settings.AUCTION_ANNOUNCE_IN_BACKGROUND = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Locmem cache state (throttles, lockouts, job due-marks, the catalog's copies in memory) must not leak
    between tests."""
    cache.clear()
    caches["local"].clear()
    yield
    cache.clear()
    caches["local"].clear()
