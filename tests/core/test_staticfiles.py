"""Static files as `bidcart serve` serves them: collected with hashed names and sent as immutable."""

import os
import re
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import RequestFactory, override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

HASHED = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "bidcart.core.staticfiles.HashedStaticFilesStorage"},
}


@pytest.fixture
def collected(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=HASHED, WHITENOISE_USE_FINDERS=False, DEBUG=False):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield tmp_path, WhiteNoiseMiddleware(lambda request: None)


def get(middleware, url):
    return middleware(RequestFactory().get(url))


def test_collected_static_files_have_hashed_names_and_are_cached_for_a_year(collected):
    _, middleware = collected
    url = static("web/site.css")
    assert re.search(r"\.[0-9a-f]{12}\.css$", url), url
    response = get(middleware, url)
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"] and "max-age=315360000" in response["Cache-Control"]


def test_the_live_rooms_modules_import_each_other_by_their_hashed_names(collected):
    root, middleware = collected
    url = static("auctions/js/room.js")
    assert re.search(r"room\.[0-9a-f]{12}\.js$", url), url
    body = b"".join(get(middleware, url).streaming_content).decode()
    for module in ("clock", "money", "socket"):
        imported = re.search(rf'from "\./({module}\.[0-9a-f]{{12}}\.js)"', body)
        assert imported, f"{module}: {body[:400]}"
        assert get(middleware, url.rsplit("/", 1)[0] + "/" + imported.group(1)).status_code == 200


def test_an_unhashed_name_is_still_served_but_not_as_immutable(collected):
    _, middleware = collected
    response = get(middleware, "/static/auctions/js/room.js")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]


def test_bidcart_serve_collects_with_the_hashed_storage_and_run_serves_the_apps_folders():
    show = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.STORAGES['staticfiles']['BACKEND'])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bidcart.settings"}
    served = subprocess.run(
        [sys.executable, "-c", show],
        env={**env, "WHITENOISE_USE_FINDERS": "0"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert served.strip() == "bidcart.core.staticfiles.HashedStaticFilesStorage"
    env.pop("WHITENOISE_USE_FINDERS", None)
    run = subprocess.run([sys.executable, "-c", show], env=env, capture_output=True, text=True, check=True).stdout
    assert run.strip() == "whitenoise.storage.CompressedStaticFilesStorage"
