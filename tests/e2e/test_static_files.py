"""The live room's ES modules, collected as `bidcart serve` collects them (hashed names, immutable),
still load each other in Chromium."""

import re
import time

from a2wsgi import WSGIMiddleware
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.test import override_settings

from tests.auctions.factories import make_lot
from tests.livesrv import running_server

HASHED = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "bidcart.core.staticfiles.HashedStaticFilesStorage"},
}


def test_the_live_room_loads_its_modules_by_hashed_names_cached_for_a_year(transactional_db, tmp_path, page):
    lot = make_lot()
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=HASHED, WHITENOISE_USE_FINDERS=False):
        call_command("collectstatic", interactive=False, verbosity=0)
        app = WSGIMiddleware(WSGIHandler())  # its WhiteNoise serves the collected folder
        with running_server(app) as url:
            scripts, errors = [], []
            page.on(
                "response",
                lambda r: (
                    scripts.append((r.url, r.status, r.headers.get("cache-control", "")))
                    if r.url.endswith(".js")
                    else None
                ),
            )
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{url}/auctions/{lot.pk}/")
            deadline = time.monotonic() + 10
            while len({u for u, _, _ in scripts if "/auctions/js/" in u}) < 4 and time.monotonic() < deadline:
                page.wait_for_timeout(100)
    modules = {
        re.sub(r"\.[0-9a-f]{12}\.js$", "", u.rsplit("/", 1)[1]): (u, status, cache)
        for u, status, cache in scripts
        if "/auctions/js/" in u
    }
    assert set(modules) >= {"room", "clock", "money", "socket"}, scripts
    for name, (address, status, cache) in modules.items():
        assert status == 200 and re.search(r"\.[0-9a-f]{12}\.js$", address), (name, address, status)
        assert "immutable" in cache, (name, cache)
    assert not [e for e in errors if "module" in e.lower() or "import" in e.lower()], errors
