"""Hosted checkout pages a person can click: approve, cancel, fail, pay a different amount.

One page shape for every provider. The page posts back to the provider module, which
applies the outcome and redirects the browser the way that provider does.
"""

from __future__ import annotations

from html import escape
from typing import Iterable

from starlette.responses import HTMLResponse

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem} table{border-collapse:collapse;width:100%;margin:1rem 0}
td{border-bottom:1px solid #ddd;padding:.4rem} td:first-child{color:#666;width:40%}
.banner{background:#fff3cd;border:1px solid #e0c36b;padding:.5rem;font-size:.9rem}
.actions button{display:block;width:100%;margin:.4rem 0;padding:.7rem;font-size:1rem;cursor:pointer}
.approve{background:#1a7f37;color:#fff;border:0} .error{color:#b00020}
fieldset{border:1px solid #ddd;margin-top:1rem}
"""


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<p class='banner'>pgsim — payment-gateway simulator. No real money moves.</p>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code)


def summary(rows: Iterable[tuple[str, object]]) -> str:
    cells = "".join(
        f"<tr><td>{escape(str(k))}</td><td data-field='{escape(str(k))}'>{escape(str(v))}</td></tr>"
        for k, v in rows
        if v not in (None, "")
    )
    return f"<table>{cells}</table>"


def checkout_page(
    title: str,
    rows: Iterable[tuple[str, object]],
    action_url: str,
    hidden: dict[str, object] | None = None,
    approve_label: str = "Approve payment",
    amount: int | str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    inputs = "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(str(v))}'>"
        for k, v in (hidden or {}).items()
        if v is not None
    )
    err = f"<p class='error' role='alert'>{escape(error)}</p>" if error else ""
    body = f"""{err}{summary(rows)}
<form method="post" action="{escape(action_url)}" class="actions">{inputs}
  <button class="approve" name="action" value="approve">{escape(approve_label)}</button>
  <button name="action" value="cancel">Cancel (buyer closes the window)</button>
  <button name="action" value="fail">Fail (card declined)</button>
  <fieldset><legend>Tamper: pay a different amount</legend>
    <label>Amount <input name="tamper_amount" inputmode="decimal" value="{escape(str(amount or ''))}"></label>
    <button name="action" value="amount">Pay a different amount</button>
  </fieldset>
</form>"""
    return page(title, body)


def message_page(title: str, text: str, status_code: int = 200, extra_html: str = "") -> HTMLResponse:
    return page(title, f"<p>{escape(text)}</p>{extra_html}", status_code)
