"""Webhook delivery (retries, drop/delay/duplicate/reorder), control API, faults, mount,
persistence, configuration and CLI."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from bidcart.pgsim import cli
from bidcart.pgsim.app import create_app
from bidcart.pgsim.config import SimConfig
from bidcart.pgsim.state import State

from .conftest import flush
from .test_iamport import auth, pay
from .test_kakaopay import NEW, ready_body


async def test_retries_with_backoff_until_delivered(client, receiver, app):
    app.sim.config.iamport_webhook_retry = True  # V1 retries only when asked to
    receiver.statuses = [500, 503]
    await pay(client, "mid-r", 1000)
    # The background task (started lazily by the request) retries after 0.05 s and 0.1 s.
    for _ in range(100):
        if len(receiver.for_path("/hooks/iamport")) == 3:
            break
        await asyncio.sleep(0.02)
    log = (await client.get("/_control/webhooks")).json()
    [delivery] = log["deliveries"]
    assert delivery["state"] == "delivered" and delivery["attempts"] == 3
    assert [a["status_code"] for a in log["attempts"]] == [500, 503, 200]
    assert log["attempts"][1]["at"] - log["attempts"][0]["at"] >= 0.05
    # every attempt carries the same event
    assert len({d["raw"] for d in receiver.for_path("/hooks/iamport")}) == 1


async def test_gives_up_after_the_last_backoff(client, receiver, app):
    app.sim.config.iamport_webhook_retry = True
    receiver.statuses = [500, 500, 500]
    await pay(client, "mid-g", 1000)
    for _ in range(3):
        await flush(client)
    [delivery] = (await client.get("/_control/webhooks")).json()["deliveries"]
    assert delivery["state"] == "failed" and delivery["attempts"] == 3


async def test_v1_sends_a_notification_once_and_again_only_when_asked(client, receiver):
    receiver.statuses = [500]
    await pay(client, "mid-once", 1000)
    await flush(client)
    assert await flush(client) == []  # no retry of its own
    [delivery] = (await client.get("/_control/webhooks")).json()["deliveries"]
    assert delivery["state"] == "failed" and delivery["attempts"] == 1
    r = await client.post("/_control/webhooks/resend", json={"delivery_id": delivery["id"]})
    assert r.status_code == 200
    [attempt] = await flush(client)
    assert attempt["status_code"] == 200 and attempt["attempt"] == 2
    assert (await client.post("/_control/webhooks/resend", json={"delivery_id": "nope"})).status_code == 404


async def test_v2_and_paypal_retry_at_minute_intervals_by_default():
    outbox = create_app(SimConfig()).sim.outbox
    schedule = outbox.retry_schedule("portone")
    assert schedule == outbox.retry_schedule("paypal") and schedule[0] >= 60 and list(schedule) == sorted(schedule)
    assert sum(schedule) >= 12 * 3600  # retried over hours, as PortOne and PayPal do
    assert outbox.retry_schedule("iamport") == ()


async def test_unreachable_target_is_logged_as_error(app, client, receiver):
    app.sim.config.iamport_webhook_url = "http://127.0.0.1:9/unreachable"
    app.sim.config.webhook_transport = None
    await pay(client, "mid-u", 1000)
    [attempt] = await flush(client)
    assert "error" in attempt and "status_code" not in attempt


async def test_drop_duplicate_delay_reorder(client, receiver):
    await client.post("/_control/webhooks", json={"drop": 1})
    await pay(client, "mid-1", 1000)
    await client.post("/_control/webhooks", json={"duplicate": 1})
    await pay(client, "mid-2", 1000)
    await flush(client)
    assert [d["json"]["merchant_uid"] for d in receiver.for_path("/hooks/iamport")] == ["mid-2", "mid-2"]
    states = [d["state"] for d in (await client.get("/_control/webhooks")).json()["deliveries"]]
    assert states == ["dropped", "delivered", "delivered"]

    receiver.deliveries.clear()
    await client.post("/_control/webhooks", json={"reorder": 3})
    for uid in ("mid-a", "mid-b", "mid-c"):
        await pay(client, uid, 1000)
    await flush(client)
    assert [d["json"]["merchant_uid"] for d in receiver.for_path("/hooks/iamport")] == ["mid-c", "mid-b", "mid-a"]

    receiver.deliveries.clear()
    await client.post("/_control/webhooks", json={"delay": 3600})
    await pay(client, "mid-d", 1000)
    await asyncio.sleep(0.1)
    assert receiver.for_path("/hooks/iamport") == []  # held back by the delay
    await client.post("/_control/clock", json={"advance": 3601})
    for _ in range(100):
        if receiver.for_path("/hooks/iamport"):
            break
        await asyncio.sleep(0.02)
    assert [d["json"]["merchant_uid"] for d in receiver.for_path("/hooks/iamport")] == ["mid-d"]


async def test_faults_latency_status_count_and_timeout(client, app):
    h = await auth(client)
    await client.post("/_control/faults", json={"path": "/iamport/payments", "status": 503, "count": 1})
    r = await client.get("/iamport/payments/imp_1", headers=h)
    assert r.status_code == 503 and r.json()["code"] == -1 and r.json()["response"] is None
    assert (await client.get("/iamport/payments/imp_1", headers=h)).status_code == 404  # count used up
    await client.delete("/_control/faults")
    await client.post("/_control/faults", json={"path": "/portone", "status": 500})
    r = await client.get("/portone/payments/x")
    assert r.status_code == 500 and r.json()["type"] == "INTERNAL_SERVER_ERROR"
    await client.delete("/_control/faults")
    await client.post("/_control/faults", json={"path": "/kakaopay", "latency_ms": 150})
    loop = asyncio.get_running_loop()
    started = loop.time()
    r = await client.post("/kakaopay/online/v1/payment/ready", json=ready_body(), headers=NEW)
    assert r.status_code == 200 and loop.time() - started >= 0.15
    await client.delete("/_control/faults")
    app.sim.config.fault_timeout = 0.05
    await client.post("/_control/faults", json={"path": "/paypal", "timeout": True})
    r = await client.post("/paypal/v1/oauth2/token")
    assert r.status_code == 504 and r.json()["name"] == "INTERNAL_SERVER_ERROR" and r.json()["debug_id"]
    assert (await client.post("/_control/faults", json={"status": 200})).status_code == 400


async def test_next_outcome_auto_completes_the_next_checkout(client):
    r = await client.post("/_control/next-outcome", json={"provider": "iamport", "outcome": "amount", "amount": 77})
    assert r.status_code == 200
    page = await client.get(
        "/iamport/checkout", params={"merchant_uid": "m-n", "amount": 1000, "m_redirect_url": "http://shop.test/r"}
    )
    assert page.status_code == 303
    h = await auth(client)
    p = (await client.get("/iamport/payments/find/m-n", headers=h)).json()["response"]
    assert p["amount"] == 77 and p["status"] == "paid"
    page = await client.get("/iamport/checkout", params={"merchant_uid": "m-o", "amount": 1000})
    assert page.status_code == 200  # consumed: back to the clickable page
    bad = await client.post("/_control/next-outcome", json={"provider": "stripe", "outcome": "approve"})
    assert bad.status_code == 400


async def test_ledger_overview_and_reset(client):
    await pay(client, "mid-l", 1000)
    ledger = (await client.get("/_control/ledger")).json()
    assert len(ledger["iamport_payments"]) == 1 and "kakaopay" in ledger and "webhooks" in ledger
    overview = (await client.get("/_control/")).json()
    assert overview["base_urls"]["iamport"] == "http://pgsim.test/iamport"
    assert overview["iamport"]["imp_key"] == "bidcart-imp-key" and overview["paypal"]["webhook_id"]
    assert (await client.post("/_control/reset")).json() == {"reset": True}
    assert (await client.get("/_control/ledger")).json()["iamport_payments"] == {}


async def test_control_api_is_off_by_default():
    app = create_app(SimConfig())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client:
        r = await client.get("/_control/ledger")
        assert r.status_code == 404 and "PGSIM_CONTROL" in r.json()["error"]
        assert (
            await client.post(
                "/iamport/users/getToken", json={"imp_key": "bidcart-imp-key", "imp_secret": "bidcart-imp-secret"}
            )
        ).status_code == 200
    await app.sim.outbox.stop()


async def test_mounted_under_pgsim_builds_urls_with_the_mount_point(config):
    pgsim = create_app(config)
    outer = Starlette(routes=[Route("/", lambda r: PlainTextResponse("shop")), Mount("/pgsim", app=pgsim)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=outer), base_url="http://shop.test:8000") as client:
        assert (await client.get("/")).text == "shop"
        r = await client.post("/pgsim/kakaopay/online/v1/payment/ready", json=ready_body(), headers=NEW)
        url = r.json()["next_redirect_pc_url"]
        assert url.startswith("http://shop.test:8000/pgsim/kakaopay/checkout/")
        page = await client.post(url, data={"action": "approve"})
        assert page.status_code == 303 and "pg_token=" in page.headers["location"]
        token = await client.post(
            "/pgsim/iamport/users/getToken", json={"imp_key": "bidcart-imp-key", "imp_secret": "bidcart-imp-secret"}
        )
        assert token.json()["code"] == 0
        overview = (await client.get("/pgsim/_control/")).json()
        assert overview["base_urls"]["paypal"] == "http://shop.test:8000/pgsim/paypal"
        order_headers = {"Authorization": "Basic YmlkY2FydC1wYXlwYWwtY2xpZW50OmJpZGNhcnQtcGF5cGFsLXNlY3JldA=="}
        t = await client.post(
            "/pgsim/paypal/v1/oauth2/token", data={"grant_type": "client_credentials"}, headers=order_headers
        )
        assert t.status_code == 200
        js = await client.get("/pgsim/iamport/v1/iamport.js")
        assert js.status_code == 200
        assert (await client.get("/kakaopay/online/v1/payment/ready")).status_code == 404  # only under /pgsim
    await pgsim.sim.outbox.stop()


async def test_state_file_persists_and_reloads(tmp_path, config):
    path = tmp_path / "pgsim.sqlite3"
    config = dataclasses.replace(config, state_file=str(path))
    app = create_app(config)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client:
        r = await client.post("/kakaopay/online/v1/payment/ready", json=ready_body(), headers=NEW)
        tid = r.json()["tid"]
        await client.post("/_control/clock", json={"advance": 30})
    await app.sim.outbox.stop()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM records WHERE tbl = 'kakaopay' AND key = ?", (tid,)).fetchone() == (1,)
    assert path.stat().st_mode & 0o077 == 0  # buyers' details: the owner's only
    again = create_app(config)
    assert again.sim.state.clock_offset == 30
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=again), base_url="http://x") as client:
        r = await client.post("/kakaopay/online/v1/payment/order", json={"cid": "TC0ONETIME", "tid": tid}, headers=NEW)
        assert r.status_code == 200 and r.json()["status"] == "READY"
    await again.sim.outbox.stop()


async def test_a_change_writes_its_own_row_whatever_the_state_holds(tmp_path, config):
    """Issue #15 item 5: with 500 payments held, a ready writes one row, an order lookup none, and the
    hosted page's approval one; the old JSON file was rewritten whole each time."""
    config = dataclasses.replace(config, state_file=str(tmp_path / "pgsim.sqlite3"))
    app = create_app(config)
    state = app.sim.state
    for i in range(500):
        state.kakaopay[f"T{i:019d}"] = {"tid": f"T{i:019d}", "status": "SUCCESS_PAYMENT"}
    state.save()
    db = state.store.db
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client:
        before = db.total_changes
        tid = (await client.post("/kakaopay/online/v1/payment/ready", json=ready_body(), headers=NEW)).json()["tid"]
        assert db.total_changes - before == 1
        before = db.total_changes
        await client.post("/kakaopay/online/v1/payment/order", json={"cid": "TC0ONETIME", "tid": tid}, headers=NEW)
        assert db.total_changes - before == 0
        before = db.total_changes
        page = await client.post(f"/kakaopay/checkout/{tid}", data={"action": "approve"})
        assert page.status_code == 303 and db.total_changes - before == 1
    await app.sim.outbox.stop()


async def test_an_older_json_state_file_is_carried_over(tmp_path, config):
    path = tmp_path / "pgsim-state.json"
    path.write_text(
        json.dumps(
            {"kakaopay": {"T1": {"tid": "T1", "status": "READY"}}, "attempts": [{"attempt": 1}], "clock_offset": 5}
        )
    )
    state = State(str(path))
    assert state.kakaopay["T1"]["status"] == "READY" and state.attempts == [{"attempt": 1}] and state.clock_offset == 5
    assert (tmp_path / "pgsim-state.json.json-old").exists()
    assert State(str(path)).kakaopay["T1"]["tid"] == "T1"  # now read from SQLite


async def test_reset_empties_the_file_too(tmp_path, config):
    path = str(tmp_path / "s.sqlite3")
    state = State(path)
    state.webhooks["D1"] = {"id": "D1"}
    state.attempts.append({"attempt": 1})
    state.save()
    state.reset()
    again = State(path)
    assert dict(again.webhooks) == {} and again.attempts == []


def test_config_from_env():
    config = SimConfig.from_env(
        {
            "PGSIM_CONTROL": "1",
            "PGSIM_IMP_KEY": "k",
            "PGSIM_STATE_FILE": "/tmp/s.json",
            "PGSIM_WEBHOOK_BACKOFF": "1,2,3",
            "PGSIM_KAKAOPAY_TID_TTL": "60",
            "PGSIM_PORTONE_WEBHOOK_URL": "http://shop/hook",
            "PGSIM_WEBHOOK_TIMEOUT": "2.5",
        }
    )
    assert config.control is True and config.imp_key == "k" and config.state_file == "/tmp/s.json"
    assert config.webhook_backoff == (1.0, 2.0, 3.0) and config.kakaopay_tid_ttl == 60
    assert config.portone_webhook_url == "http://shop/hook" and config.webhook_timeout == 2.5
    defaults = SimConfig.from_env({})
    assert defaults.control is False and defaults.kakaopay_cid == "TC0ONETIME"
    assert defaults.portone_store_id == "store-bidcart" and defaults.paypal_client_id == "bidcart-paypal-client"


def test_webhook_secrets_are_generated_per_run():
    a, b = create_app(SimConfig()), create_app(SimConfig())
    assert a.sim.portone_webhook_secret.startswith("whsec_")
    assert a.sim.portone_webhook_secret != b.sim.portone_webhook_secret
    fixed = create_app(SimConfig(portone_webhook_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    assert fixed.sim.portone_webhook_secret == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_cli_parses_options_and_runs_uvicorn(monkeypatch, capsys):
    seen = {}

    def fake_run(app, host, port, log_level):
        seen.update(app=app, host=host, port=port)

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.delenv("PGSIM_CONTROL", raising=False)
    assert cli.main(["--port", "9999", "--control"]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 9999 and seen["app"].sim.config.control is True
    out = capsys.readouterr().out
    assert "http://127.0.0.1:9999/kakaopay" in out and "http://127.0.0.1:9999/paypal" in out
    assert "set PGSIM_ALLOWED_ORIGINS" in out  # nothing configured: it says where browsers may not go
    monkeypatch.setenv("PGSIM_ALLOWED_ORIGINS", "http://127.0.0.1:8000")
    assert cli.main([]) == 0
    assert "targets   http://127.0.0.1:8000" in capsys.readouterr().out
    monkeypatch.delenv("PGSIM_ALLOWED_ORIGINS")
    assert cli.main([]) == 0
    assert seen["port"] == 8765 and seen["app"].sim.config.control is False
