"""Moved to tests/factories.py (shared by every app's tests); this name keeps test files written before the
move importing. Import `tests.factories`."""

from tests.factories import *  # noqa: F401,F403
