"""Structured logs: one JSON line per request and per sweep run, with the request id (honoured from
X-Request-ID or made up), the user, and the payment's merchant_uid or the auction's lot id."""

import io
import json
import logging
import re
from datetime import timedelta

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from bidcart.core import jobs
from bidcart.core.logs import JsonFormatter, RequestContextFilter, logging_config
from bidcart.core.middleware import RequestObserverMiddleware
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """The JSON lines written to the given loggers, as the production console handler writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    attached = []

    def capture(*names):
        for name in names:
            logger = logging.getLogger(name)
            logger.addHandler(handler)
            attached.append((logger, logger.level))
            logger.setLevel(logging.INFO)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    capture.lines = lines
    yield capture
    for logger, level in attached:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_json_is_the_default_without_debug_and_text_is_for_people():
    as_json = logging_config(log_format="json", level="INFO")
    assert as_json["handlers"]["console"]["formatter"] == "json"
    assert as_json["loggers"]["bidcart.request"]["level"] == "INFO"
    as_text = logging_config(log_format="text", level="INFO")
    assert as_text["handlers"]["console"]["formatter"] == "text"
    assert as_text["loggers"]["bidcart.request"]["level"] == "WARNING"  # `bidcart run` keeps uvicorn's access log


def test_one_json_line_per_request_with_a_generated_request_id(client, json_lines):
    json_lines("bidcart.request")
    response = client.get("/products/?q=secret-query")
    [line] = json_lines.lines()
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert response["X-Request-ID"] == line["request_id"]
    assert line["event"] == "request" and line["level"] == "INFO" and line["logger"] == "bidcart.request"
    assert line["method"] == "GET" and line["route"] == "/products/" and line["path"] == "/products/"
    assert line["status"] == 200 and isinstance(line["duration_ms"], float)
    assert line["user_id"] is None
    assert "secret-query" not in json.dumps(line)  # query strings (tokens, pg_token) stay out of the logs
    assert line["ts"].endswith("+00:00")


def test_the_callers_request_id_is_honoured_and_a_bad_one_replaced(client, json_lines):
    json_lines("bidcart.request")
    kept = client.get("/products/", HTTP_X_REQUEST_ID="nginx-7f3a.12:ab")
    replaced = client.get("/products/", HTTP_X_REQUEST_ID="bad id\nwith newline <script>")
    first, second = json_lines.lines()
    assert kept["X-Request-ID"] == first["request_id"] == "nginx-7f3a.12:ab"
    assert re.fullmatch(r"[0-9a-f]{32}", second["request_id"]) and replaced["X-Request-ID"] == second["request_id"]


def test_the_line_names_the_signed_in_user(client, json_lines):
    user = make_user("logged@example.com")
    client.force_login(user)
    json_lines("bidcart.request")
    client.get("/orders/")
    [line] = json_lines.lines()
    assert line["user_id"] == user.pk and line["status"] == 200


def test_payment_and_auction_urls_put_merchant_uid_and_lot_id_on_the_line(client, json_lines):
    json_lines("bidcart.request")
    client.get("/api/v1/payments/mu_20260101_abcdef/")
    client.get("/auctions/4242/")
    client.get("/api/v1/lots/4243/bids/")
    client.get("/auctions/offers/99/")  # an offer's id is not a lot id
    payment, lot_page, lot_api, offer = json_lines.lines()
    assert (
        payment["merchant_uid"] == "mu_20260101_abcdef" and payment["route"] == "/api/v1/payments/<str:merchant_uid>/"
    )
    assert lot_page["lot_id"] == 4242 and lot_page["route"] == "/auctions/<int:pk>/"
    assert lot_api["lot_id"] == 4243
    assert "lot_id" not in offer and "merchant_uid" not in offer


def test_lines_written_while_answering_carry_the_request_id_and_subject(json_lines, settings):
    json_lines("bidcart.request", "tests.inside")
    inside = logging.getLogger("tests.inside")

    class Match:
        route, view_name, kwargs = "payments/return/<str:merchant_uid>/", "payments:return", {"merchant_uid": "mu_x1"}

    def view(request):
        middleware.process_view(request, None, (), {})
        inside.warning("provider slow")
        return HttpResponse("ok")

    middleware = RequestObserverMiddleware(view)
    request = RequestFactory().get("/payments/return/mu_x1/", HTTP_X_REQUEST_ID="rid-123")
    request.resolver_match = Match()
    middleware(request)
    inside.warning("after the request")
    during, access, after = json_lines.lines()
    assert during["msg"] == "provider slow" and during["request_id"] == "rid-123" and during["merchant_uid"] == "mu_x1"
    assert access["event"] == "request" and access["merchant_uid"] == "mu_x1"
    assert "request_id" not in after and "merchant_uid" not in after  # nothing leaks into the next request


async def test_the_async_path_logs_the_same_line(json_lines):
    json_lines("bidcart.request", "tests.inside")

    async def view(request):
        logging.getLogger("tests.inside").info("in the async view")
        return HttpResponse(status=201)

    middleware = RequestObserverMiddleware(view)
    response = await middleware(RequestFactory().post("/anything/", HTTP_X_REQUEST_ID="async-1"))
    during, access = json_lines.lines()
    assert response.status_code == 201 and response["X-Request-ID"] == "async-1"
    assert during["request_id"] == "async-1"
    assert access["status"] == 201 and access["method"] == "POST" and access["route"] == "<unmatched>"


def test_a_server_error_is_logged_at_error_level(json_lines):
    json_lines("bidcart.request")
    RequestObserverMiddleware(lambda request: HttpResponse(status=502))(RequestFactory().get("/x/"))
    [line] = json_lines.lines()
    assert line["level"] == "ERROR" and line["status"] == 502


def test_one_json_line_per_sweep_run(json_lines):
    json_lines("bidcart.sweeps")

    def broken():
        raise RuntimeError("boom")

    item = jobs.Sweep("tests.logs.ok", lambda: None, timedelta(seconds=5))
    bad = jobs.Sweep("tests.logs.broken", broken, timedelta(seconds=5))
    assert jobs.run_sweep(item) is True
    assert jobs.run_sweep(bad) is False
    ok_line, failed_line = json_lines.lines()
    assert ok_line["event"] == "sweep" and ok_line["sweep"] == "tests.logs.ok" and ok_line["ok"] is True
    assert ok_line["level"] == "INFO" and isinstance(ok_line["duration_ms"], float) and ok_line["lag_s"] == 0.0
    assert (
        failed_line["sweep"] == "tests.logs.broken" and failed_line["ok"] is False and failed_line["level"] == "ERROR"
    )


def test_exceptions_are_one_line_too():
    try:
        raise ValueError("bad thing")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("here",), __import__("sys").exc_info()
        )
    out = JsonFormatter().format(record)
    assert "\n" not in out
    entry = json.loads(out)
    assert entry["msg"] == "failed here" and "ValueError: bad thing" in entry["exc"]
