"""The one reader of the environment for the values more than one place needs: settings.py (as Django
starts), the `bidcart` command (before Django starts: the data folder, the worker count) and the deploy
checks (`bidcart serve` runs them before Django starts, so that a missing SECRET_KEY gets their clear
answer; `check --deploy` after). Each default is written here, once; settings.py copies these values
and reads the variables no one else needs itself.

No Django imports at module level, and no side effects: reading the environment writes nothing (files
in the data folder are made by the commands that start bidcart: core/datadir.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import environ as django_environ

from bidcart.core.datadir import SQLITE_FILE

# `PGSIM_ACKNOWLEDGE` must be exactly this for `bidcart serve` to take payments through the simulator
# (a demo or a load-test stack): fake payments on a public server must be a deliberate choice.
PGSIM_ACKNOWLEDGEMENT = "payments-are-simulated"


@dataclass(frozen=True)
class Environment:
    data_dir: Path
    debug: bool
    secret_key: str  # "" when not set
    allowed_hosts: list[str] | None  # None when ALLOWED_HOSTS is not set at all
    database_url: str  # "" when not set (the embedded SQLite file)
    redis_url: str
    site_url: str
    pgsim_mount: bool
    pgsim_url: str
    pgsim_acknowledged: bool
    payment_providers: list[str]
    admin_path: str = ""  # BIDCART_ADMIN_PATH; "" when not set (the one generated into the data folder)
    web_concurrency: str = ""  # WEB_CONCURRENCY as given; read it through `workers`
    providers: dict[str, dict[str, str]] = field(default_factory=dict)  # name → its options (settings.<KEY>)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / SQLITE_FILE

    @property
    def workers(self) -> int:
        """Server processes `bidcart serve` starts (and `check --deploy` judges): WEB_CONCURRENCY, else
        one on SQLite or without Redis, else as many as the CPUs, up to 4. Only the commands that serve ask,
        so a malformed WEB_CONCURRENCY stops them, not every process that loads settings."""
        if self.web_concurrency:
            try:
                return int(self.web_concurrency)
            except ValueError:
                raise ValueError(f"WEB_CONCURRENCY must be a whole number, not {self.web_concurrency!r}.") from None
        scaled = self.database_url.startswith(("postgres", "pgsql")) and self.redis_url
        return min(os.cpu_count() or 1, 4) if scaled else 1


def read(environ: Mapping[str, str] | None = None) -> Environment:
    """The environment (os.environ, or the mapping given) as bidcart reads it."""
    from bidcart.payments.providers import classes

    env = django_environ.Env()
    if environ is not None:
        env.ENVIRON = dict(environ)
    debug = env.bool("DEBUG", default=False)
    adapters = classes()
    return Environment(
        data_dir=Path(env.str("BIDCART_DATA_DIR", default="var")).resolve(),
        debug=debug,
        secret_key=env.str("SECRET_KEY", default=""),
        allowed_hosts=env.list("ALLOWED_HOSTS") if "ALLOWED_HOSTS" in env.ENVIRON else None,
        database_url=env.str("DATABASE_URL", default=""),
        redis_url=env.str("REDIS_URL", default=""),
        site_url=env.str("SITE_URL", default="").rstrip("/"),
        # The simulator is mounted at /pgsim/ on a developer's machine (DEBUG: `bidcart run`), never by
        # default on a production server (`bidcart serve`), which refuses it without PGSIM_ACKNOWLEDGE.
        pgsim_mount=env.bool("PGSIM_MOUNT", default=debug),
        pgsim_url=env.str("PGSIM_URL", default="").rstrip("/"),
        pgsim_acknowledged=env.str("PGSIM_ACKNOWLEDGE", default="") == PGSIM_ACKNOWLEDGEMENT,
        payment_providers=env.list("PAYMENT_PROVIDERS", default=list(adapters)),
        admin_path=env.str("BIDCART_ADMIN_PATH", default=""),
        web_concurrency=env.str("WEB_CONCURRENCY", default="").strip(),
        providers={name: cls.read_options(env) for name, cls in adapters.items()},
    )
