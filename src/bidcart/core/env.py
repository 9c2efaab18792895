"""The one reader of the environment for the values two places need: settings.py (as Django starts) and
`bidcart serve`'s checks (before Django starts, so that a missing SECRET_KEY gets the checks' clear
answer). Each default is written here, once; settings.py copies these values and reads the variables
no one else needs itself.

No Django imports at module level, and no side effects: reading the environment writes nothing.
"""

from __future__ import annotations

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
    providers: dict[str, dict[str, str]] = field(default_factory=dict)  # name → its options (settings.<KEY>)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / SQLITE_FILE


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
        providers={name: cls.read_options(env) for name, cls in adapters.items()},
    )
