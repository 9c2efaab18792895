"""Shared plumbing for the provider modules: the Sim object and request helpers."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import Response

from .config import SimConfig
from .state import State

PROVIDERS = ("kakaopay", "iamport", "portone", "paypal")
# Outcomes a hosted checkout can end with (chosen by a click, a magic value or the
# control API's next-outcome).
OUTCOMES = ("approve", "cancel", "fail", "amount")


@dataclass
class Sim:
    config: SimConfig
    state: State
    portone_webhook_secret: str
    paypal_webhook_secret: str
    # Not persisted: test knobs set through the control API.
    faults: list[dict] = field(default_factory=list)
    next_outcomes: dict[str, list[dict]] = field(default_factory=dict)
    webhook_controls: dict[str, Any] = field(default_factory=dict)
    outbox: Any = None  # webhooks.Outbox, set by create_app

    @classmethod
    def build(cls, config: SimConfig) -> "Sim":
        return cls(
            config=config,
            state=State(config.state_file),
            portone_webhook_secret=config.portone_webhook_secret
            or "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
            paypal_webhook_secret=config.paypal_webhook_secret or secrets.token_urlsafe(24),
        )

    def take_outcome(self, provider: str) -> dict | None:
        queue = self.next_outcomes.get(provider) or []
        return queue.pop(0) if queue else None

    def take_charge_decline(self, provider: str) -> str | None:
        """The decline queued for this provider's next billing-key charge (the control API's next-outcome
        with a card decline: insufficient_funds or expired_card), or None: the card's own outcome applies."""
        entry = self.take_outcome(f"{provider}:charge")
        return entry["outcome"] if entry else None


class Provider:
    """What every provider module shares: the simulator's config and state, and its static scripts."""

    def __init__(self, sim: Sim):
        self.sim = sim
        self.config = sim.config
        self.state = sim.state

    @staticmethod
    def script_response(name: str) -> Response:
        js = resources.files(__package__).joinpath(f"templates/{name}").read_text(encoding="utf-8")
        return Response(js, media_type="application/javascript")


def base_url(request: Request) -> str:
    """The simulator's own absolute base URL, including the mount point.

    Starlette's `request.base_url` points at the *outermost* app when mounted, so build it
    from `root_path`, which a Mount extends with `/pgsim`.
    """
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


async def read_params(request: Request) -> dict[str, Any]:
    """Query parameters overlaid by a JSON or form body (clients send either)."""
    params: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    if not raw.strip():
        return params
    ctype = request.headers.get("content-type", "")
    if "json" in ctype or raw.lstrip()[:1] in (b"{", b"["):
        try:
            body = json.loads(raw)
        except ValueError:
            raise BadBody("request body is not valid JSON")
        if not isinstance(body, dict):
            raise BadBody("request body must be a JSON object")
        params.update(body)
    else:
        params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return params


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body (hosted pages, OAuth). Parsed here so that pgsim does not
    need python-multipart; nothing it serves posts multipart."""
    raw = await request.body()
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


class BadBody(ValueError):
    pass


def as_int(value: Any) -> int | None:
    """Amounts are integers; accept `"1000"`/`1000`/`1000.0`, refuse anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("not an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not an integer")
        return int(value)
    return int(str(value).strip())


def positive_int(value: Any) -> int | None:
    """A positive whole amount typed into a hosted page, or None for anything else."""
    try:
        number = as_int(value)
    except ValueError:
        return None
    return number if number and number > 0 else None


def with_query(url: str, **params: Any) -> str:
    """Append query parameters to a URL that may already have some."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, "" if v is None else str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def magic_outcome(*texts: Any) -> dict | None:
    """Magic values in an order or item name choose the checkout outcome for scripts.

    `pgsim:approve`, `pgsim:cancel`, `pgsim:fail`, `pgsim:amount=<int>` make the hosted
    page finish at once with that outcome; `pgsim:decline` is handled where the money
    moves (approve / capture).
    """
    for text in texts:
        if not isinstance(text, str) or "pgsim:" not in text:
            continue
        for word in text.split():
            if not word.startswith("pgsim:"):
                continue
            what = word[len("pgsim:") :]
            if what in ("approve", "cancel", "fail"):
                return {"outcome": what}
            if what.startswith("amount="):
                try:
                    return {"outcome": "amount", "amount": int(what[len("amount=") :])}
                except ValueError:
                    continue
    return None


def is_declined(*texts: Any) -> bool:
    return any(isinstance(t, str) and "pgsim:decline" in t.split() for t in texts)
