"""PayPal Orders v2: create order → the buyer approves on PayPal → capture; Payments v2 refunds; webhooks
verified through PayPal's verify API (PAYMENT_PROTOCOLS.md §4).

Currency: PayPal does not take KRW. The services put the amount PayPal charges in
`payment.provider_amount` / `payment.provider_currency` (converted at `config["krw_rate"]` into
`config["currency"]`); this adapter only ever uses those, and every amount it reports is in that
currency's minor units. Decimal strings exist only on the wire (core.money).

What the services should know:
- start sends `PayPal-Request-Id: create-<merchant_uid>`, confirm `capture-<merchant_uid>`, refund the
  caller's `key`: PayPal replays the first result for a repeated id, so these POSTs are retried.
- confirm takes the return_url's query string: `token` (must equal the stored order id, else
  ProviderError "token_mismatch") and `PayerID` (unused); or `{}` when the server finishes an order
  the buyer approved and left (fetch says "pending" with `approved=True`). ORDER_ALREADY_CAPTURED →
  the truth from fetch; INSTRUMENT_DECLINED → state "failed" (nothing was charged).
- fetch: money that was captured is "paid" whatever was given back since; `refunded` is the sum of
  the order's `payments.refunds` that are not FAILED/CANCELLED (a PENDING refund already counts
  against what PayPal lets you refund). A fully refunded capture is "paid" with refunded == amount.
- An uncaptured order cannot be voided (intent CAPTURE): cancel before capture only reports the
  truth ("pending"); nothing is charged unless bidcart captures, and PayPal drops the order after
  its approval window. The services must not capture a payment they cancelled.
- Webhooks: the notice names the payment by merchant_uid (custom_id/invoice_id; refunds carry it in
  their custom_id when bidcart made them) and by exactly one reference that is in payment.psp:
  {"order_id"} for CHECKOUT.ORDER.* and PAYMENT.CAPTURE.*, {"capture_id"} for PAYMENT.CAPTURE.REFUNDED.
  It says nothing about state: the services fetch.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Mapping

from bidcart.core import money

from .base import Next, Provider, ProviderError, RefundResult, Snapshot, Urls, WebhookNotice, WebhookRejected
from .paypal_billing import PayPalVaultKeys

if TYPE_CHECKING:
    from ..models import Payment
    from .http import ProviderHTTP

PENDING_ORDER = {"CREATED", "SAVED", "APPROVED", "PAYER_ACTION_REQUIRED"}
CAPTURED = {"COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"}
FAILED_CAPTURE = {"DECLINED", "FAILED"}
NOT_REFUNDED = {"FAILED", "CANCELLED"}
WEBHOOK_HEADERS = {
    "transmission_id": "paypal-transmission-id",
    "transmission_time": "paypal-transmission-time",
    "transmission_sig": "paypal-transmission-sig",
    "cert_url": "paypal-cert-url",
    "auth_algo": "paypal-auth-algo",
}


# PayPal's currency codes (developer.paypal.com/api/rest/reference/currency-codes/): KRW is not one.
# HUF, JPY and TWD take no decimals at PayPal (ISO 4217 gives HUF and TWD two): an amount like "10.50"
# HUF is refused (DECIMAL_PRECISION), so PayPal's minor unit of these is the whole unit.
PAYPAL_CURRENCIES = frozenset(
    {
        "AUD",
        "BRL",
        "CAD",
        "CNY",
        "CZK",
        "DKK",
        "EUR",
        "HKD",
        "HUF",
        "ILS",
        "JPY",
        "MYR",
        "MXN",
        "TWD",
        "NZD",
        "NOK",
        "PHP",
        "PLN",
        "GBP",
        "SGD",
        "SEK",
        "CHF",
        "THB",
        "USD",
    }
)
PAYPAL_EXPONENTS = {"HUF": 0, "JPY": 0, "TWD": 0}


def _decimal(amount: int, currency: str) -> str:
    """Minor units → PayPal's `value` string (12345 USD → "123.45"; 1234 JPY → "1234")."""
    return money.to_decimal_string(amount, currency, exponent=PayPal.exponent(currency))


def _purchase_unit(payment: "Payment") -> dict:
    """The one purchase unit of a bidcart order at PayPal: every id is the merchant_uid, so a webhook or a
    refund names the payment (custom_id) and PayPal's reports show it."""
    uid = payment.merchant_uid
    return {
        "reference_id": uid,
        "custom_id": uid,
        "invoice_id": uid,
        "description": payment.item_name[:127],
        "amount": {
            "currency_code": payment.provider_currency,
            "value": _decimal(payment.provider_amount, payment.provider_currency),
        },
    }


def _minor(value, currency: str) -> int:
    return money.from_decimal_string(value, currency, exponent=PayPal.exponent(currency))


class PayPal(PayPalVaultKeys, Provider):
    name = "paypal"
    label = "PayPal"
    methods = ("card",)
    completes_on_its_own = False  # nothing is charged until the shop calls capture
    settings_key = "PAYPAL"
    options = {
        "base_url": "",  # https://api-m.sandbox.paypal.com or https://api-m.paypal.com
        "client_id": "",
        "client_secret": "",
        "webhook_id": "",
        # PayPal does not take KRW: KRW orders are charged in this currency at this rate
        # (major units of the shop's currency per one major unit of PAYPAL_CURRENCY).
        "currency": "USD",
        "krw_rate": "1400",
    }
    credentials = ("client_id", "client_secret", "webhook_id")
    simulator_path = "paypal"
    simulator_credentials = {
        "client_id": "paypal_client_id",
        "client_secret": "paypal_client_secret",
        "webhook_id": "paypal_webhook_id",
    }
    currencies = PAYPAL_CURRENCIES
    exponents = PAYPAL_EXPONENTS
    reference_keys = ("capture_id", "order_id")
    csp = {"frame-src": ("https://*.paypal.com",), "form-action": ("https://*.paypal.com",)}

    @classmethod
    def config_problems(cls, conf):
        found = []
        if conf.get("currency", "").upper() not in PAYPAL_CURRENCIES:
            found.append(
                f"PAYPAL_CURRENCY={conf.get('currency')!r} is not a currency PayPal takes "
                f"(one of {', '.join(sorted(PAYPAL_CURRENCIES))}); KRW orders are converted into it."
            )
        try:
            if Decimal(str(conf.get("krw_rate"))) <= 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            found.append(
                f"PAYPAL_KRW_RATE={conf.get('krw_rate')!r} is not a positive number "
                "(won per one unit of PAYPAL_CURRENCY, e.g. 1400)."
            )
        return found

    @classmethod
    def charge_in(cls, conf, amount, currency):
        if currency.upper() in PAYPAL_CURRENCIES:
            return amount, currency
        target = conf["currency"].upper()
        return money.convert(amount, currency, target, conf["krw_rate"], target_exponent=cls.exponent(target)), target

    def __init__(self, config: Mapping[str, Any], http: "ProviderHTTP"):
        super().__init__(config, http)
        self._access_token: str | None = None  # on the instance only; adapters are built per use

    # --- the wire ----------------------------------------------------------------------
    def _token(self) -> str:
        if self._access_token is None:
            answer = self.http.request(
                "POST",
                "/v1/oauth2/token",
                form={"grant_type": "client_credentials"},
                auth=(self.config["client_id"], self.config["client_secret"]),
                safe=True,
            )
            data = answer.data if isinstance(answer.data, dict) else {}
            if answer.status >= 500:
                raise ProviderError(
                    f"PayPal token: HTTP {answer.status}", http_status=answer.status, outcome_unknown=True
                )
            if answer.status >= 400 or not data.get("access_token"):
                raise ProviderError(
                    f"PayPal token: {data.get('error_description') or answer.status}",
                    code=str(data.get("error") or "token"),
                    http_status=answer.status,
                )
            self._access_token = data["access_token"]
        return self._access_token

    def _api(
        self,
        method: str,
        path: str,
        *,
        body: dict | None = None,
        headers: dict | None = None,
        safe: bool | None = None,
        empty_ok: bool = False,
    ) -> dict:
        """One authenticated call; answer the JSON body or raise ProviderError (code = the PayPal issue)."""
        for attempt in (1, 2):
            answer = self.http.request(
                method,
                path,
                json_body=body,
                safe=safe,
                headers={"Authorization": f"Bearer {self._token()}", **(headers or {})},
            )
            if answer.status == 401 and attempt == 1:
                self._access_token = None  # expired token: nothing was done, get a new one and resend
                continue
            break
        data = answer.data if isinstance(answer.data, dict) else {}
        if answer.status >= 500:
            raise ProviderError(
                f"PayPal {method} {path}: HTTP {answer.status}",
                code=str(data.get("name", "")),
                http_status=answer.status,
                outcome_unknown=True,
                payload=answer.data,
            )
        if answer.status >= 400:
            details = data.get("details") or [{}]
            code = details[0].get("issue") or data.get("name") or str(answer.status)
            message = details[0].get("description") or data.get("message") or f"HTTP {answer.status}"
            raise ProviderError(
                f"PayPal {method} {path}: {code}: {message}", code=code, http_status=answer.status, payload=answer.data
            )
        if not data and not (empty_ok and answer.status == 204):
            raise ProviderError(
                f"PayPal {method} {path}: unreadable answer",
                code="bad_response",
                http_status=answer.status,
                outcome_unknown=True,
                payload=answer.data,
            )
        return data

    @staticmethod
    def _order_id(payment: "Payment") -> str:
        order_id = (payment.psp or {}).get("order_id")
        if not order_id:
            raise ProviderError("PayPal: the payment has no order id (never started)", code="no_order")
        return order_id

    # --- the six calls -----------------------------------------------------------------
    def start(self, payment: "Payment", *, urls: Urls, mobile: bool) -> Next:
        uid = payment.merchant_uid
        order = self._api(
            "POST",
            "/v2/checkout/orders",
            safe=True,
            headers={"PayPal-Request-Id": f"create-{uid}"},
            body={
                "intent": "CAPTURE",
                "purchase_units": [_purchase_unit(payment)],
                # The current way to give the return URLs (application_context is deprecated); PayPal
                # then answers PAYER_ACTION_REQUIRED with a "payer-action" link.
                "payment_source": {
                    "paypal": {
                        "experience_context": {
                            "return_url": urls.approve,
                            "cancel_url": urls.cancel,
                            "user_action": "PAY_NOW",  # bidcart captures as soon as the buyer is back
                            "shipping_preference": "NO_SHIPPING",  # the shop has the address already
                        }
                    }
                },
            },
        )
        link = next((lk["href"] for lk in order.get("links", []) if lk.get("rel") in ("payer-action", "approve")), None)
        if not link:
            raise ProviderError("PayPal: the order has no approval link", code="no_approval_link", payload=order)
        return Next(type="redirect", url=link, psp={"order_id": order["id"]})

    def confirm(self, payment: "Payment", params: Mapping[str, str]) -> Snapshot:
        order_id = self._order_id(payment)
        if "token" in params and params["token"] != order_id:  # no token: the server finishes it
            raise ProviderError("PayPal: the return is for another order", code="token_mismatch")
        try:
            order = self._api(
                "POST",
                f"/v2/checkout/orders/{order_id}/capture",
                body={},
                safe=True,
                headers={"PayPal-Request-Id": f"capture-{payment.merchant_uid}", "Prefer": "return=representation"},
            )
        except ProviderError as exc:
            if exc.code == "ORDER_ALREADY_CAPTURED":
                return self.fetch(payment)
            if exc.code == "INSTRUMENT_DECLINED":
                return Snapshot(
                    state="failed",
                    amount=payment.provider_amount,
                    currency=payment.provider_currency,
                    psp={"order_id": order_id},
                    failure=exc.message,
                    raw=exc.payload or {},
                )
            raise
        return self._snapshot(order)

    def fetch(self, payment: "Payment") -> Snapshot:
        return self._snapshot(self._api("GET", f"/v2/checkout/orders/{self._order_id(payment)}"))

    def cancel(self, payment: "Payment", *, reason: str) -> Snapshot:
        """Before capture there is nothing to void: report the truth. After it, refund what is left."""
        now = self.fetch(payment)
        left = now.amount - now.refunded
        if now.state != "paid" or left <= 0:
            return now
        self.refund(payment, amount=left, refundable=left, reason=reason, key=f"cancel-{payment.merchant_uid}")
        return self.fetch(payment)

    def refund(
        self, payment: "Payment", *, amount: int, refundable: int, reason: str, key: str, refund_account=None
    ) -> RefundResult:  # card money goes back to the card: no account
        """PayPal takes no consistency check: `refundable` is not sent (PayPal refuses more than is left
        with REFUND_AMOUNT_EXCEEDED); `key` is the PayPal-Request-Id, so a retry returns the same refund."""
        capture_id = (payment.psp or {}).get("capture_id") or self.fetch(payment).psp.get("capture_id")
        if not capture_id:
            raise ProviderError("PayPal: nothing was captured", code="not_captured")
        body: dict[str, Any] = {
            "amount": {
                "currency_code": payment.provider_currency,
                "value": _decimal(amount, payment.provider_currency),
            },
            "custom_id": payment.merchant_uid,  # so the REFUNDED webhook names the payment
        }
        if reason:
            body["note_to_payer"] = reason[:255]
        refund = self._api(
            "POST",
            f"/v2/payments/captures/{capture_id}/refund",
            body=body,
            safe=True,
            headers={"PayPal-Request-Id": key, "Prefer": "return=representation"},
        )
        total = (refund.get("seller_payable_breakdown") or {}).get("total_refunded_amount")
        if total:
            refunded_total = _minor(total["value"], total["currency_code"])
        else:
            refunded_total = self.fetch(payment).refunded
        return RefundResult(psp_reference=refund["id"], refunded_total=refunded_total)

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        headers = {k.lower(): v for k, v in headers.items()}
        transmission = {field: headers.get(header, "") for field, header in WEBHOOK_HEADERS.items()}
        if not all(transmission.values()):
            raise WebhookRejected("PayPal: transmission headers missing")
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):
            raise WebhookRejected("PayPal: the body is not JSON") from None
        if not isinstance(event, dict) or not event.get("id") or not event.get("event_type"):
            raise WebhookRejected("PayPal: not an event")
        # A 5xx here raises ProviderError(outcome_unknown): answer non-2xx so that PayPal delivers again.
        verdict = self._api(
            "POST",
            "/v1/notifications/verify-webhook-signature",
            safe=True,
            body={
                **transmission,
                "webhook_id": self.config["webhook_id"],
                "webhook_event": event,
            },
        )
        if verdict.get("verification_status") != "SUCCESS":
            raise WebhookRejected(f"PayPal: signature verification {verdict.get('verification_status')!r}")
        resource = event.get("resource") or {}
        token = resource.get("id") if event["event_type"].startswith("VAULT.PAYMENT-TOKEN.") else None
        return WebhookNotice(
            event_id=event["id"],
            event_type=event["event_type"],
            merchant_uid=_merchant_uid(resource),
            psp=_reference(event["event_type"], resource),
            billing_key=token if isinstance(token, str) and token else None,  # the vault's payment token
        )

    # --- reading PayPal's objects ----------------------------------------------------------
    def _snapshot(self, order: dict) -> Snapshot:
        unit = (order.get("purchase_units") or [{}])[0]
        payments = unit.get("payments") or {}
        capture = (payments.get("captures") or [None])[0]
        amount = (capture or unit).get("amount") or {}
        currency = amount.get("currency_code", "")
        common: dict[str, Any] = {
            "amount": _minor(amount.get("value", "0"), currency) if currency else 0,
            "currency": currency,
            "merchant_uid": _merchant_uid(unit),
            "psp": {"order_id": order["id"], **({"capture_id": capture["id"]} if capture else {})},
            "raw": order,
        }
        status = order.get("status")
        if status in PENDING_ORDER:
            # APPROVED: the buyer said yes and only our capture is missing; the services may finish it.
            return Snapshot(state="pending", approved=status == "APPROVED", **common)
        if status == "VOIDED":
            return Snapshot(state="cancelled", **common)
        if status != "COMPLETED" or capture is None:
            raise ProviderError(f"PayPal: unexpected order status {status!r}", code="unexpected_status", payload=order)
        if capture.get("status") in CAPTURED:
            return Snapshot(state="paid", refunded=_refunded(capture, payments.get("refunds")), **common)
        if capture.get("status") in FAILED_CAPTURE:
            reason = (capture.get("status_details") or {}).get("reason", "")
            return Snapshot(state="failed", failure=f"capture {capture['status']} {reason}".strip(), **common)
        return Snapshot(state="pending", **common)  # capture PENDING: money not settled yet


def _refunded(capture: dict, refunds: list | None) -> int:
    """What was given back of this capture, in minor units."""
    if refunds is not None:
        return sum(
            _minor(r["amount"]["value"], r["amount"]["currency_code"])
            for r in refunds
            if r.get("status") not in NOT_REFUNDED
        )
    if capture["status"] == "COMPLETED":
        return 0
    if capture["status"] == "REFUNDED":
        return _minor(capture["amount"]["value"], capture["amount"]["currency_code"])
    # PARTIALLY_REFUNDED without the list: guessing would let bidcart refund twice or too little.
    raise ProviderError("PayPal: the order does not list its refunds", code="refunds_unlisted", payload=capture)


def _merchant_uid(resource: dict) -> str | None:
    units = resource.get("purchase_units")
    source = units[0] if units else resource
    return source.get("custom_id") or source.get("invoice_id") or None


def _link_id(resource: dict, rel: str, marker: str) -> str | None:
    """The id at the end of the `rel` link, if it points at `marker` (e.g. "/checkout/orders/")."""
    for link in resource.get("links") or []:
        if link.get("rel") == rel and marker in link.get("href", ""):
            return link["href"].rstrip("/").rsplit("/", 1)[-1]
    return None


def _reference(event_type: str, resource: dict) -> dict:
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    if event_type.startswith("CHECKOUT.ORDER."):
        return {"order_id": resource["id"]} if resource.get("id") else {}
    if event_type == "PAYMENT.CAPTURE.REFUNDED":  # the resource is the refund
        capture_id = related.get("capture_id") or _link_id(resource, "up", "/payments/captures/")
        return {"capture_id": capture_id} if capture_id else {}
    if event_type.startswith("PAYMENT.CAPTURE."):  # the resource is the capture
        order_id = related.get("order_id") or resource.get("order_id") or _link_id(resource, "up", "/checkout/orders/")
        if order_id:
            return {"order_id": order_id}
        return {"capture_id": resource["id"]} if resource.get("id") else {}
    return {}
