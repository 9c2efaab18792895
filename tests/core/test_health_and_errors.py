import json

import pytest

from bidcart.core import jobs


@pytest.mark.django_db
def test_healthz_reports_each_dependency(client):
    jobs.tick()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "cache", "channel_layer", "jobs"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["jobs"]["mode"] == "inprocess"


@pytest.mark.django_db
def test_healthz_says_degraded_when_the_job_loop_has_stalled(client):
    response = client.get("/healthz")  # nothing has ticked in this test
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["jobs"]["ok"] is False


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from bidcart.core import views

    def down():
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(views, "_database", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert "unreachable" in response.json()["checks"]["database"]["error"]


@pytest.mark.django_db
def test_unknown_api_path_answers_json_404(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No such resource."}


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unknown_api_path_answers_json_404_to_unsafe_methods_too(method):
    """Not Django's HTML CSRF page (schemathesis found `POST /api/v1/lots/x/bids/` answering it): a 404
    changes nothing, so there is nothing for CSRF to protect."""
    from django.test import Client

    response = getattr(Client(enforce_csrf_checks=True), method)("/api/v1/lots/not-a-number/bids/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No such resource."}


@pytest.mark.django_db
def test_security_headers_on_pages(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_cors_allows_only_listed_origins_on_the_api(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    ok = client.options("/api/schema/", HTTP_ORIGIN="https://app.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    other = client.options(
        "/api/schema/", HTTP_ORIGIN="https://evil.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert ok["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.django_db
def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert json.loads(schema.content)["info"]["title"] == "bidcart API"
    assert client.get("/api/docs/").status_code == 200


def test_times_are_stored_in_utc_and_shown_in_seoul(settings):
    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "Asia/Seoul"
    assert settings.LANGUAGE_CODE == "ko"


def test_livez_answers_without_touching_the_database(client, db, django_assert_num_queries):
    client.get("/livez")  # the first request of an address asks whether the honeypot blocked it (then cached)
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200 and response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]
