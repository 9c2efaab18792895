"""Every app's WebSocket routes, gathered in one place for the ASGI router."""

from bidcart.core.routing import websocket_urlpatterns as core_ws

websocket_urlpatterns = [*core_ws]
