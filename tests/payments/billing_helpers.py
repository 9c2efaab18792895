"""Registering a card on each provider's simulated page, as the buyer's browser does (saved cards tests)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx

from bidcart.payments import billing
from bidcart.payments.models import SavedPaymentMethod


def _query(location: str) -> dict:
    return dict(parse_qsl(urlsplit(location).query))


def portone_v2_window(
    params: dict, *, card: str = "", expiry: str = "", action: str = "approve", script: str = ""
) -> str:
    """PortOne.requestIssueBillingKey in redirect mode: the card window with the SDK's parameters
    (flattened as browser-sdk.js sends them), ended with `action`; answers where the browser is sent."""
    fields = {k: str(v) for k, v in params.items() if k not in ("customer", "noticeUrls")}
    if params.get("customer", {}).get("customerId"):
        fields["customer.customerId"] = params["customer"]["customerId"]
    fields.update({k: v for k, v in {"card_number": card, "expiry": expiry}.items() if v})
    checkout = script.replace("/browser-sdk.js", "/billing-key-checkout")
    response = httpx.post(checkout, data={**fields, "action": action}, timeout=10)
    assert response.status_code == 303, response.text[:300]
    return response.headers["location"]


def register(
    user, provider: str, *, card: str = "", expiry: str = "", action: str = "approve"
) -> tuple[SavedPaymentMethod, dict]:
    """The buyer registers a card at `provider`'s page; answers the pending method and the query the
    browser comes back to the shop with."""
    method, nxt = billing.start_saving_method(user, provider=provider)
    back = billing.method_return_url(method)
    if provider == "portone_v2":
        assert nxt.type == "client" and nxt.params["issueId"] == method.reference
        location = portone_v2_window(nxt.params, card=card, expiry=expiry, action=action, script=nxt.script)
    else:
        assert nxt.type == "redirect", nxt
        response = httpx.post(
            nxt.url,
            data={
                "action": action,
                **({"card_number": card} if card else {}),
                **({"expiry": expiry} if expiry else {}),
            },
            timeout=10,
        )
        assert response.status_code in (302, 303), response.text[:300]
        location = response.headers["location"]
    assert location.startswith(back), (location, back)
    return method, _query(location)


def saved(user, provider: str, **card) -> SavedPaymentMethod:
    method, query = register(user, provider, **card)
    return billing.confirm_saved_method(user, method.pk, params=query)
