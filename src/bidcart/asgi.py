"""One ASGI application: Django pages and API, WebSockets (Channels), and, when PGSIM_MOUNT is on,
the payment simulator under /pgsim/ so the embedded default needs a single port."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bidcart.settings")

from a2wsgi import WSGIMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

# HTTP goes to Django's WSGI handler on a pool of threads: one hop from the event loop per request. Django's
# own ASGI handler hops between the loop and one shared thread at every sync/async boundary of the
# middleware chain and around the view (about 4 ms of CPU per page here; bench/README.md, "Where the
# time went"), and runs every sync view of the process on that one thread. WebSockets stay on Channels.
django_app = WSGIMiddleware(get_wsgi_application(), workers=settings.HTTP_THREADS)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from bidcart.core.bodylimit import limit_body  # noqa: E402
from bidcart.core.wsauth import WebSocketAuthMiddleware  # noqa: E402
from bidcart.routing import websocket_urlpatterns  # noqa: E402

PGSIM_PREFIX = "/pgsim"

shop = ProtocolTypeRouter(
    {
        "http": limit_body(django_app),  # 413 for a body over its limit, before Django reads it
        # a JWT (Sec-WebSocket-Protocol) or the session cookie with this site's own Origin: core/wsauth.py
        "websocket": WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns)),
    }
)


def _shop_origins(scope) -> list[str]:
    """Where the mounted simulator may send browsers and webhooks: the shop's own origin. SITE_URL when
    set; otherwise the request's own origin, if its host is one the shop serves (ALLOWED_HOSTS) and its
    port the one this server listens on (a forged `Host: 127.0.0.1:6379` names another service)."""
    if settings.SITE_URL:
        return [settings.SITE_URL]
    from django.http.request import split_domain_port, validate_host

    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    domain, port = split_domain_port(host)
    scheme = scope.get("scheme", "http")
    server_port = (scope.get("server") or (None, None))[1]
    default = {"http": 80, "https": 443}.get(scheme)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return []
    if (int(port) if port else default) != server_port:
        return []
    return [f"{scheme}://{host}"]


def _pgsim_app():
    import dataclasses

    from bidcart.pgsim.app import create_app
    from bidcart.pgsim.mount import sim_config

    return create_app(
        dataclasses.replace(
            sim_config(), shop_origins=_shop_origins, max_body_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
        )
    )


pgsim = _pgsim_app() if settings.PGSIM_MOUNT else None


async def application(scope, receive, send):
    path = scope.get("path", "")
    if (
        pgsim is not None
        and scope["type"] in ("http", "websocket")
        and (path == PGSIM_PREFIX or path.startswith(PGSIM_PREFIX + "/"))
    ):
        # Starlette Mount semantics: the path stays whole, root_path gains the prefix.
        await pgsim({**scope, "root_path": scope.get("root_path", "") + PGSIM_PREFIX}, receive, send)
        return
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await shop(scope, receive, send)


async def _lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
