"""The ASGI app: every provider under its own base path, hosted pages, control API.

Standalone it serves at `/`; mounted (Starlette `Mount("/pgsim", app=...)`) it uses
`root_path` both for routing and for every absolute URL it hands out.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from . import hosted
from .config import SimConfig
from .control import Control, apply_faults
from .core import PROVIDERS, Sim, base_url
from .headers import limited, with_strict_headers
from .iamport import Iamport
from .kakaopay import KakaoPay
from .paypal import PayPal
from .portone import PortOne
from .webhooks import Outbox


class PgSim:
    """ASGI wrapper: lazily starts the webhook loop, gates the control API, injects faults."""

    def __init__(self, sim: Sim, router: Starlette):
        self.sim = sim
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        await limited(self._http, scope, receive, with_strict_headers(send), self.sim.config.max_body_bytes)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # No lifespan when mounted: the delivery loop starts with the first request.
        self.sim.outbox.ensure_worker()
        path = get_route_path(scope) or "/"
        if path.startswith("/_control"):
            if not self.sim.config.control:
                response = JSONResponse({"error": "the control API is disabled (set PGSIM_CONTROL=1)"}, status_code=404)
                await response(scope, receive, send)
                return
        else:
            forced = await apply_faults(self.sim, path, scope["method"])
            if forced is not None:
                status, body, after = forced
                if after:  # carried out, its answer thrown away

                    async def lost(message) -> None:
                        return None

                    await self.router(scope, receive, lost)
                await JSONResponse(body, status_code=status)(scope, receive, send)
                return
        await self.router(scope, receive, send)


def create_app(config: SimConfig | None = None) -> PgSim:
    config = config or SimConfig.from_env()
    sim = Sim.build(config)
    sim.outbox = Outbox(sim)
    iamport, portone = Iamport(sim), PortOne(sim)

    async def index(request: Request) -> Response:
        base = base_url(request)
        return hosted.page(request, "pgsim", "index.html", providers=[(p, f"{base}/{p}") for p in PROVIDERS])

    async def paypal_cert(request: Request) -> PlainTextResponse:
        return PlainTextResponse(
            "pgsim does not sign PayPal webhooks with a certificate; "
            "verify them with POST /v1/notifications/verify-webhook-signature."
        )

    routes = [Route("/", index), Route("/paypal/v1/notifications/certs/pgsim", paypal_cert)]
    routes += KakaoPay(sim).routes() + iamport.routes() + portone.routes() + PayPal(sim).routes()
    routes += Control(sim, iamport, portone).routes()
    router = Starlette(routes=routes)
    router.state.sim = sim  # hosted pages read the allowed origins from it
    return PgSim(sim, router)
