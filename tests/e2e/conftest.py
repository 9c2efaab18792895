"""Browser tests: Debian's Chromium driven by Playwright against a real uvicorn server."""

import os

import pytest

from tests.chromium import CHROMIUM_ARGS, chromium_path
from tests.livesrv import running_server

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body
# are still synchronous code, which this allows.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


# Per module, not per session: Playwright's sync API keeps an event loop running in this thread while
# it is open, and code that later calls async_to_sync in the same worker (the live room's broadcasts)
# would find it there.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def live_url(transactional_db, settings):
    """The whole product (pages, API, WebSockets, /pgsim/) on a real server; email goes to the outbox."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with running_server() as url:
        yield url


@pytest.fixture
def shop(live_url, settings):
    """The live server with payments pointed at its own mounted simulator, fresh for this test."""
    import bidcart.asgi

    settings.SITE_URL = live_url
    settings.PGSIM_URL = f"{live_url}/pgsim"
    bidcart.asgi.pgsim.sim.state.reset()
    return live_url
