"""/readyz (dependencies, for a load balancer) and /metrics (Prometheus, for the operator's scraper)."""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.cache import cache
from prometheus_client.parser import text_string_to_metric_families

from bidcart.core import jobs, metrics
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict:
    """/metrics as {(sample name, frozenset(labels)): value}."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")  # Prometheus text exposition
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- /readyz ---------------------------------------------------------------------------------------


def test_readyz_is_200_when_every_dependency_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["failed"] == []
    assert set(body["checks"]) == {"database", "cache", "channel_layer"}  # no Redis in the embedded default
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_is_503_and_names_the_database_when_it_is_down(client, monkeypatch):
    from bidcart.core import views

    def down():
        raise ConnectionError("connection refused")

    monkeypatch.setattr(views, "_database", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert "connection refused" in response.json()["checks"]["database"]["error"]


def test_readyz_checks_redis_and_the_broker_when_configured(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.BIDCART_JOBS = "celery"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/1"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["failed"] == ["broker", "redis"]
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]


def test_readyz_does_not_fail_on_a_stalled_job_loop_but_healthz_reports_it(client):
    assert client.get("/readyz").status_code == 200  # nothing has ticked
    assert client.get("/healthz").json()["status"] == "degraded"


# --- /metrics: who may read it ----------------------------------------------------------------------


def test_metrics_are_served_to_localhost_by_default(client):
    client.get("/healthz")
    samples = scrape(client)
    assert value(samples, "bidcart_http_requests_total", method="GET", route="/healthz", status="200") >= 1
    assert value(samples, "bidcart_http_request_duration_seconds_count", method="GET", route="/healthz") >= 1


def test_metrics_refuse_other_addresses(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.content.decode()
    assert "bidcart_" not in response.content.decode()


def test_a_forwarded_for_header_does_not_unlock_metrics_without_trusted_proxies(client, settings):
    settings.NUM_PROXIES = 0
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 403


def test_metrics_accept_an_allowed_network_and_the_bearer_token(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403  # no longer listed
    assert (
        client.get(
            "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789"
        ).status_code
        == 200
    )
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


# --- /metrics: what it counts -----------------------------------------------------------------------


def test_requests_are_counted_by_url_pattern_never_by_raw_path(client):
    before = scrape(client)
    for lot in (987001, 987002, 987003):
        client.get(f"/auctions/{lot}/")
    client.get("/no-such-page-4711/")
    after = scrape(client)
    route = {"method": "GET", "route": "/auctions/<int:pk>/", "status": "404"}
    assert (
        value(after, "bidcart_http_requests_total", **route) - value(before, "bidcart_http_requests_total", **route)
        == 3
    )
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert (
        value(after, "bidcart_http_requests_total", **unmatched)
        - value(before, "bidcart_http_requests_total", **unmatched)
        == 1
    )
    latency = {"method": "GET", "route": "/auctions/<int:pk>/"}
    assert (
        value(after, "bidcart_http_request_duration_seconds_count", **latency)
        - value(before, "bidcart_http_request_duration_seconds_count", **latency)
    ) == 3
    text = client.get("/metrics").content.decode()
    labels = " ".join(
        re.findall(r"\{[^}]*\}", text)
    )  # the raw paths must be in no label (a sample's value may hold any digits)
    assert "987001" not in labels and "no-such-page-4711" not in labels


def test_the_secret_admin_path_never_shows_in_metrics(client, settings):
    client.get(f"/{settings.ADMIN_PATH}login/")
    text = client.get("/metrics").content.decode()
    assert 'route="/<admin>/login/"' in text
    assert settings.ADMIN_PATH not in text


def test_sweep_runs_lag_and_failures_are_reported(client):
    def broken():
        raise RuntimeError("boom")

    jobs.sweep(every=timedelta(seconds=30), name="tests.metrics.broken")(broken)
    try:
        jobs.tick()
        samples = scrape(client)
        sweep = "bidcart.orders.tasks.expire_unpaid_orders"
        assert value(samples, "bidcart_sweep_runs_total", sweep=sweep, outcome="ok") == 1
        assert value(samples, "bidcart_sweep_runs_total", sweep="tests.metrics.broken", outcome="failed") == 1
        assert ("bidcart_sweep_last_run_timestamp_seconds", frozenset({("sweep", sweep)})) in samples
        assert ("bidcart_jobs_heartbeat_age_seconds", frozenset()) in samples
        # A sweep whose last run was long ago is reported as that far behind its schedule.
        cache.set(f"bidcart:metrics:sweep:{sweep}:last", cache.get(f"bidcart:metrics:sweep:{sweep}:last") - 3600)
        every = next(s.every.total_seconds() for s in jobs.registered() if s.name == sweep)
        assert value(scrape(client), "bidcart_sweep_lag_seconds", sweep=sweep) >= 3600 - every
    finally:
        jobs._registry.pop("tests.metrics.broken", None)


def test_counters_other_apps_increment_show_up(client):
    before = scrape(client)
    metrics.bids.labels(outcome="accepted").inc()
    metrics.bids.labels(outcome="refused").inc(2)
    after = scrape(client)
    assert (
        value(after, "bidcart_bids_total", outcome="accepted") - value(before, "bidcart_bids_total", outcome="accepted")
        == 1
    )
    assert (
        value(after, "bidcart_bids_total", outcome="refused") - value(before, "bidcart_bids_total", outcome="refused")
        == 2
    )


def test_a_captured_payment_is_counted_by_provider_and_outcome(client, sim, django_capture_on_commit_callbacks):
    from tests.payments.fixtures import make_order
    from tests.payments.test_flows import back_to_shop, start, through_page

    buyer = make_user("metrics-buyer@example.com")
    order = make_order(buyer)
    before = scrape(client)
    started = start(buyer, order, "kakaopay")
    client.force_login(buyer)
    with django_capture_on_commit_callbacks(execute=True):
        back_to_shop(client, through_page(sim, "kakaopay", started["next"]["url"], "approve"))
    after = scrape(client)
    paid = {"provider": "kakaopay", "outcome": "paid"}
    assert value(after, "bidcart_payments_total", **paid) - value(before, "bidcart_payments_total", **paid) == 1


def test_webhook_deliveries_are_counted_by_provider_and_state(client, settings, django_capture_on_commit_callbacks):
    from bidcart.payments.models import WebhookDelivery

    settings.SITE_URL = "http://shop.test"

    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/payments/webhooks/portone_v2/", data=b'{"type": "Transaction.Paid"}', content_type="application/json"
        )
    state = WebhookDelivery.objects.latest("received_at").state
    assert state == WebhookDelivery.State.REJECTED  # unsigned
    after = scrape(client)
    labels = {"provider": "portone_v2", "state": state}
    assert (
        value(after, "bidcart_webhook_deliveries_total", **labels)
        - value(before, "bidcart_webhook_deliveries_total", **labels)
        == 1
    )


def test_several_processes_add_up_in_multiprocess_mode(tmp_path):
    """`bidcart serve --workers N` sets PROMETHEUS_MULTIPROC_DIR: any worker's /metrics answers for all."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "bidcart.settings"}
    setup = "import django; django.setup(); from bidcart.core import metrics; "
    for _ in range(2):  # two "workers", each counting one accepted bid
        subprocess.run(
            [sys.executable, "-c", setup + "metrics.bids.labels(outcome='accepted').inc()"],
            env=env,
            check=True,
            timeout=60,
        )
    out = subprocess.run(
        [sys.executable, "-c", setup + "print(metrics.exposition()[0].decode())"],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    assert 'bidcart_bids_total{outcome="accepted"} 2.0' in out
