"""Hosted checkout pages a person can click: approve, cancel, fail, pay a different amount.

One page shape for every provider. The page posts back to the provider module, which
applies the outcome and redirects the browser the way that provider does.

Every page is a Jinja2 template with autoescaping: whatever a URL or an API caller put into a
payment (paymentId, orderName, ...) is reflected as text, never as markup (the simulator is mounted on
the shop's origin, so a script here would run as the shop). The page's inline style and script carry a
per-response nonce that its Content-Security-Policy names; `headers.py` adds the rest.
"""

from __future__ import annotations

import secrets
from typing import Any, Iterable

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from . import targets

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("bidcart.pgsim", "templates/pages"),
    autoescape=True,  # every template, whatever its name
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def page_csp(nonce: str, form_origins: Iterable[str] = ()) -> str:
    """A page may run only its own nonce'd style and script, post forms to itself (and follow the
    redirect to the shop's allowed origins: Chromium checks form-action on the redirect too), and be
    framed by nobody."""
    origins = list(form_origins)
    form_action = "'self' http: https:" if targets.ANY in origins else " ".join(["'self'", *origins])
    return (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self'; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )


def render(request: Request | None, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    origins: list[str] = []
    if request is not None:
        sim = getattr(request.app.state, "sim", None)
        if sim is not None:
            origins = targets.allowed_origins(sim.config, request.scope)
    context.setdefault("opener_origins", ["*"] if targets.ANY in origins else origins)
    html = _env.get_template(template).render(nonce=nonce, **context)
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={
            "content-security-policy": page_csp(nonce, origins),
            "cache-control": "no-store",
        },
    )


def page(
    request: Request | None, title: str, template: str = "message.html", status_code: int = 200, **context: Any
) -> HTMLResponse:
    context.setdefault("text", "")
    context.setdefault("vbank", None)
    context.setdefault("result", None)
    return render(request, template, status_code, title=title, **context)


def checkout_page(
    request: Request,
    title: str,
    rows: Iterable[tuple[str, object]],
    action_url: str,
    hidden: dict[str, object] | None = None,
    approve_label: str = "Approve payment",
    amount: int | str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "checkout.html",
        title=title,
        rows=list(rows),
        action_url=action_url,
        hidden=hidden or {},
        approve_label=approve_label,
        amount=amount,
        error=error,
    )


def message_page(
    request: Request | None,
    title: str,
    text: str,
    status_code: int = 200,
    *,
    result: Any = None,
    vbank: dict | None = None,
) -> HTMLResponse:
    """A short message; `result` is handed to the SDK script in the opener (popup mode), `vbank`
    ({name, number, url}) links the deposit page of a virtual account just issued."""
    return page(request, title, text=text, status_code=status_code, result=result, vbank=vbank)


def vbank_page(request: Request, rows: Iterable[tuple[str, object]]) -> HTMLResponse:
    return render(request, "vbank.html", title="Virtual account", rows=list(rows))


def refused_target_page(request: Request, title: str, urls: list[str]) -> HTMLResponse:
    return message_page(
        request,
        title,
        "pgsim refuses to send the browser or a webhook to "
        f"{', '.join(urls)}: not an allowed origin (PGSIM_ALLOWED_ORIGINS).",
        400,
    )
