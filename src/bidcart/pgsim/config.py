"""Simulator settings: credentials the providers check, webhook targets, persistence."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

_TRUE = {"1", "true", "yes", "on"}


@dataclass
class SimConfig:
    # KakaoPay: the newer API uses `SECRET_KEY <key>`, the legacy one `KakaoAK <admin key>`.
    kakaopay_secret_key: str = "bidcart-kakaopay-secret"
    kakaopay_admin_key: str = "bidcart-kakao-admin-key"
    kakaopay_cid: str = "TC0ONETIME"
    kakaopay_subscription_cid: str = "TCSUBSCRIP"  # 정기결제: its first payment issues an sid
    kakaopay_tid_ttl: int = 15 * 60  # an unapproved tid expires after 15 minutes
    # PortOne V1 (Iamport)
    imp_key: str = "bidcart-imp-key"
    imp_secret: str = "bidcart-imp-secret"
    iamport_token_ttl: int = 30 * 60
    iamport_webhook_url: str | None = None
    iamport_pg_api_key: str = "bidcart-inicis-api-key"  # Inicis's key for closing virtual accounts
    # PortOne V2
    portone_secret: str = "bidcart-portone-secret"
    portone_store_id: str = "store-bidcart"
    portone_webhook_url: str | None = None
    portone_webhook_secret: str | None = None  # None: a fresh `whsec_...` per run
    # PayPal
    paypal_client_id: str = "bidcart-paypal-client"
    paypal_client_secret: str = "bidcart-paypal-secret"
    paypal_webhook_url: str | None = None
    paypal_webhook_id: str = "1PGSIMBIDCART0WEBHOOK000"  # PayPal's are alphanumeric (`^[a-zA-Z0-9]+$`)
    paypal_webhook_secret: str | None = None  # None: random per run
    paypal_token_ttl: int = 32400
    # Simulator behaviour
    control: bool = False
    state_file: str | None = None  # an SQLite file (see state.py); none: kept in memory only
    # Origins pgsim may redirect a browser to or deliver a webhook to besides the configured webhook
    # URLs' (targets.py). `*` = any, only standalone (a test bed); never when mounted in the shop.
    allowed_origins: tuple[str, ...] = ()
    # Set when mounted in the shop: the shop's own origins for a request's scope (bidcart.asgi).
    shop_origins: Callable[[dict], list[str]] | None = field(default=None, repr=False, compare=False)
    # The largest request body pgsim reads (413 above it); mounted, the shop's DATA_UPLOAD_MAX_MEMORY_SIZE.
    max_body_bytes: int = 2_621_440
    # Webhook retries (PortOne V2 and PayPal): delays in seconds before attempt 2, 3, ... The providers
    # retry over hours at growing minute intervals (docs/pgsim.md); tests set seconds.
    webhook_backoff: tuple[float, ...] = (60, 300, 1800, 7200, 18000, 36000)
    # PortOne V1 does not retry a failed notification on its own; it is sent again only when asked
    # (the console's resend; here POST /_control/webhooks/resend). True: retry like V2, on webhook_backoff.
    iamport_webhook_retry: bool = False
    webhook_timeout: float = 10.0
    # How long a forced "timeout" fault holds a request before answering 504.
    fault_timeout: float = 30.0
    vbank_due_seconds: int = 3 * 24 * 3600
    # Tests only: an httpx transport used to deliver webhooks (e.g. an ASGITransport).
    webhook_transport: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "SimConfig":
        env = os.environ if environ is None else environ
        config = cls()
        for name, value in vars(config).items():
            key = "PGSIM_" + name.upper()
            if name in ("webhook_transport", "shop_origins") or key not in env:
                continue
            raw = env[key]
            if isinstance(value, bool):
                config.__dict__[name] = raw.strip().lower() in _TRUE
            elif isinstance(value, int):
                config.__dict__[name] = int(raw)
            elif isinstance(value, float):
                config.__dict__[name] = float(raw)
            elif name == "allowed_origins":
                config.__dict__[name] = tuple(x.strip() for x in raw.split(",") if x.strip())
            elif isinstance(value, tuple):
                config.__dict__[name] = tuple(float(x) for x in raw.split(",") if x.strip())
            else:
                config.__dict__[name] = raw or None
        return config
