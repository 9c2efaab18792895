"""The simulator as the shop mounts it at /pgsim/ (`PGSIM_MOUNT`), and what the shop shares with it.

The mounted simulator and the shop share the secret of PortOne V2's signed webhooks, and the simulator
delivers PayPal webhooks to this shop (V1 and V2 get notice URLs per payment). The secret is generated
once into the data folder (mode 0600), here, when the simulator is first needed: importing settings
writes nothing.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from bidcart.core.datadir import write_private

from .config import SimConfig

SECRET_FILE = "pgsim_webhook_secret"


def webhook_secret(data_dir: Path) -> str:
    """The mounted simulator's PortOne V2 webhook secret: PGSIM_PORTONE_WEBHOOK_SECRET, else the one
    generated into the data folder. Standard Webhooks secrets are whsec_ + *standard* base64 (pgsim and
    PortOne's SDK decode them so); an older file written with token_urlsafe may not decode, so it is
    replaced."""
    if os.environ.get("PGSIM_PORTONE_WEBHOOK_SECRET"):
        return os.environ["PGSIM_PORTONE_WEBHOOK_SECRET"]
    path = Path(data_dir) / SECRET_FILE
    try:
        secret = path.read_text().strip()
        base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        path.chmod(0o600)  # one an older version left world-readable
    except (OSError, ValueError):
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        write_private(path, secret)
    return secret


def sim_config() -> SimConfig:
    """The simulator's settings (PGSIM_* variables) completed with what the mount shares with the shop."""
    from django.conf import settings

    from bidcart.core import site

    config = SimConfig.from_env()
    if settings.PGSIM_MOUNT:
        config.portone_webhook_secret = config.portone_webhook_secret or webhook_secret(settings.DATA_DIR)
        if site.root() and not config.paypal_webhook_url:
            config.paypal_webhook_url = site.absolute_url("/payments/webhooks/paypal/")
        # PortOne V2's store-wide webhook address (its console's): events no payment names go there, such as
        # a billing key deleted outside the shop
        if site.root() and not config.portone_webhook_url:
            config.portone_webhook_url = site.absolute_url("/payments/webhooks/portone_v2/")
    return config
