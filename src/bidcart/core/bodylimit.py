"""Request body limits at the ASGI door, before Django reads a byte (Django spools a whole body to memory
or disk before any view or middleware runs).

A multipart upload may carry up to MAX_REQUEST_BYTES; any other body (JSON, a form) up to
DATA_UPLOAD_MAX_MEMORY_SIZE, the same limit Django applies when it parses one; a payment webhook up to
WEBHOOK_MAX_BYTES (each is stored before it is verified). A declared Content-Length
over the limit is refused at once; a chunked body is counted as it arrives and cut off when it passes the
limit, or handed on whole with its length (Django's WSGI handler reads only Content-Length bytes). The
refusal is a 413: the error body `{"code": "request_too_large", ...}` under /api/, a short page elsewhere.
deploy/nginx.conf's client_max_body_size matches MAX_REQUEST_BYTES.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings

from .errors import TOO_LARGE

log = logging.getLogger("bidcart.request")

PAGE = b"<!doctype html><title>Request too large</title><h1>Request too large</h1><p>The request body is too large.</p>"


WEBHOOK_PATH = "/payments/webhooks/"


def body_limit(scope) -> int:
    headers = dict(scope.get("headers") or [])
    content_type = headers.get(b"content-type", b"").lower()
    limit = settings.MAX_REQUEST_BYTES
    if not content_type.startswith(b"multipart/form-data") and settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None:
        limit = min(limit, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if scope.get("path", "").startswith(WEBHOOK_PATH):  # anonymous, and every delivery is stored: keep them small
        limit = min(limit, settings.WEBHOOK_MAX_BYTES)
    return limit


def declared_length(scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def refuse(scope, send, limit: int) -> None:
    log.warning(
        "%s %s 413 body over %d bytes",
        scope.get("method"),
        scope.get("path"),
        limit,
        extra={"event": "request", "method": scope.get("method"), "path": scope.get("path"), "status": 413},
    )
    if scope.get("path", "").startswith("/api/"):
        body, content_type = (
            json.dumps({"code": "request_too_large", "detail": TOO_LARGE}).encode(),
            b"application/json",
        )
    else:
        body, content_type = PAGE, b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _has_chunked_body(scope) -> bool:
    return any(
        name == b"transfer-encoding" and b"chunked" in value.lower() for name, value in scope.get("headers") or []
    )


def _replay(body: bytes, receive):
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the client's disconnect

    return replayed


def limit_body(app):
    """Wrap an ASGI app so HTTP request bodies over their limit are answered 413 instead of read."""

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        limit = body_limit(scope)
        if (declared_length(scope) or 0) > limit:
            return await refuse(scope, send, limit)
        if declared_length(scope) is None and _has_chunked_body(scope):
            # Django's WSGI side reads only Content-Length bytes: a chunked body is read here (up to its
            # limit) and handed on whole, with its length.
            chunks, size = [], 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > limit:
                    return await refuse(scope, send, limit)
                if not message.get("more_body"):
                    break
            body = b"".join(chunks)
            headers = [(k, v) for k, v in scope["headers"] if k != b"transfer-encoding"]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
            receive = _replay(body, receive)
        return await app(scope, receive, send)

    return guarded
