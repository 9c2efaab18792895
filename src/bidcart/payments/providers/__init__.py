"""Provider registry: which adapters are on, and how each is configured.

A provider whose base URL is not set talks to the payment simulator (pgsim) with the simulator's own
test credentials; set its base URL and keys (README, "Real providers") to talk to the real one.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from bidcart.core import site

from .base import Next, Provider, ProviderError, RefundResult, Snapshot, Urls, WebhookNotice, WebhookRejected
from .http import Call, ProviderHTTP

__all__ = [
    "Next",
    "Provider",
    "ProviderError",
    "RefundResult",
    "Snapshot",
    "Urls",
    "WebhookNotice",
    "WebhookRejected",
    "enabled",
    "get",
    "config",
    "adapter_class",
    "classes",
    "choices",
]

# The registry: one line per provider. Everything else about a provider is on its class (base.Provider).
ADAPTERS = (
    "bidcart.payments.providers.kakaopay.KakaoPay",
    "bidcart.payments.providers.portone.PortOneV1",
    "bidcart.payments.providers.portone_v2.PortOneV2",
    "bidcart.payments.providers.paypal.PayPal",
)


@cache
def classes() -> dict[str, type[Provider]]:
    """Every known provider by name, in the registry's order."""
    found = {}
    for path in ADAPTERS:
        module, _, name = path.rpartition(".")
        cls = getattr(import_module(module), name)
        found[cls.name] = cls
    return found


def adapter_class(name: str) -> type[Provider]:
    return classes()[name]


def choices() -> list[tuple[str, str]]:
    return [(cls.name, cls.label) for cls in classes().values()]


def _simulator(path: str, site_url: str = "") -> str:
    """The simulator's base URL for a provider: PGSIM_URL, else the one mounted at /pgsim/ on this site."""
    if settings.PGSIM_URL:
        return f"{settings.PGSIM_URL}/{path}"
    if not site.root(site_url):
        raise ImproperlyConfigured(
            "A payment provider points at the mounted simulator, but its address is unknown here: set SITE_URL "
            "(the shop's public URL) or PGSIM_URL, or give the provider its real base URL and keys."
        )
    return site.absolute_url(f"/pgsim/{path}", base=site_url)


def config(name: str, *, site_url: str = "") -> dict:
    """The provider's settings, with the simulator's base URL and test credentials filled in where the
    base URL is not set. `site_url` is the request's own base URL when SITE_URL is unset."""
    cls = adapter_class(name)
    conf = dict(getattr(settings, cls.settings_key))
    simulator_base = None
    if not conf["base_url"]:
        from bidcart.pgsim.mount import sim_config

        sim = sim_config()
        simulator_base = _simulator(cls.simulator_path, site_url)
        conf.update(base_url=simulator_base, simulator=True)
        for option, attribute in cls.simulator_credentials.items():
            conf[option] = conf[option] or getattr(sim, attribute) or ""
    cls.finish_config(conf, simulator_base=simulator_base)
    conf.setdefault("simulator", False)
    return conf


def enabled() -> list[str]:
    return [name for name in settings.PAYMENT_PROVIDERS if name in classes()]


def get(name: str, *, on_call: Callable[[Call], None] | None = None, site_url: str = "") -> Provider:
    """A ready adapter for `name`; `on_call` receives every HTTP call it makes (the event log)."""
    if name not in enabled():
        raise KeyError(name)
    conf = config(name, site_url=site_url)
    http = ProviderHTTP(conf["base_url"], timeout=settings.PAYMENT_TIMEOUT_SECONDS, on_call=on_call)
    return adapter_class(name)(conf, http)
