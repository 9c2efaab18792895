"""Every app's WebSocket routes, gathered in one place for the ASGI router."""

from bidcart.auctions.routing import websocket_urlpatterns as auctions_ws
from bidcart.core.routing import websocket_urlpatterns as core_ws

websocket_urlpatterns = [*core_ws, *auctions_ws]
