"""The simulator mounted in the shop (bidcart.asgi, as `bidcart run` serves it): the shop's own origin is
the only place it sends browsers and webhooks, its answers carry its own strict headers, and the shop's
body limit holds at /pgsim/ too (issue #13, items 1, 4, 5, 11)."""

from __future__ import annotations

import httpx
import pytest

PAY = {"storeId": "", "paymentId": "mnt-1", "orderName": "pgsim:approve", "totalAmount": "1000", "payMethod": "CARD"}


@pytest.fixture
async def shop(settings):
    import bidcart.asgi

    settings.SITE_URL = ""
    sim = bidcart.asgi.pgsim.sim
    saved = (sim.config.paypal_webhook_url, getattr(sim.config, "allowed_origins", ()))
    sim.config.paypal_webhook_url, sim.config.allowed_origins = None, ("*",)  # "*" is ignored when mounted
    sim.state.reset()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bidcart.asgi.application), base_url="http://127.0.0.1:8000"
    ) as client:
        yield client
    sim.config.paypal_webhook_url, sim.config.allowed_origins = saved
    await sim.outbox.stop()
    sim.state.reset()


async def test_the_shops_own_origin_is_an_allowed_target(shop):
    r = await shop.get(
        "/pgsim/portone/checkout",
        params={
            **PAY,
            "redirectUrl": "http://127.0.0.1:8000/payments/back/",
            "noticeUrls": "http://127.0.0.1:8000/payments/webhooks/portone_v2/",
        },
    )
    assert r.status_code == 303 and r.headers["location"].startswith("http://127.0.0.1:8000/payments/back/?")


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/", "http://169.254.169.254/latest/", "https://evil.example/"])
async def test_other_origins_are_refused_even_with_a_wildcard_allow_list(shop, url):
    for key in ("redirectUrl", "noticeUrls"):
        r = await shop.get("/pgsim/portone/checkout", params={**PAY, key: url})
        assert r.status_code == 400 and "location" not in r.headers


async def test_a_forged_host_does_not_make_another_port_the_shops(shop):
    """`Host: 127.0.0.1:6379` passes ALLOWED_HOSTS (which ignores ports) but is not this server."""
    r = await shop.get(
        "/pgsim/portone/checkout",
        headers={"host": "127.0.0.1:6379"},
        params={**PAY, "noticeUrls": "http://127.0.0.1:6379/"},
    )
    assert r.status_code == 400
    r = await shop.get(
        "/pgsim/portone/checkout",
        headers={"host": "evil.example:8000"},
        params={**PAY, "redirectUrl": "http://evil.example:8000/"},
    )
    assert r.status_code == 400


async def test_site_url_names_the_shop_when_set(shop, settings):
    settings.SITE_URL = "https://shop.example"
    ok = await shop.get("/pgsim/portone/checkout", params={**PAY, "redirectUrl": "https://shop.example/back/"})
    assert ok.status_code == 303
    own = await shop.get(
        "/pgsim/portone/checkout", params={**PAY, "paymentId": "mnt-2", "redirectUrl": "http://127.0.0.1:8000/"}
    )
    assert own.status_code == 400


async def test_the_issue_url_on_the_shops_origin_runs_no_script(shop):
    r = await shop.get(
        "/pgsim/portone/checkout?paymentId=x'><script>alert(1)</script><a x='"
        "&orderName=pgsim:approve&totalAmount=1&payMethod=VIRTUAL_ACCOUNT"
    )
    assert r.status_code == 200 and "<script>alert" not in r.text
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'nonce-" in r.headers["content-security-policy"]


async def test_the_shops_body_limit_holds_under_pgsim(shop, settings):
    r = await shop.post(
        "/pgsim/portone/login/api-secret",
        content=b"{" + b" " * 3_000_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
