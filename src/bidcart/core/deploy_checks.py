"""Is this configuration safe to serve to the public? One function answers, for two callers:

- `bidcart serve` calls `problems(Config.from_environ(...))` *before* Django starts (a missing SECRET_KEY
  would otherwise stop settings.py with a less helpful message) and refuses to start on any problem;
- Django's system check framework (`bidcart manage check --deploy`) reports the same problems as errors
  `bidcart.E0xx`, built from the loaded settings.

Each problem says what is wrong and what to set.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Mapping

from django.core import checks

from bidcart.core.env import PGSIM_ACKNOWLEDGEMENT, read

MIN_SECRET_LENGTH = 50
MIN_SECRET_DISTINCT = 5
GENERATE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"

# Values that are public: in this repository, in Django's docs or templates, or typical placeholders.
KNOWN_SECRETS = {
    "test-only-secret-key-never-used-outside-the-test-suite",  # pyproject.toml's test setting
    "change-me-to-a-long-random-string-see-deploy-readme",  # deploy/bidcart.env.example
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "secret-key",
    "secret_key",
    "secretkey",
    "django",
    "insecure",
    "development",
    "dev",
    "test",
    "password",
    "bidcart",
    "replace-me",
    "xxx",
}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1", "testserver"}


@dataclass(frozen=True)
class Problem:
    id: str  # bidcart.E0xx
    message: str  # what is wrong, and why it matters
    fix: str  # what to set

    def __str__(self) -> str:
        return f"{self.message}\n    → {self.fix}"


@dataclass
class Config:
    """What the checks look at: from the environment before Django starts (read by bidcart/core/env.py,
    the reader settings.py uses too, so both see the same defaults) or from loaded settings."""

    secret_key: str = ""
    debug: bool = False
    allowed_hosts: list[str] | None = None  # None: ALLOWED_HOSTS is not set at all
    database_engine: str = "sqlite3"  # the last part of Django's ENGINE
    database_url_set: bool = False
    redis_url: str = ""
    workers: int = 1
    pgsim_mount: bool = False
    pgsim_url: str = ""
    pgsim_acknowledged: bool = False
    # the offered providers (PAYMENT_PROVIDERS) and their options (settings.<KEY>)
    providers: dict[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def providers_on_simulator(self) -> list[str]:
        return [name for name, options in self.providers.items() if not options.get("base_url")]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, *, workers: int | None = None) -> "Config":
        """Before Django starts (`bidcart serve`); `workers` is --workers, else the environment's count."""
        import environ as django_environ

        env = read(os.environ if environ is None else environ)
        engine = "sqlite3"
        if env.database_url:
            engine = django_environ.Env.db_url_config(env.database_url).get("ENGINE", "").rsplit(".", 1)[-1]
        return cls(
            secret_key=env.secret_key,
            debug=env.debug,
            allowed_hosts=env.allowed_hosts,
            database_engine=engine,
            database_url_set=bool(env.database_url),
            redis_url=env.redis_url,
            workers=env.workers if workers is None else workers,
            pgsim_mount=env.pgsim_mount,
            pgsim_url=env.pgsim_url,
            pgsim_acknowledged=env.pgsim_acknowledged,
            providers={name: env.providers[name] for name in env.payment_providers if name in env.providers},
        )

    @classmethod
    def from_settings(
        cls, settings, environ: Mapping[str, str] | None = None, *, workers: int | None = None
    ) -> "Config":
        """From loaded settings (`check --deploy`). What settings cannot say is read by core/env.py, like
        everything else: whether ALLOWED_HOSTS and DATABASE_URL were set at all, and the worker count
        `bidcart serve` starts (it exports WEB_CONCURRENCY to its workers)."""
        from bidcart.payments.providers import classes

        env = read(os.environ if environ is None else environ)
        known = classes()
        return cls(
            secret_key=settings.SECRET_KEY or "",
            debug=settings.DEBUG,
            allowed_hosts=list(settings.ALLOWED_HOSTS) if env.allowed_hosts is not None else None,
            database_engine=settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            database_url_set=bool(env.database_url),
            redis_url=settings.REDIS_URL,
            workers=env.workers if workers is None else workers,
            pgsim_mount=settings.PGSIM_MOUNT,
            pgsim_url=settings.PGSIM_URL,
            pgsim_acknowledged=getattr(settings, "PGSIM_ACKNOWLEDGED", False),
            providers={
                name: getattr(settings, known[name].settings_key)
                for name in settings.PAYMENT_PROVIDERS
                if name in known
            },
        )


def _public(host: str) -> bool:
    """A host name or address other than this machine's loopback."""
    name = host.strip().lstrip(".").lower()
    if name in LOCAL_HOSTS or name.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return True


def secret_problem(key: str) -> Problem | None:
    if not key:
        return Problem(
            "bidcart.E001",
            "SECRET_KEY is not set. It signs sessions, password-reset links and CSRF tokens.",
            f"Set SECRET_KEY to a long random value, e.g. the output of {GENERATE_SECRET}",
        )
    if key.strip().lower() in KNOWN_SECRETS or key.startswith("django-insecure-"):
        return Problem(
            "bidcart.E002",
            "SECRET_KEY is a known default or example value: anyone can forge sessions with it.",
            f"Set SECRET_KEY to a new random value, e.g. the output of {GENERATE_SECRET}",
        )
    if len(key) < MIN_SECRET_LENGTH or len(set(key)) < MIN_SECRET_DISTINCT:
        return Problem(
            "bidcart.E003",
            f"SECRET_KEY is too short or too simple ({len(key)} characters, "
            f"{len(set(key))} distinct): it needs at least {MIN_SECRET_LENGTH} characters.",
            f"Set SECRET_KEY to a long random value, e.g. the output of {GENERATE_SECRET}",
        )
    return None


def problems(config: Config) -> list[Problem]:
    """Everything unsafe about serving the public with this configuration (empty: safe to start)."""
    found = []
    secret = secret_problem(config.secret_key)
    if secret:
        found.append(secret)
    hosts = [h for h in (config.allowed_hosts or []) if h.strip()]
    if config.allowed_hosts is None or not hosts:
        found.append(
            Problem(
                "bidcart.E004",
                "ALLOWED_HOSTS is not set: the server would answer only for localhost (or refuse everyone).",
                "Set ALLOWED_HOSTS to the public host names, comma-separated, e.g. ALLOWED_HOSTS=shop.example.com",
            )
        )
    public = [h for h in hosts if h.strip() == "*" or _public(h)]
    if config.debug and public:
        found.append(
            Problem(
                "bidcart.E005",
                f"DEBUG is on while ALLOWED_HOSTS has public hosts ({', '.join(public)}): error pages would "
                "show settings, source code and SQL to anyone.",
                "Unset DEBUG (or set DEBUG=0) for a public server; DEBUG=1 is only for "
                "ALLOWED_HOSTS=localhost,127.0.0.1",
            )
        )
    if "*" in [h.strip() for h in hosts] and not config.debug:
        found.append(
            Problem(
                "bidcart.E006",
                "ALLOWED_HOSTS is '*': any Host header is accepted, so password-reset and payment-return "
                "links can be pointed at another site.",
                "Set ALLOWED_HOSTS to the exact public host names, e.g. ALLOWED_HOSTS=shop.example.com",
            )
        )
    if config.workers > 1:
        if config.database_engine == "sqlite3":
            found.append(
                Problem(
                    "bidcart.E007",
                    f"{config.workers} workers on SQLite: SQLite has one writer at a time, so the workers "
                    "would queue on its lock and time out with 'database is locked' under load.",
                    "Set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/bidcart (and REDIS_URL), or run --workers 1",
                )
            )
        if not config.redis_url:
            found.append(
                Problem(
                    "bidcart.E008",
                    f"{config.workers} workers without REDIS_URL: the in-memory channel layer and cache "
                    "are not shared between processes, so a bid made through one worker would never reach live-room "
                    "viewers connected to another, and login lockouts and rate limits would be per process.",
                    "Set REDIS_URL=redis://HOST:6379/0 (and DATABASE_URL for PostgreSQL), or run --workers 1",
                )
            )
        if config.pgsim_mount and not config.pgsim_url and config.providers_on_simulator:
            found.append(
                Problem(
                    "bidcart.E009",
                    f"{config.workers} workers with the payment simulator mounted at /pgsim/ "
                    f"({', '.join(config.providers_on_simulator)} use it): the simulator keeps its state in each "
                    "process's memory, so a payment started on one worker is unknown to the next.",
                    "Give the providers their real base URLs and keys and set PGSIM_MOUNT=0 (README, 'Real "
                    "providers'), "
                    "or run one `bidcart pgsim` and set PGSIM_URL to it and PGSIM_MOUNT=0, or run --workers 1",
                )
            )
    found.extend(payment_problems(config))
    return found


def payment_problems(config: Config) -> list[Problem]:
    """A production server takes real money: the simulator stays off unless the operator says, in so
    many words, that this server's payments are fake (a demo, a load test); every offered provider has
    its real base URL and credentials, and options the provider accepts."""
    from bidcart.payments.providers import classes

    found = []
    acknowledge = f"PGSIM_ACKNOWLEDGE={PGSIM_ACKNOWLEDGEMENT}"
    if config.pgsim_mount and not config.pgsim_acknowledged:
        found.append(
            Problem(
                "bidcart.E010",
                "PGSIM_MOUNT is on: the payment simulator would answer at /pgsim/ on this server, and "
                "anyone could mark an order paid by clicking Approve there.",
                f"Set PGSIM_MOUNT=0 (the default without DEBUG). Only for a demo whose payments are fake: "
                f"{acknowledge}",
            )
        )
    simulated = config.providers_on_simulator
    if simulated and not config.pgsim_acknowledged:
        found.append(
            Problem(
                "bidcart.E011",
                f"Payment providers offered without their real base URL ({', '.join(simulated)}): they "
                "would talk to the payment simulator, so orders would be marked paid without any money moving.",
                "For each, set its base URL and keys (README, 'Real providers'), e.g. "
                + ", ".join(f"{classes()[name].settings_key}_BASE_URL" for name in simulated)
                + f"; or leave it out of PAYMENT_PROVIDERS. Only for a demo whose payments are fake: {acknowledge}",
            )
        )
    for name, options in config.providers.items():
        cls = classes()[name]
        if options.get("base_url"):
            missing = cls.missing_credentials(options)
            if missing:
                found.append(
                    Problem(
                        "bidcart.E012",
                        f"{cls.label} has its real base URL but not its credentials ({', '.join(missing)}): "
                        "every payment with it would fail.",
                        f"Set {', '.join(missing)} from {cls.label}'s console, or leave {name} out of "
                        f"PAYMENT_PROVIDERS.",
                    )
                )
        for problem in cls.config_problems(options):
            found.append(Problem("bidcart.E013", f"{cls.label}: {problem}", f"Correct {cls.settings_key}_* settings."))
    return found


def simulated_payments(config: Config) -> str:
    """Non-empty when this server's payments are fake by the operator's choice: `bidcart serve` says it loudly."""
    if not config.pgsim_acknowledged or not (config.pgsim_mount or config.providers_on_simulator):
        return ""
    on = ", ".join(config.providers_on_simulator) or "none"
    return (
        f"PAYMENTS ARE SIMULATED (PGSIM_ACKNOWLEDGE): no money moves. Providers on the simulator: {on}; "
        f"simulator mounted at /pgsim/: {'yes' if config.pgsim_mount else 'no'}."
    )


@checks.register(checks.Tags.security)
def check_payment_options(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`bidcart manage check` (and every test run): options a provider refuses (PAYPAL_CURRENCY=KRW), on
    any server. The deploy check adds what only matters in production."""
    from django.conf import settings

    config = Config.from_settings(settings, workers=1)  # the worker count plays no part here
    return [checks.Error(p.message, hint=p.fix, id=p.id) for p in payment_problems(config) if p.id == "bidcart.E013"]


@checks.register(checks.Tags.security, deploy=True)
def check_deploy(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`bidcart manage check --deploy`: the same refusals as `bidcart serve` (workers from WEB_CONCURRENCY)."""
    from django.conf import settings

    return [
        checks.Error(p.message, hint=p.fix, id=p.id)
        for p in problems(Config.from_settings(settings))
        if p.id != "bidcart.E013"
    ]  # check_payment_options reports those on every `check`
