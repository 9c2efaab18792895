"""Request size limits: a JSON or form body over DATA_UPLOAD_MAX_MEMORY_SIZE, or an upload over
MAX_REQUEST_BYTES, is answered 413 (the error body under /api/), never a 500, and on a real server before
the body is read; nginx's limit in deploy/ is the app's."""

import json
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.livesrv import running_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_limits(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    settings.MAX_REQUEST_BYTES = 50_000


@pytest.fixture
def server(transactional_db, small_limits):
    with running_server() as url:
        yield url


def raw_request(url: str, head: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    """Send exactly these bytes (a request head, maybe part of a body) and read the answer to the end."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head_part, _, payload = data.partition(b"\r\n\r\n")
    lines = head_part.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, payload


def test_an_oversized_json_body_is_413_with_the_error_body(client, db, small_limits):
    body = json.dumps({"email": "a@example.com", "display_name": "x" * 20_000, "password": "p"})
    response = client.post("/api/v1/auth/signup/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"code": "request_too_large", "detail": "The request body is too large."}


def test_the_server_refuses_a_declared_oversized_body_before_reading_it(server):
    # Only the head is sent: a server that waited for the 10 MB would never answer.
    status, headers, body = raw_request(
        server,
        "POST /api/v1/auth/signup/ HTTP/1.1\nHost: 127.0.0.1\n"
        "Content-Type: application/json\nContent-Length: 10000000\n",
    )
    assert status == 413 and headers["content-type"] == "application/json"
    assert json.loads(body)["code"] == "request_too_large"
    status, headers, body = raw_request(
        server,
        "POST /accounts/signup/ HTTP/1.1\nHost: 127.0.0.1\n"
        "Content-Type: application/x-www-form-urlencoded\nContent-Length: 20000\n",
    )
    assert status == 413 and headers["content-type"].startswith("text/html") and b"too large" in body
    assert httpx.get(f"{server}/healthz").status_code == 200


def test_a_chunked_body_is_cut_off_when_it_passes_the_limit(server):
    chunk = b"x" * 4_000
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3))  # 12,000 bytes, and no end
    status, _, answer = raw_request(
        server,
        "POST /api/v1/auth/signup/ HTTP/1.1\nHost: 127.0.0.1\n"
        "Content-Type: application/json\nTransfer-Encoding: chunked\n",
        body,
    )
    assert status == 413 and json.loads(answer)["code"] == "request_too_large"


def test_uploads_have_the_larger_limit(server):
    files = {"image": ("photo.jpg", b"\xff" * 20_000, "image/jpeg")}  # over DATA_UPLOAD_MAX_MEMORY_SIZE
    passed = httpx.post(f"{server}/api/v1/auth/signup/", files=files)
    assert passed.status_code == 415  # read and answered by the view (it takes JSON), not refused at the door
    status, _, body = raw_request(
        server,
        "POST /api/v1/auth/signup/ HTTP/1.1\nHost: 127.0.0.1\n"
        "Content-Type: multipart/form-data; boundary=x\nContent-Length: 60000\n",
    )
    assert status == 413 and json.loads(body)["code"] == "request_too_large"


def test_a_body_within_the_limit_is_served(server):
    response = httpx.post(
        f"{server}/api/v1/auth/signup/",
        json={
            "email": "fits@example.com",
            "display_name": "Fits",
            "password": "correct-horse-battery-9",
            "consents": {"terms": True, "privacy": True, "age": True},
        },
    )
    assert response.status_code == 201, response.text


def test_nginx_takes_the_same_largest_request_as_the_app(settings):
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    size = re.search(r"^\s*client_max_body_size (\d+)m;", conf, re.MULTILINE)
    assert size and int(size.group(1)) * 1024 * 1024 == settings.MAX_REQUEST_BYTES


def test_a_chunked_body_under_the_limit_reaches_the_view_whole(server):
    payload = json.dumps(
        {
            "email": "chunked@example.com",
            "display_name": "청크",
            "password": "short",
            "consents": {"terms": True, "privacy": True, "age": True},
        }
    ).encode()
    halves = (payload[: len(payload) // 2], payload[len(payload) // 2 :])
    body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in halves) + b"0\r\n\r\n"
    status, _, answer = raw_request(
        server,
        "POST /api/v1/auth/signup/ HTTP/1.1\nHost: 127.0.0.1\n"
        "Content-Type: application/json\nTransfer-Encoding: chunked\nConnection: close\n",
        body,
    )
    # The view read every field: only the password is refused (an empty body would miss the email too).
    assert status == 400
    assert set(json.loads(answer)["errors"]) == {"password"}
