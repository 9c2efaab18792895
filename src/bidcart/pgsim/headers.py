"""pgsim's own response headers and body limit, at its ASGI door.

Mounted, pgsim is dispatched before the shop (bidcart.asgi), so none of the shop's middleware runs for
it: no CSP, no X-Frame-Options, no body limit. These give every pgsim response strict headers (a page's
own CSP with its nonce is set by hosted.py; anything else gets `default-src 'none'`) and refuse a body
over `SimConfig.max_body_bytes` with 413 before it is read into memory.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"cross-origin-opener-policy": b"unsafe-none",  # the SDK scripts talk to their popup via window.opener
    b"content-security-policy": b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
}


def with_strict_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            present = {name.lower() for name, _ in headers}
            headers += [(name, value) for name, value in STRICT.items() if name not in present]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": "request_too_large", "message": f"The request body is over {limit} bytes."}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def limited(app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Run `app` with a request body of at most `limit` bytes: a declared Content-Length over it is
    refused at once; a chunked body is counted as it arrives and cut off past the limit."""
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                if int(value) > limit:
                    await too_large(send, limit)
                    return
            except ValueError:
                pass
    received, cut, started = 0, False, False

    async def counted() -> Message:
        nonlocal received, cut
        if cut:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                cut = True
                return {"type": "http.disconnect"}
        return message

    async def tracked(message: Message) -> None:
        nonlocal started
        if cut and not started:
            return  # the handler saw the client leave (its 500, if any, is dropped); the 413 below answers
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, counted, tracked)
    except Exception:  # Starlette's ClientDisconnect from the cut body, re-raised past its error page
        if not cut:
            raise
    if cut and not started:
        await too_large(send, limit)
