"""PayPal: OAuth client credentials, Orders v2, Payments v2 refunds, webhooks.

Money on the wire is `{"currency_code", "value"}` with `value` a decimal string; inside
the simulator it is integer minor units. Errors are `{name, message, debug_id, details,
links}`. `PayPal-Request-Id` replays return the latest state of the original resource
with 200 instead of 201.
"""

from __future__ import annotations

import base64
import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import hosted, targets
from .core import BadBody, Provider, base_url, is_declined, magic_outcome, read_form, read_params, with_query
from .paypal_billing import PayPalVault

VALUE_RE = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")
ZERO_DECIMAL = {"HUF", "JPY", "TWD", "KRW"}
# PayPal's currency list (developer.paypal.com/api/rest/reference/currency-codes/). The simulator keeps its
# own copy, as PayPal does: a shop that sends another currency (KRW) must meet PayPal's refusal here.
CURRENCIES = {
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
ERROR_NAMES = {
    400: ("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema."),
    401: (
        "AUTHENTICATION_FAILURE",
        "Authentication failed due to missing authorization header, or invalid authentication credentials.",
    ),
    403: ("NOT_AUTHORIZED", "Authorization failed due to insufficient permissions."),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    409: ("RESOURCE_CONFLICT", "The server has detected a conflict while processing this request."),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
    ),
    500: ("INTERNAL_SERVER_ERROR", "An internal server error has occurred."),
}
# Payer and merchant (account) ids: 13 characters of PayPal's alphabet, without 0, 1, I and O
# (`^[2-9A-HJ-NP-Z]{13}$` in the Orders and Payments v2 specs).
ACCOUNT_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MERCHANT_ID = "PGSMMERCHANT2"
REQUEST_ID_TTL = {
    "order": 6 * 3600,
    "capture": 45 * 86400,
    "refund": 45 * 86400,
    "setup_token": 3 * 86400,
    "payment_token": 3 * 86400,
}


class PayPalError(Exception):
    def __init__(
        self,
        status: int,
        issue: str | None = None,
        description: str | None = None,
        field: str | None = None,
        location: str = "body",
    ):
        self.status, self.issue, self.description, self.field, self.location = (
            status,
            issue,
            description,
            field,
            location,
        )


def to_minor(money: Any, field: str) -> tuple[str, int]:
    """Validate a PayPal money object and return (currency, integer minor units)."""
    if not isinstance(money, dict) or not money.get("currency_code") or money.get("value") in (None, ""):
        raise PayPalError(400, "MISSING_REQUIRED_PARAMETER", "A required field is missing.", field)
    currency, value = str(money["currency_code"]).upper(), money["value"]
    if not isinstance(value, str) or not VALUE_RE.match(value):
        raise PayPalError(
            400,
            "INVALID_PARAMETER_SYNTAX",
            "The value of a field does not conform to the expected format.",
            f"{field}/value",
        )
    exp = 0 if currency in ZERO_DECIMAL else 2
    amount = Decimal(value) * (10**exp)
    if amount != amount.to_integral_value():
        raise PayPalError(
            422,
            "DECIMAL_PRECISION",
            "The value of the field should not have more decimal places than allowed.",
            f"{field}/value",
        )
    if amount < 0:
        raise PayPalError(422, "CANNOT_BE_NEGATIVE", "Must be greater than or equal to 0.", f"{field}/value")
    return currency, int(amount)


def money(currency: str, minor: int) -> dict:
    exp = 0 if currency in ZERO_DECIMAL else 2
    value = str(minor) if exp == 0 else f"{minor // 100}.{minor % 100:02d}"
    return {"currency_code": currency, "value": value}


class PayPal(PayPalVault, Provider):
    def routes(self) -> list[Route]:
        return [
            Route("/paypal/v1/oauth2/token", self.token, methods=["POST"]),
            Route("/paypal/v2/checkout/orders", self.create_order, methods=["POST"]),
            Route("/paypal/v2/checkout/orders/{id}", self.get_order, methods=["GET"]),
            Route("/paypal/v2/checkout/orders/{id}/capture", self.capture, methods=["POST"]),
            Route("/paypal/v2/payments/captures/{id}", self.get_capture, methods=["GET"]),
            Route("/paypal/v2/payments/captures/{id}/refund", self.refund, methods=["POST"]),
            Route("/paypal/v2/payments/refunds/{id}", self.get_refund, methods=["GET"]),
            Route("/paypal/v1/notifications/verify-webhook-signature", self.verify_webhook, methods=["POST"]),
            Route("/paypal/checkoutnow", self.checkout, methods=["GET", "POST"]),
            *self.vault_routes(),
        ]

    # --- plumbing ---------------------------------------------------------------------
    def error(self, exc: PayPalError) -> JSONResponse:
        name, message = ERROR_NAMES.get(exc.status, ERROR_NAMES[500])
        body: dict[str, Any] = {"name": name, "message": message, "debug_id": self.state.hex(13)}
        if exc.issue:
            detail = {"issue": exc.issue, "description": exc.description or exc.issue}
            if exc.field:
                detail.update(field=exc.field, location=exc.location)
            body["details"] = [detail]
            body["links"] = [
                {
                    "href": f"https://developer.paypal.com/docs/api/orders/v2/#error-{exc.issue}",
                    "rel": "information_link",
                    "method": "GET",
                }
            ]
        return JSONResponse(body, status_code=exc.status, headers={"paypal-debug-id": body["debug_id"]})

    async def _call(self, request: Request, handler, kind: str | None = None) -> Response:
        """Bearer auth, JSON parsing, PayPal-Request-Id replay and error mapping."""
        try:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            expires = self.state.paypal_tokens.get(token)
            if not expires or expires < self.state.now():
                raise PayPalError(401)
            params: dict = {}
            if request.method == "POST":
                try:
                    params = await read_params(request)
                except BadBody:
                    raise PayPalError(400, "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
            request_id = request.headers.get("paypal-request-id")
            replay_key = f"{request.url.path.split('/paypal/', 1)[-1]} {request_id}"
            if kind and request_id:
                entry = self.state.paypal_request_ids.get(replay_key)
                if entry and entry["expires_at"] > self.state.now():
                    return JSONResponse(self._render(entry["kind"], entry["id"], request), status_code=200)
            status, kind_out, resource_id = handler(request, params)
            if kind and request_id:
                self.state.paypal_request_ids[replay_key] = {
                    "kind": kind_out,
                    "id": resource_id,
                    "expires_at": self.state.now() + REQUEST_ID_TTL[kind],
                }
        except PayPalError as exc:
            return self.error(exc)
        self.state.save()
        return JSONResponse(self._render(kind_out, resource_id, request), status_code=status)

    def _render(self, kind: str, resource_id: str, request: Request) -> dict:
        minimal = "return=representation" not in request.headers.get("prefer", "") and request.method == "POST"
        if kind == "order":
            body = self.order_object(self.state.paypal_orders[resource_id], request)
            if minimal and body["status"] != "COMPLETED":  # a capture always returns the full order
                return {k: body[k] for k in ("id", "status", "links")}
            return body
        if kind == "capture":
            return self.capture_object(resource_id, request)
        if kind in ("setup_token", "payment_token"):
            return self._render_vault(kind, resource_id, request)
        body = self.refund_object(self.state.paypal_refunds[resource_id], request)
        return {k: body[k] for k in ("id", "status", "links")} if minimal else body

    def _api(self, request: Request) -> str:
        return f"{base_url(request)}/paypal"

    # --- OAuth -------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        try:
            user, _, password = (
                base64.b64decode(request.headers.get("authorization", "").removeprefix("Basic "))
                .decode()
                .partition(":")
            )
        except (ValueError, UnicodeDecodeError):
            user = password = ""
        if (user, password) != (self.config.paypal_client_id, self.config.paypal_client_secret):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client Authentication failed"}, status_code=401
            )
        form = await read_form(request)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL or unsupported"},
                status_code=400,
            )
        token = "A21AA" + self.state.token("", 60)
        for stale in [k for k, v in self.state.paypal_tokens.items() if v <= self.state.now()]:
            del self.state.paypal_tokens[stale]
        self.state.paypal_tokens[token] = self.state.now() + self.config.paypal_token_ttl
        self.state.save()
        return JSONResponse(
            {
                "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-PGSIM0000000000",
                "expires_in": self.config.paypal_token_ttl,
                "nonce": self.state.rfc3339(self.state.now()) + self.state.hex(20),
            }
        )

    # --- orders ------------------------------------------------------------------------
    async def create_order(self, request: Request) -> Response:
        return await self._call(request, self._create_order, "order")

    def _create_order(self, request: Request, body: dict) -> tuple[int, str, str]:
        intent = body.get("intent")
        if not intent:
            raise PayPalError(400, "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.", "/intent")
        if intent not in ("CAPTURE", "AUTHORIZE"):
            raise PayPalError(400, "INVALID_PARAMETER_VALUE", "The value of a field is invalid.", "/intent")
        if intent == "AUTHORIZE":
            raise PayPalError(422, "AUTH_CAPTURE_NOT_ENABLED", "pgsim simulates intent CAPTURE only.", "/intent")
        units = body.get("purchase_units")
        if not isinstance(units, list) or not units:
            raise PayPalError(
                400, "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.", "/purchase_units"
            )
        if len(units) > 1:
            raise PayPalError(
                422, "MULTIPLE_PURCHASE_UNITS_NOT_SUPPORTED", "pgsim supports one purchase unit.", "/purchase_units"
            )
        unit = units[0]
        currency, total = to_minor(unit.get("amount"), "/purchase_units/@reference_id=='default'/amount")
        if currency not in CURRENCIES:
            raise PayPalError(
                422,
                "INVALID_CURRENCY_CODE",
                "Currency code is invalid or is not currently supported. Please "
                "refer https://developer.paypal.com/api/rest/reference/currency-codes/ for list of supported "
                "currency codes.",
                "/purchase_units/@reference_id=='default'/amount/currency_code",
            )
        if total <= 0:
            raise PayPalError(
                422,
                "CANNOT_BE_ZERO_OR_NEGATIVE",
                "Must be greater than zero. If the currency supports "
                "decimals, only two decimal place precision is supported.",
                "/purchase_units/@reference_id=='default'/amount/value",
            )
        breakdown = (unit.get("amount") or {}).get("breakdown")
        if breakdown:
            parts = {
                k: to_minor(v, f"/purchase_units/@reference_id=='default'/amount/breakdown/{k}")[1]
                for k, v in breakdown.items()
            }
            expected = (
                sum(parts.get(k, 0) for k in ("item_total", "tax_total", "shipping", "handling", "insurance"))
                - parts.get("shipping_discount", 0)
                - parts.get("discount", 0)
            )
            if expected != total:
                raise PayPalError(
                    422,
                    "AMOUNT_MISMATCH",
                    "Should equal item_total + tax_total + shipping + handling + insurance - shipping_discount - "
                    "discount.",
                    "/purchase_units/@reference_id=='default'/amount/value",
                )
        experience = ((body.get("payment_source") or {}).get("paypal") or {}).get("experience_context") or {}
        context = body.get("application_context") or {}
        for key in ("return_url", "cancel_url"):
            url = experience.get(key) or context.get(key)
            if url and not targets.is_allowed(url, self.config, request.scope):
                where = "/payment_source/paypal/experience_context" if experience.get(key) else "/application_context"
                raise PayPalError(
                    422,
                    "INVALID_PARAMETER_VALUE",
                    "The value of a field is invalid: the URL's origin is not "
                    "allowed by the simulator (PGSIM_ALLOWED_ORIGINS).",
                    f"{where}/{key}",
                )
        now = self.state.now()
        order_id = self.state.token("", 17)
        self.state.paypal_orders[order_id] = {
            "id": order_id,
            "intent": intent,
            "status": "PAYER_ACTION_REQUIRED" if experience else "CREATED",
            "payer_action": bool(experience),
            "purchase_unit": {k: v for k, v in unit.items() if k != "amount"}
            | {"reference_id": unit.get("reference_id", "default")},
            "currency": currency,
            "total": total,
            "amount": unit["amount"],
            "return_url": experience.get("return_url") or context.get("return_url"),
            "cancel_url": experience.get("cancel_url") or context.get("cancel_url"),
            "payer": None,
            "charged": None,
            "declined": is_declined(unit.get("description"), unit.get("custom_id")),
            "capture_id": None,
            "create_time": now,
            "update_time": now,
        }
        vaulted = self.vaulted_source(body)
        if vaulted:  # a vaulted payment method: charged now, no buyer in the loop
            self.charge_vaulted(request, self.state.paypal_orders[order_id], *vaulted)
        return 201, "order", order_id

    def order_object(self, order: dict, request: Request) -> dict:
        api, t = self._api(request), self.state.rfc3339
        unit = dict(order["purchase_unit"], amount=order["amount"])
        unit.setdefault("payee", {"email_address": "merchant@bidcart.example", "merchant_id": MERCHANT_ID})
        if order["capture_id"]:
            unit["payments"] = {"captures": [self.capture_object(order["capture_id"], request)]}
            # Orders v2 `payment_collection` lists the refunds too: how a client learns what was given back.
            refunds = [
                self.refund_object(r, request)
                for r in self.state.paypal_refunds.values()
                if r["capture_id"] == order["capture_id"]
            ]
            if refunds:
                unit["payments"]["refunds"] = refunds
        links = [{"href": f"{api}/v2/checkout/orders/{order['id']}", "rel": "self", "method": "GET"}]
        if order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
            rel = "payer-action" if order["payer_action"] else "approve"
            links.append({"href": f"{api}/checkoutnow?token={order['id']}", "rel": rel, "method": "GET"})
        if order["status"] != "COMPLETED":
            links += [
                {"href": f"{api}/v2/checkout/orders/{order['id']}", "rel": "update", "method": "PATCH"},
                {"href": f"{api}/v2/checkout/orders/{order['id']}/capture", "rel": "capture", "method": "POST"},
            ]
        body: dict[str, Any] = {
            "id": order["id"],
            "intent": order["intent"],
            "status": order["status"],
            "purchase_units": [unit],
            "create_time": t(order["create_time"]),
            "update_time": t(order["update_time"]),
            "links": links,
        }
        if order.get("vault"):
            kind, vault_id = order["vault"]
            record = self.state.paypal_payment_tokens.get(vault_id) or {}
            source: dict[str, Any] = {"attributes": {"vault": {"id": vault_id, "status": "VAULTED"}}}
            if kind == "card" and record:
                source.update(brand=record["brand"], last_digits=record["number"][-4:], expiry=record["expiry"])
            body["payment_source"] = {kind: source}
        if order["payer"]:
            body["payer"] = order["payer"]
            body["payment_source"] = {
                "paypal": {
                    "email_address": order["payer"]["email_address"],
                    "account_id": order["payer"]["payer_id"],
                    "account_status": "VERIFIED",
                    "name": order["payer"]["name"],
                }
            }
        return body

    def _order(self, order_id: str) -> dict:
        order = self.state.paypal_orders.get(order_id)
        if order is None:
            raise PayPalError(
                404,
                "INVALID_RESOURCE_ID",
                "Specified resource ID does not exist. Please check the resource ID and try again.",
                "order_id",
                "path",
            )
        return order

    async def get_order(self, request: Request) -> Response:
        def handler(r: Request, _params: dict) -> tuple[int, str, str]:
            return 200, "order", self._order(r.path_params["id"])["id"]

        return await self._call(request, handler)

    async def capture(self, request: Request) -> Response:
        return await self._call(request, self._capture, "order")

    def _capture(self, request: Request, body: dict) -> tuple[int, str, str]:
        order = self._order(request.path_params["id"])
        if order["status"] == "COMPLETED":
            raise PayPalError(
                422,
                "ORDER_ALREADY_CAPTURED",
                "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
            )
        if order["status"] != "APPROVED":
            raise PayPalError(
                422,
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' "
                "url returned as part of the HATEOAS links within the Create Order call or provide a valid "
                "payment_source in the request.",
            )
        if order["declined"]:
            self._send(
                request,
                "PAYMENT.CAPTURE.DECLINED",
                "capture",
                {"order_id": order["id"], "status": "DECLINED"},
                "A payment capture was declined",
            )
            raise PayPalError(
                422,
                "INSTRUMENT_DECLINED",
                "The instrument presented was either declined by the processor or bank, or it can't be used for "
                "this payment.",
            )
        now = self.state.now()
        capture_id = self.state.token("", 17)
        amount = order["charged"] if order["charged"] is not None else order["total"]
        self.state.paypal_captures[capture_id] = {
            "id": capture_id,
            "order_id": order["id"],
            "status": "COMPLETED",
            "amount": amount,
            "refunded": 0,
            "create_time": now,
            "update_time": now,
        }
        order.update(status="COMPLETED", capture_id=capture_id, update_time=now)
        self._send(
            request,
            "PAYMENT.CAPTURE.COMPLETED",
            "capture",
            self.capture_object(capture_id, request),
            f"Payment completed for {money(order['currency'], amount)['value']} {order['currency']}",
        )
        return 201, "order", order["id"]

    def capture_object(self, capture_id: str, request: Request) -> dict:
        capture = self.state.paypal_captures[capture_id]
        order = self.state.paypal_orders[capture["order_id"]]
        api, t, cur = self._api(request), self.state.rfc3339, order["currency"]
        fee = (capture["amount"] * 349 + 5000) // 10000 + (0 if cur in ZERO_DECIMAL else 49)  # 3.49% + fixed fee
        fee = min(fee, capture["amount"])
        unit = order["purchase_unit"]
        body = {
            "id": capture_id,
            "status": capture["status"],
            "amount": money(cur, capture["amount"]),
            "final_capture": True,
            "disbursement_mode": "INSTANT",
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
            "seller_receivable_breakdown": {
                "gross_amount": money(cur, capture["amount"]),
                "paypal_fee": money(cur, fee),
                "net_amount": money(cur, capture["amount"] - fee),
            },
            "links": [
                {"href": f"{api}/v2/payments/captures/{capture_id}", "rel": "self", "method": "GET"},
                {"href": f"{api}/v2/payments/captures/{capture_id}/refund", "rel": "refund", "method": "POST"},
                {"href": f"{api}/v2/checkout/orders/{order['id']}", "rel": "up", "method": "GET"},
            ],
            "create_time": t(capture["create_time"]),
            "update_time": t(capture["update_time"]),
        }
        if capture.get("processor_response"):
            body["processor_response"] = capture["processor_response"]
        if capture["status"] == "DECLINED":
            body.pop("seller_receivable_breakdown")
        for key in ("custom_id", "invoice_id"):
            if unit.get(key):
                body[key] = unit[key]
        return body

    async def get_capture(self, request: Request) -> Response:
        def handler(r: Request, _params: dict) -> tuple[int, str, str]:
            if r.path_params["id"] not in self.state.paypal_captures:
                raise PayPalError(
                    404, "INVALID_RESOURCE_ID", "Specified resource ID does not exist.", "capture_id", "path"
                )
            return 200, "capture", r.path_params["id"]

        return await self._call(request, handler)

    # --- refunds -----------------------------------------------------------------------
    async def refund(self, request: Request) -> Response:
        return await self._call(request, self._refund, "refund")

    def _refund(self, request: Request, body: dict) -> tuple[int, str, str]:
        capture = self.state.paypal_captures.get(request.path_params["id"])
        if capture is None:
            raise PayPalError(404, "INVALID_RESOURCE_ID", "Specified resource ID does not exist.", "capture_id", "path")
        order = self.state.paypal_orders[capture["order_id"]]
        remaining = capture["amount"] - capture["refunded"]
        if remaining == 0:
            raise PayPalError(422, "CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
        if body.get("amount") is not None:
            currency, amount = to_minor(body["amount"], "/amount")
            if currency != order["currency"]:
                raise PayPalError(
                    422,
                    "REFUND_CAPTURE_CURRENCY_MISMATCH",
                    "Refund must be in the same currency as the capture.",
                    "/amount/currency_code",
                )
            if amount <= 0:
                raise PayPalError(
                    422, "INVALID_PARAMETER_VALUE", "The refund amount must be positive.", "/amount/value"
                )
            if amount > remaining:
                raise PayPalError(
                    422,
                    "REFUND_AMOUNT_EXCEEDED",
                    "The refund amount must be less than or equal to the capture amount that has not yet been "
                    "refunded.",
                    "/amount/value",
                )
        else:
            amount = remaining  # empty body: refund what is left
        now = self.state.now()
        refund_id = self.state.token("", 17)
        capture["refunded"] += amount
        capture["status"] = "REFUNDED" if capture["refunded"] == capture["amount"] else "PARTIALLY_REFUNDED"
        capture["update_time"] = now
        self.state.paypal_refunds[refund_id] = {
            "id": refund_id,
            "capture_id": capture["id"],
            "status": "COMPLETED",
            "amount": amount,
            "currency": order["currency"],
            "note_to_payer": body.get("note_to_payer"),
            "invoice_id": body.get("invoice_id"),
            "custom_id": body.get("custom_id"),
            "refunded_total": capture["refunded"],
            "create_time": now,
            "update_time": now,
        }
        self._send(
            request,
            "PAYMENT.CAPTURE.REFUNDED",
            "refund",
            self.refund_object(self.state.paypal_refunds[refund_id], request),
            f"A {money(order['currency'], amount)['value']} {order['currency']} capture payment was refunded",
        )
        return 201, "refund", refund_id

    def refund_object(self, refund: dict, request: Request) -> dict:
        api, t, cur = self._api(request), self.state.rfc3339, refund["currency"]
        body = {
            "id": refund["id"],
            "status": refund["status"],
            "amount": money(cur, refund["amount"]),
            "seller_payable_breakdown": {
                "gross_amount": money(cur, refund["amount"]),
                "paypal_fee": money(cur, 0),
                "net_amount": money(cur, refund["amount"]),
                "total_refunded_amount": money(cur, refund["refunded_total"]),
            },
            "links": [
                {"href": f"{api}/v2/payments/refunds/{refund['id']}", "rel": "self", "method": "GET"},
                {"href": f"{api}/v2/payments/captures/{refund['capture_id']}", "rel": "up", "method": "GET"},
            ],
            "create_time": t(refund["create_time"]),
            "update_time": t(refund["update_time"]),
        }
        for key in ("note_to_payer", "invoice_id", "custom_id"):
            if refund.get(key):
                body[key] = refund[key]
        return body

    async def get_refund(self, request: Request) -> Response:
        def handler(r: Request, _params: dict) -> tuple[int, str, str]:
            if r.path_params["id"] not in self.state.paypal_refunds:
                raise PayPalError(
                    404, "INVALID_RESOURCE_ID", "Specified resource ID does not exist.", "refund_id", "path"
                )
            return 200, "refund", r.path_params["id"]

        return await self._call(request, handler)

    # --- webhooks ----------------------------------------------------------------------
    def _send(self, request: Request, event_type: str, resource_type: str, resource: dict, summary: str) -> None:
        event_id = "WH-" + self.state.token("", 17) + "-" + self.state.token("", 17)
        event = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": self.state.rfc3339(self.state.now()),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
            "links": [
                {
                    "href": f"{self._api(request)}/v1/notifications/webhooks-events/{event_id}",
                    "rel": "self",
                    "method": "GET",
                }
            ],
        }
        self.sim.outbox.enqueue("paypal", self.config.paypal_webhook_url, event, event_id, base_url(request))

    async def verify_webhook(self, request: Request) -> Response:
        def handler(r: Request, params: dict) -> tuple[int, str, str]:
            for name in (
                "auth_algo",
                "cert_url",
                "transmission_id",
                "transmission_sig",
                "transmission_time",
                "webhook_id",
                "webhook_event",
            ):
                if params.get(name) in (None, ""):
                    raise PayPalError(
                        400, "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.", f"/{name}"
                    )
            ok = self.sim.outbox.verify_paypal(params)
            return 200, "verification", "SUCCESS" if ok else "FAILURE"

        # Not an idempotent resource: render the verdict directly.
        try:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if not (self.state.paypal_tokens.get(token) or 0) > self.state.now():
                raise PayPalError(401)
            try:
                params = await read_params(request)
            except BadBody:
                raise PayPalError(400, "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
            _, _, verdict = handler(request, params)
        except PayPalError as exc:
            return self.error(exc)
        return JSONResponse({"verification_status": verdict})

    # --- hosted approval page ------------------------------------------------------------
    async def checkout(self, request: Request) -> Response:
        order = self.state.paypal_orders.get(request.query_params.get("token", ""))
        if order is None:
            return hosted.message_page(request, "PayPal", "Unknown order (token).", 404)
        if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            return hosted.message_page(
                request, "PayPal", f"This order is {order['status']} and cannot be approved again.", 409
            )
        if request.method == "POST":
            form = await read_form(request)
            choice = {"outcome": form.get("action"), "amount": form.get("tamper_amount")}
        else:
            choice = self.sim.take_outcome("paypal") or magic_outcome(order["purchase_unit"].get("description"))
        value = money(order["currency"], order["total"])
        if choice is None:
            return hosted.checkout_page(
                request,
                "PayPal checkout",
                [
                    ("Order", order["id"]),
                    ("Description", order["purchase_unit"].get("description")),
                    ("Amount", f"{value['value']} {order['currency']}"),
                ],
                action_url=str(request.url),
                approve_label="Approve payment (log in as sandbox buyer)",
                amount=value["value"],
            )
        return self._finish(request, order, choice)

    def _finish(self, request: Request, order: dict, choice: dict) -> Response:
        outcome = choice.get("outcome")
        if outcome == "cancel":
            if not order["cancel_url"]:
                return hosted.message_page(request, "PayPal", "You cancelled. Return to the merchant's site.")
            return RedirectResponse(with_query(order["cancel_url"], token=order["id"]), status_code=303)
        if outcome not in ("approve", "fail", "amount"):
            return hosted.message_page(request, "PayPal", "Unknown action.", 400)
        if outcome == "amount":
            try:
                _, charged = to_minor(
                    {"currency_code": order["currency"], "value": str(choice.get("amount") or "").strip()}, "amount"
                )
            except (PayPalError, InvalidOperation):
                charged = 0
            if charged <= 0:
                return hosted.message_page(request, "PayPal", "Enter a positive amount such as 12.34.", 400)
            order["charged"] = charged
        if outcome == "fail":
            order["declined"] = True  # the buyer approves, the instrument is declined at capture
        payer_id = "".join(secrets.choice(ACCOUNT_ID_ALPHABET) for _ in range(13))
        order["payer"] = {
            "name": {"given_name": "Sandbox", "surname": "Buyer"},
            "email_address": "buyer@pgsim.example",
            "payer_id": payer_id,
            "address": {"country_code": "KR"},
        }
        order.update(status="APPROVED", update_time=self.state.now())
        self._send(
            request,
            "CHECKOUT.ORDER.APPROVED",
            "checkout-order",
            self.order_object(order, request),
            "An order has been approved by buyer",
        )
        self.state.save()
        if not order["return_url"]:
            return hosted.message_page(request, "PayPal", "Payment approved. Return to the merchant's site.")
        return RedirectResponse(with_query(order["return_url"], token=order["id"], PayerID=payer_id), status_code=303)
