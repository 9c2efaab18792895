"""One ASGI application: Django pages and API, WebSockets (Channels), and, when PGSIM_MOUNT is on,
the payment simulator under /pgsim/ so the embedded default needs a single port."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bidcart.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

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


def _pgsim_app():
    from bidcart.pgsim.app import create_app
    from bidcart.pgsim.config import SimConfig

    return create_app(SimConfig.from_env())


pgsim = _pgsim_app() if settings.PGSIM_MOUNT else None


async def application(scope, receive, send):
    path = scope.get("path", "")
    if pgsim is not None and scope["type"] in ("http", "websocket") and (
        path == PGSIM_PREFIX or path.startswith(PGSIM_PREFIX + "/")
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
