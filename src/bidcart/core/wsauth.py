"""Who is on a WebSocket, and whether a browser page of another site opened it.

Two ways in:
- **A token** (apps, scripts, the `websockets` library): the client offers the subprotocols
  `["bidcart.jwt", "<access token>"]` (Sec-WebSocket-Protocol), and the server accepts `bidcart.jwt`.
  Chosen over a ticket endpoint because it needs no second request and no server-side ticket store, and
  over a query-string token because headers don't end up in access logs or proxies' URL logs; browsers
  can send it too (`new WebSocket(url, ["bidcart.jwt", token])`), which a custom header can't.
  Such a socket needs no Origin: a token is not something a page of another site holds. A token that is
  invalid, expired or older than the user's password gets the socket accepted and closed with 4401, so
  the client knows to log in again.
- **The session cookie** (the site's own pages): only with an `Origin` that is this very origin
  (scheme, host *and port* as the browser sent them in `Host`, or one of CSRF_TRUSTED_ORIGINS), and a host
  in ALLOWED_HOSTS; a foreign Origin is refused at the handshake (403). A client that sends no Origin is
  not a browser: it gets no session (anonymous; it may watch) and needs a token to bid or chat.

The scope gets `auth`: "jwt", "invalid_token", "session" or "anonymous". A socket outlives the sign-in it
was opened with, so consumers ask `still_signed_in(scope)` before acting for the user.
"""

from __future__ import annotations

from importlib import import_module
from urllib.parse import urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host
from django.utils.crypto import constant_time_compare

SUBPROTOCOL = "bidcart.jwt"
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def offered_token(scope) -> str | None:
    """The access token a client offered after SUBPROTOCOL, or None when it offered none ("" if the
    token is missing)."""
    protocols = list(scope.get("subprotocols") or [])
    if SUBPROTOCOL not in protocols:
        return None
    at = protocols.index(SUBPROTOCOL)
    return protocols[at + 1] if at + 1 < len(protocols) else ""


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _origin_tuple(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    host, port = split_domain_port(netloc.lower())
    if not host:
        return None
    try:
        return scheme, host, int(port) if port else DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        return None


def same_origin(scope, origin: str) -> bool:
    """Whether a browser's Origin is this site: the Host it connected to, on the same port (a page served
    from another port of the same host is another origin), or a CSRF_TRUSTED_ORIGINS entry."""
    parsed = urlsplit(origin)
    if parsed.scheme not in ("http", "https"):
        return False
    theirs = _origin_tuple(parsed.scheme, parsed.netloc)
    if theirs is None:
        return False
    trusted = [urlsplit(o) for o in getattr(settings, "CSRF_TRUSTED_ORIGINS", [])]
    if any(_origin_tuple(t.scheme, t.netloc) == theirs for t in trusted):
        return True
    host = _header(scope, b"host") or ""
    ours = _origin_tuple(parsed.scheme, host)  # the browser wrote Host for the page's origin, default port omitted
    allowed = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return ours is not None and ours == theirs and validate_host(split_domain_port(host.lower())[0], allowed)


class WebSocketAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner
        self.with_session = AuthMiddlewareStack(inner)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        token = offered_token(scope)
        if token is not None:
            from bidcart.accounts.jwt import user_for_access_token

            user = await database_sync_to_async(user_for_access_token)(token) if token else None
            scope = {**scope, "user": user or AnonymousUser(), "auth": "jwt" if user else "invalid_token"}
            return await self.inner(scope, receive, send)
        origin = _header(scope, b"origin")
        if origin is None:
            return await self.inner({**scope, "user": AnonymousUser(), "auth": "anonymous"}, receive, send)
        if not same_origin(scope, origin):
            return await WebsocketDenier()(scope, receive, send)
        return await self.with_session({**scope, "auth": "session"}, receive, send)


def still_signed_in(scope) -> bool:
    """Whether what authenticated a socket still holds (run it in a thread: it reads the database): the
    JWT's password stamp against the user's row, or the session as stored now (not logged out, signed with
    the current password, as Django checks a page's session). A scope set up without either (tests on a
    consumer) has nothing to re-check."""
    from bidcart.accounts.jwt import password_stamp

    user, auth = scope.get("user"), scope.get("auth")
    if not getattr(user, "is_authenticated", False) or auth not in ("jwt", "session"):
        return True
    fresh = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
    if fresh is None:
        return False
    if auth == "jwt":
        return constant_time_compare(getattr(user, "jwt_stamp", "") or "", password_stamp(fresh))
    key = getattr(scope.get("session"), "session_key", None)
    if not key:
        return False
    stored = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    return str(stored.get(SESSION_KEY)) == str(fresh.pk) and constant_time_compare(
        stored.get(HASH_SESSION_KEY, ""), fresh.get_session_auth_hash()
    )
