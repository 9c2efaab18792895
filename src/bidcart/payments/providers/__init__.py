"""Provider registry: which adapters are on, and how each is configured.

A provider whose base URL is not set talks to the payment simulator (pgsim) with the simulator's own
test credentials; set its base URL and keys (README, "Real providers") to talk to the real one.
"""

from __future__ import annotations

from importlib import import_module
from typing import Callable

from django.conf import settings

from .base import Next, Provider, ProviderError, RefundResult, Snapshot, Urls, WebhookNotice, WebhookRejected
from .http import Call, ProviderHTTP

__all__ = [
    "Next", "Provider", "ProviderError", "RefundResult", "Snapshot", "Urls", "WebhookNotice", "WebhookRejected",
    "enabled", "get", "config", "adapter_class",
]

ADAPTERS = {
    "kakaopay": "bidcart.payments.providers.kakaopay.KakaoPay",
    "portone": "bidcart.payments.providers.portone.PortOneV1",
    "portone_v2": "bidcart.payments.providers.portone_v2.PortOneV2",
    "paypal": "bidcart.payments.providers.paypal.PayPal",
}


def _simulator(path: str, site_url: str = "") -> str:
    site = (settings.SITE_URL or site_url).rstrip("/")
    if not (settings.PGSIM_URL or site):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "A payment provider points at the mounted simulator, but its address is unknown here: set SITE_URL "
            "(the shop's public URL) or PGSIM_URL, or give the provider its real base URL and keys.")
    return f"{settings.PGSIM_URL or site + '/pgsim'}/{path}"


def config(name: str, *, site_url: str = "") -> dict:
    """The provider's settings, with the simulator's base URL and test credentials filled in where the
    base URL is not set. `site_url` is the request's own base URL when SITE_URL is unset."""
    from bidcart.pgsim.config import SimConfig

    sim = SimConfig()
    if name == "kakaopay":
        conf = dict(settings.KAKAOPAY)
        if not conf["base_url"]:
            conf.update(base_url=_simulator("kakaopay", site_url), simulator=True,
                        secret_key=conf["secret_key"] or sim.kakaopay_secret_key,
                        admin_key=conf["admin_key"] or sim.kakaopay_admin_key)
    elif name == "portone":
        conf = dict(settings.PORTONE)
        if not conf["base_url"]:
            base = _simulator("iamport", site_url)
            conf.update(base_url=base, simulator=True, imp_key=conf["imp_key"] or sim.imp_key,
                        imp_secret=conf["imp_secret"] or sim.imp_secret,
                        script_url=conf["script_url"] or f"{base}/v1/iamport.js")
        conf["script_url"] = conf["script_url"] or "https://cdn.iamport.kr/v1/iamport.js"
    elif name == "portone_v2":
        conf = dict(settings.PORTONE_V2)
        if not conf["base_url"]:
            base = _simulator("portone", site_url)
            conf.update(base_url=base, simulator=True, secret=conf["secret"] or sim.portone_secret,
                        store_id=conf["store_id"] or sim.portone_store_id,
                        webhook_secret=conf["webhook_secret"] or _env_webhook_secret(),
                        script_url=conf["script_url"] or f"{base}/browser-sdk.js")
        conf["script_url"] = conf["script_url"] or "https://cdn.portone.io/v2/browser-sdk.js"
    elif name == "paypal":
        conf = dict(settings.PAYPAL)
        if not conf["base_url"]:
            conf.update(base_url=_simulator("paypal", site_url), simulator=True,
                        client_id=conf["client_id"] or sim.paypal_client_id,
                        client_secret=conf["client_secret"] or sim.paypal_client_secret,
                        webhook_id=conf["webhook_id"] or sim.paypal_webhook_id)
    else:
        raise KeyError(name)
    conf.setdefault("simulator", False)
    return conf


def _env_webhook_secret() -> str:
    import os

    return os.environ.get("PGSIM_PORTONE_WEBHOOK_SECRET", "")


def enabled() -> list[str]:
    return [name for name in settings.PAYMENT_PROVIDERS if name in ADAPTERS]


def adapter_class(name: str) -> type[Provider]:
    module, _, cls = ADAPTERS[name].rpartition(".")
    return getattr(import_module(module), cls)


def get(name: str, *, on_call: Callable[[Call], None] | None = None, site_url: str = "") -> Provider:
    """A ready adapter for `name`; `on_call` receives every HTTP call it makes (the event log)."""
    if name not in enabled():
        raise KeyError(name)
    conf = config(name, site_url=site_url)
    http = ProviderHTTP(conf["base_url"], timeout=settings.PAYMENT_TIMEOUT_SECONDS, on_call=on_call)
    return adapter_class(name)(conf, http)
