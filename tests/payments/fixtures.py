"""Payment fixtures (a pytest plugin, registered in tests/conftest.py so the services suite has them too).

Payment tests talk to a real payment simulator over real HTTP.

- `pgsim_url`: a standalone pgsim (control API on) served by uvicorn in a thread for the whole session;
  `sim` resets it before each test and points the shop's providers at it (PGSIM_URL).
- `order`: an order of `buyer`'s awaiting payment (₩25,000 + ₩3,000 shipping).
- Webhooks need the shop reachable too: those tests use `live_shop` (the whole product, with the
  simulator mounted, on one real server).
"""

from __future__ import annotations

import httpx
import pytest

from bidcart.pgsim.app import create_app
from bidcart.pgsim.config import SimConfig
from tests.factories import ADDRESS, make_product, make_user
from tests.livesrv import running_server


@pytest.fixture(scope="session")
def pgsim_app():
    app = create_app(SimConfig(control=True, webhook_backoff=(0.2, 0.5), fault_timeout=2.0, allowed_origins=("*",)))
    with running_server(app) as url:
        app.url = url
        yield app


@pytest.fixture(scope="session")
def pgsim_url(pgsim_app):
    return pgsim_app.url


class WebhookRecorder:
    """A stand-in webhook endpoint on a real port: records what the simulator delivers (headers and
    raw body, exactly as sent) and answers 200, so a test can hand the deliveries to the shop itself."""

    def __init__(self):
        self.deliveries: list[dict] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.deliveries.append(
            {"path": scope["path"], "headers": {k.decode(): v.decode() for k, v in scope["headers"]}, "body": body}
        )
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})


@pytest.fixture
def webhook_recorder(pgsim_app):
    """Point the simulator's PayPal webhooks at a recorder for this test."""
    recorder = WebhookRecorder()
    with running_server(recorder) as url:
        recorder.url = url
        pgsim_app.sim.config.paypal_webhook_url = f"{url}/paypal"
        try:
            yield recorder
        finally:
            pgsim_app.sim.config.paypal_webhook_url = None


class SimControl:
    """The simulator's control API (docs/pgsim.md, "Control API")."""

    def __init__(self, base: str):
        self.base = base
        self.http = httpx.Client(base_url=f"{base}/_control", timeout=10)

    def reset(self):
        self.http.post("/reset").raise_for_status()

    def next_outcome(self, provider: str, outcome: str, amount=None):
        body = {"provider": provider, "outcome": outcome}
        if amount is not None:
            body["amount"] = amount
        self.http.post("/next-outcome", json=body).raise_for_status()

    def fault(self, path: str, **rule):
        self.http.post("/faults", json={"path": path, **rule}).raise_for_status()

    def clear_faults(self):
        self.http.delete("/faults").raise_for_status()

    def webhooks(self, **knobs):
        if knobs:
            self.http.post("/webhooks", json=knobs).raise_for_status()
        return self.http.get("/webhooks").json()

    def flush_webhooks(self):
        return self.http.post("/webhooks/flush").json()

    def deposit(self, **ref):
        self.http.post("/vbank/deposit", json=ref).raise_for_status()

    def ledger(self) -> dict:
        return self.http.get("/ledger").json()

    def advance_clock(self, seconds: float):
        self.http.post("/clock", json={"advance": seconds}).raise_for_status()


@pytest.fixture
def sim(pgsim_url, settings):
    settings.PGSIM_URL = pgsim_url
    settings.SITE_URL = "http://shop.test"
    control = SimControl(pgsim_url)
    control.reset()
    yield control
    control.reset()


@pytest.fixture
def order(db, buyer):
    return make_order(buyer)


def make_order(user, *, price=25000, quantity=1, stock=5):
    """A real order placed from `user`'s cart (stock allocated, amounts computed by the server)."""
    from bidcart.cart import services as cart
    from bidcart.orders import services as orders

    product = make_product(make_user(seller=True), name="무선 이어폰", price=price, stock=stock)
    cart.add_item(cart._user_cart(user), product.variants.get().pk, quantity)
    return orders.place_order(user, shipping_address=ADDRESS)


@pytest.fixture
def live_shop(transactional_db, settings):
    """The whole product on one real server, providers pointed at its mounted simulator."""
    import bidcart.asgi

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with running_server() as url:
        settings.SITE_URL = url
        settings.PGSIM_URL = f"{url}/pgsim"
        bidcart.asgi.pgsim.sim.config.paypal_webhook_url = f"{url}/payments/webhooks/paypal/"
        bidcart.asgi.pgsim.sim.config.portone_webhook_url = f"{url}/payments/webhooks/portone_v2/"  # the console's
        bidcart.asgi.pgsim.sim.config.webhook_backoff = (0.3, 0.6)  # retries in a test's time
        control = SimControl(f"{url}/pgsim")
        control.reset()
        yield url, control
        control.reset()


def portone_window(script: str, params: dict) -> tuple[str, dict]:
    """The payment window PortOne's browser SDK opens for these parameters: (URL, form fields), with
    nested values flattened as browser-sdk.js does for V2."""
    if script.endswith("/v1/iamport.js"):
        return script.replace("/v1/iamport.js", "/checkout"), {k: str(v) for k, v in params.items()}
    fields = {k: str(v) for k, v in params.items() if k not in ("noticeUrls", "customer")}
    fields["noticeUrls"] = ",".join(params.get("noticeUrls", []))
    fields.update({f"customer.{k}": v for k, v in params.get("customer", {}).items()})
    return script.replace("/browser-sdk.js", "/checkout"), fields


def pay_in_portone_window(script: str, params: dict, action="approve", tamper_amount="") -> str:
    """The buyer ends the window with `action`; answers where the browser is sent (the return URL)."""
    checkout, fields = portone_window(script, params)
    response = httpx.post(checkout, data={**fields, "action": action, "tamper_amount": str(tamper_amount)}, timeout=10)
    assert response.status_code == 303, response.text[:300]
    return response.headers["location"]
