import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """PBKDF2 at full strength makes every login take ~0.3 s; the hashing itself is Django's business."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Locmem cache state (throttles, lockouts, job due-marks) must not leak between tests."""
    cache.clear()
    yield
    cache.clear()
