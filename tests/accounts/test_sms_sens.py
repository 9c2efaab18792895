"""The Naver Cloud SENS backend against a real local HTTP server that checks signature and body."""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bidcart.accounts import services
from bidcart.accounts.sms import SensSMSBackend, SMSError, split_number

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
SERVICE_ID = "ncp:sms:kr:123456789012:bidcart"


class FakeSens(BaseHTTPRequestHandler):
    """Answers like SENS: 202 for a correctly signed, well-formed request; 401 / 400 otherwise."""

    accepted: list = []
    refused: list = []

    def log_message(self, *args):
        pass

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        timestamp = self.headers.get("x-ncp-apigw-timestamp", "")
        access_key = self.headers.get("x-ncp-iam-access-key", "")
        message = f"POST {self.path}\n{timestamp}\n{access_key}"
        expected = base64.b64encode(hmac.new(SECRET_KEY.encode(), message.encode(), hashlib.sha256).digest()).decode()
        fresh = timestamp.isdigit() and abs(int(timestamp) - time.time() * 1000) < 5 * 60 * 1000
        if (
            access_key != ACCESS_KEY
            or not fresh
            or not hmac.compare_digest(expected, self.headers.get("x-ncp-apigw-signature-v2", ""))
        ):
            self.refused.append(self.path)
            return self._answer(401, {"error": {"errorCode": "200", "message": "Authentication Failed"}})
        if self.path != f"/sms/v2/services/{SERVICE_ID}/messages" or not self.headers.get(
            "Content-Type", ""
        ).startswith("application/json"):
            return self._answer(404, {"error": {"errorCode": "300", "message": "Not Found"}})
        try:
            payload = json.loads(body)
            assert payload["type"] in ("SMS", "LMS", "MMS")
            assert payload["contentType"] in ("COMM", "AD")
            assert payload["countryCode"].isdigit()
            assert payload["from"].isdigit()
            assert 0 < len(payload["content"].encode("euc-kr")) <= 90
            assert payload["messages"] and all(m["to"].isdigit() for m in payload["messages"])
        except (ValueError, KeyError, AssertionError, UnicodeEncodeError):
            return self._answer(400, {"status": 400, "errorMessage": "Bad Request"})
        self.accepted.append(payload)
        self._answer(
            202,
            {
                "requestId": "RSSA-1234",
                "requestTime": "2026-01-01T00:00:00.000",
                "statusCode": "202",
                "statusName": "success",
            },
        )


@pytest.fixture
def sens_server():
    FakeSens.accepted, FakeSens.refused = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSens)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def backend(url, **overrides):
    options = dict(
        access_key=ACCESS_KEY, secret_key=SECRET_KEY, service_id=SERVICE_ID, sender="02-1234-5678", base_url=url
    )
    options.update(overrides)
    return SensSMSBackend(**options)


def test_signed_request_is_accepted(sens_server):
    backend(sens_server).send("+821012345678", "[bidcart] 인증번호는 123456 입니다.")
    assert FakeSens.accepted == [
        {
            "type": "SMS",
            "contentType": "COMM",
            "countryCode": "82",
            "from": "0212345678",
            "content": "[bidcart] 인증번호는 123456 입니다.",
            "messages": [{"to": "01012345678"}],
        }
    ]


def test_wrong_secret_raises_a_clear_error(sens_server):
    with pytest.raises(SMSError, match=r"SENS refused the message: HTTP 401.*Authentication Failed"):
        backend(sens_server, secret_key="not-the-secret").send("+821012345678", "hello")
    assert FakeSens.refused and not FakeSens.accepted


def test_unreachable_server_raises_a_clear_error():
    with pytest.raises(SMSError, match="SENS could not be reached"):
        backend("http://127.0.0.1:9").send("+821012345678", "hello")


def test_missing_configuration_is_reported(settings):
    settings.SENS_ACCESS_KEY = settings.SENS_SECRET_KEY = settings.SENS_SERVICE_ID = settings.SENS_SENDER = ""
    with pytest.raises(SMSError, match="SENS_ACCESS_KEY.*SENS_SECRET_KEY"):
        SensSMSBackend()


def test_signature_matches_the_documented_recipe():
    uri, headers, _body = backend("http://x").build_request("+821012345678", "hi", timestamp="1700000000000")
    message = f"POST {uri}\n1700000000000\n{ACCESS_KEY}".encode()
    expected = base64.b64encode(hmac.new(SECRET_KEY.encode(), message, hashlib.sha256).digest()).decode()
    assert headers["x-ncp-apigw-signature-v2"] == expected
    assert headers["x-ncp-apigw-timestamp"] == "1700000000000" and headers["x-ncp-iam-access-key"] == ACCESS_KEY


def test_number_split():
    assert split_number("+821012345678") == ("82", "01012345678")
    assert split_number("+14155550123") == ("1", "4155550123")


@pytest.mark.django_db
def test_phone_verification_through_sens(sens_server, settings, make_user):
    settings.SMS_BACKEND = "bidcart.accounts.sms.SensSMSBackend"
    settings.SENS_ACCESS_KEY, settings.SENS_SECRET_KEY = ACCESS_KEY, SECRET_KEY
    settings.SENS_SERVICE_ID, settings.SENS_SENDER, settings.SENS_BASE_URL = SERVICE_ID, "0212345678", sens_server
    user = make_user(phone="+821012345678")
    services.request_phone_code(user)
    assert FakeSens.accepted[-1]["messages"] == [{"to": "01012345678"}]
    code = re.search(r"\b(\d{6})\b", FakeSens.accepted[-1]["content"]).group(1)
    services.verify_phone_code(user, code)
    user.refresh_from_db()
    assert user.phone_verified


@pytest.mark.django_db
def test_sens_refusal_surfaces_as_503_on_the_api(sens_server, settings, make_user, login_api):
    settings.SMS_BACKEND = "bidcart.accounts.sms.SensSMSBackend"
    settings.SENS_ACCESS_KEY, settings.SENS_SECRET_KEY = ACCESS_KEY, "wrong-secret"
    settings.SENS_SERVICE_ID, settings.SENS_SENDER, settings.SENS_BASE_URL = SERVICE_ID, "0212345678", sens_server
    client = login_api(make_user(phone="+821012345678"))
    response = client.post("/api/v1/me/phone/code/")
    assert response.status_code == 503 and response.json()["code"] == "sms_unavailable"
