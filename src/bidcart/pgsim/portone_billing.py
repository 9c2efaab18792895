"""PortOne V2 billing keys (빌링키): issuance, charges with a key, lookup, deletion, and their webhooks.

Wire facts (PortOne's published v2.openapi.json, tests/data/specs/portone-v2-billing.openapi.json; the
browser SDK's `requestIssueBillingKey` from browser-sdk.yml):
- `POST /billing-keys` `{method: {card: {credential: {number, expiryYear, expiryMonth, ...}}}, channelKey,
  customer, noticeUrls, skipWebhook}` → `{billingKeyInfo: {billingKey, channels, issuedAt}}`. PortOne
  names the key; the shop cannot. A card the PG refuses (an expired one) is 502 `PG_PROVIDER` with
  `pgCode`/`pgMessage`; no channelKey (or channelGroupId) is 400 `INVALID_REQUEST`.
- In the browser, `PortOne.requestIssueBillingKey({storeId, channelKey, billingKeyMethod: "CARD", issueId,
  issueName, redirectUrl, noticeUrls, customer})` opens the PG's card window; the answer (or the
  redirect's query) is `{transactionType: "ISSUE_BILLING_KEY", billingKey, code?, message?}`. The key
  keeps the shop's `issueId`/`issueName`, so the shop can tell that the key is the one it asked for.
- `GET /billing-keys/{billingKey}` → a BillingKeyInfo, `status` ISSUED or DELETED (a deleted key is
  still found, with `deletedAt`); an unknown key is 404 `BILLING_KEY_NOT_FOUND`.
- `DELETE /billing-keys/{billingKey}?storeId=&reason=` → `{deletedAt}`; again: 409
  `BILLING_KEY_ALREADY_DELETED`.
- `POST /payments/{paymentId}/billing-key` `{billingKey, orderName, amount: {total}, currency, customer,
  noticeUrls}` → `{payment: {pgTxId, paidAt}}`, the payment PAID under paymentId (the usual GET reads it).
  A decline is 502 `PG_PROVIDER` (`pgCode`, `pgMessage`) and the payment is recorded FAILED; a paymentId
  already paid is 409 `ALREADY_PAID`; a deleted key 409 `BILLING_KEY_ALREADY_DELETED`; an unknown key
  404 `BILLING_KEY_NOT_FOUND`. The Idempotency-Key header works as on every V2 POST.
- Webhooks (Standard Webhooks, as for payments): `BillingKey.Issued` / `BillingKey.Deleted` with
  `data: {storeId, billingKey}`; a charge sends `Transaction.Paid` / `Transaction.Failed`.

Scripted outcomes: the test cards of pgsim/cards.py (0002 insufficient funds, 0069 expired card at each
charge; an expiry already past refused at issuance; `pgsim:decline` in orderName declines that charge).
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import cards, hosted, targets
from .core import as_int, base_url, read_form, with_query

DECLINES = {  # the PG's code and message, as PortOne relays them in PG_PROVIDER
    cards.INSUFFICIENT_FUNDS: ("4000", "잔액이 부족합니다. (pgsim: insufficient funds)"),
    cards.EXPIRED_CARD: ("F113", "유효기간이 만료된 카드입니다. (pgsim: expired card)"),
    cards.DECLINED: ("F0004", "카드 승인이 거절되었습니다. (pgsim:decline)"),
}


class PortOneBilling:
    """Mixed into pgsim's PortOne (V2) provider: uses its auth, Idempotency-Key replay, payments, webhooks."""

    def billing_routes(self) -> list[Route]:
        return [
            Route("/portone/billing-keys", self.issue_billing_key, methods=["POST"]),
            Route("/portone/billing-keys/{billing_key}", self.billing_key, methods=["GET", "DELETE"]),
            Route("/portone/payments/{payment_id}/billing-key", self.pay_with_billing_key, methods=["POST"]),
            Route("/portone/billing-key-checkout", self.billing_key_checkout, methods=["GET", "POST"]),
        ]

    # --- the key -----------------------------------------------------------------------------------
    def _billing_key(self, key: str) -> dict:
        from .portone import PortOneError

        record = self.state.portone_billing_keys.get(key)
        if record is None:
            raise PortOneError(404, "BILLING_KEY_NOT_FOUND", "빌링키가 존재하지 않습니다.")
        return record

    def billing_key_object(self, k: dict) -> dict:
        from .portone import CHANNEL, MERCHANT_ID

        t = self.state.rfc3339
        body: dict[str, Any] = {
            "status": k["status"],
            "billingKey": k["billingKey"],
            "merchantId": MERCHANT_ID,
            "storeId": k["storeId"],
            "methods": [
                {
                    "type": "BillingKeyPaymentMethodCard",
                    "card": {
                        "publisher": "361",
                        "issuer": "361",
                        "brand": "LOCAL",
                        "type": "CREDIT",
                        "ownerType": "PERSONAL",
                        "bin": k["number"][:6],
                        "name": k["cardName"],
                        "number": k["number"],
                    },
                }
            ],
            "channels": [CHANNEL],
            "customer": k["customer"],
            "requestedAt": t(k["issuedAt"]),
            "issuedAt": t(k["issuedAt"]),
        }
        for field in ("issueId", "issueName", "customData"):
            if k.get(field):
                body[field] = k[field]
        if k["status"] == "DELETED":
            body["deletedAt"] = t(k["deletedAt"])
        return body

    def new_billing_key(self, number: str, year: int, month: int, params: dict) -> dict | tuple[str, str]:
        """Issue a key for a card; or the PG's (code, message) refusing it."""
        if cards.expired(year, month, self.state.now()):
            return DECLINES[cards.EXPIRED_CARD]
        customer = params.get("customer") if isinstance(params.get("customer"), dict) else {}
        key = "billing-key-" + str(uuid.uuid4())
        record = {
            "billingKey": key,
            "status": "ISSUED",
            "storeId": self.config.portone_store_id,
            "number": cards.masked(number),
            "cardName": cards.brand(number),
            "customer": {"id": customer["id"]} if customer.get("id") else {},
            "issueId": params.get("issueId"),
            "issueName": params.get("issueName"),
            "customData": params.get("customData") if isinstance(params.get("customData"), str) else None,
            "issuedAt": self.state.now(),
            "deletedAt": None,
            "decline": cards.charge_outcome(number),  # kept with the key, never shown
        }
        self.state.portone_billing_keys[key] = record
        return record

    def _billing_webhook(self, request: Request, event_type: str, record: dict, urls: list[str]) -> None:
        event = {
            "type": event_type,
            "timestamp": self.state.rfc3339(self.state.now()),
            "data": {"storeId": record["storeId"], "billingKey": record["billingKey"]},
        }
        for url in urls or [self.config.portone_webhook_url]:
            self.sim.outbox.enqueue("portone", url, event, "msg_" + uuid.uuid4().hex, base_url(request))

    # --- API -----------------------------------------------------------------------------------------
    async def issue_billing_key(self, request: Request) -> Response:
        return await self._call(request, self._issue_billing_key, True)

    def _issue_billing_key(self, request: Request, params: dict) -> tuple[int, Any]:
        from .portone import CHANNEL, PortOneError

        method = params.get("method")
        card = method.get("card") if isinstance(method, dict) else None
        credential = card.get("credential") if isinstance(card, dict) else None
        if not isinstance(credential, dict):
            raise PortOneError(400, "INVALID_REQUEST", "method.card.credential이 필요합니다.")
        if not params.get("channelKey") and not params.get("channelGroupId"):
            raise PortOneError(400, "INVALID_REQUEST", "채널 키 또는 채널 그룹 ID가 필요합니다.")
        if params.get("channelKey") and params["channelKey"] != CHANNEL["key"]:
            raise PortOneError(404, "CHANNEL_NOT_FOUND", "요청된 채널이 존재하지 않습니다.")
        number = cards.digits(credential.get("number"))
        year, month = str(credential.get("expiryYear") or ""), str(credential.get("expiryMonth") or "")
        if not cards.valid_number(number) or not (
            len(year) == 2 and year.isdigit() and month.isdigit() and 1 <= int(month) <= 12
        ):
            raise PortOneError(400, "INVALID_REQUEST", "카드 번호(숫자 14~16자리)와 유효기간(YY, MM)을 확인해 주세요.")
        notice = self._notice_urls(params)
        if targets.refused(notice, self.config, request.scope):
            raise PortOneError(400, "INVALID_REQUEST", "noticeUrls가 허용된 주소가 아닙니다.")
        record = self.new_billing_key(number, 2000 + int(year), int(month), params)
        if isinstance(record, tuple):
            return 502, {"type": "PG_PROVIDER", "message": record[1], "pgCode": record[0], "pgMessage": record[1]}
        if params.get("skipWebhook") is not True:
            self._billing_webhook(request, "BillingKey.Issued", record, notice)
        return 200, {
            "billingKeyInfo": {
                "billingKey": record["billingKey"],
                "channels": [CHANNEL],
                "issuedAt": self.state.rfc3339(record["issuedAt"]),
            }
        }

    async def billing_key(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._call(
                request,
                lambda r, params: (200, self.billing_key_object(self._billing_key(r.path_params["billing_key"]))),
                False,
            )
        return await self._call(request, self._delete_billing_key, False)  # DELETE: parameters in the query

    def _delete_billing_key(self, request: Request, params: dict) -> tuple[int, Any]:
        from .portone import PortOneError

        record = self._billing_key(request.path_params["billing_key"])
        if record["status"] == "DELETED":
            raise PortOneError(409, "BILLING_KEY_ALREADY_DELETED", "빌링키가 이미 삭제되었습니다.")
        record.update(status="DELETED", deletedAt=self.state.now())
        self.state.portone_billing_keys.touch(record["billingKey"])
        if str(params.get("skipWebhook")).lower() != "true":
            self._billing_webhook(request, "BillingKey.Deleted", record, [])
        return 200, {"deletedAt": self.state.rfc3339(record["deletedAt"])}

    async def pay_with_billing_key(self, request: Request) -> Response:
        return await self._call(request, self._pay_with_billing_key, True)

    def _pay_with_billing_key(self, request: Request, params: dict) -> tuple[int, Any]:
        from .portone import CHANNEL, PortOneError

        payment_id = request.path_params["payment_id"]
        amount = params.get("amount")
        try:
            total = as_int(amount.get("total")) if isinstance(amount, dict) else None
            tax_free = as_int(amount.get("taxFree")) or 0 if isinstance(amount, dict) else 0
        except ValueError:
            total = None
        if (
            not params.get("billingKey")
            or not params.get("orderName")
            or not params.get("currency")
            or not total
            or total <= 0
        ):
            raise PortOneError(
                400, "INVALID_REQUEST", "billingKey, orderName, currency와 양의 amount.total이 필요합니다."
            )
        if tax_free < 0 or tax_free > total:
            raise PortOneError(409, "SUM_OF_PARTS_EXCEEDS_TOTAL_AMOUNT", "면세 금액이 전체 결제 금액을 초과합니다.")
        notice = self._notice_urls(params)
        if targets.refused(notice, self.config, request.scope):
            raise PortOneError(400, "INVALID_REQUEST", "noticeUrls가 허용된 주소가 아닙니다.")
        existing = self.state.portone_payments.get(payment_id)
        if existing and existing["status"] not in ("READY", "FAILED"):
            raise PortOneError(409, "ALREADY_PAID", "이미 결제가 완료된 결제 건입니다.")
        record = self._billing_key(str(params["billingKey"]))
        if record["status"] == "DELETED":
            raise PortOneError(409, "BILLING_KEY_ALREADY_DELETED", "빌링키가 이미 삭제되었습니다.")
        now = self.state.now()
        customer = params.get("customer") if isinstance(params.get("customer"), dict) else {}
        name = customer.get("name") if isinstance(customer.get("name"), dict) else {}
        p = self._new_payment(
            request,
            payment_id,
            store_id=record["storeId"],
            order_name=params["orderName"],
            total=total,
            tax_free=tax_free,
            currency=str(params["currency"]).removeprefix("CURRENCY_"),
            customer={
                "name": name.get("full"),
                "email": customer.get("email"),
                "phoneNumber": customer.get("phoneNumber"),
            },
            now=now,
        )
        p.update(
            {
                "noticeUrls": notice,
                "billingKey": record["billingKey"],
                "channel": CHANNEL,
                "method": {
                    "type": "PaymentMethodCard",
                    "approvalNumber": self.state.digits(8),
                    "card": {"name": record["cardName"], "number": record["number"]},
                },
                "customData": params.get("customData") if isinstance(params.get("customData"), str) else None,
            }
        )
        self.state.portone_payments[payment_id] = p
        decline = (
            self.sim.take_charge_decline("portone")
            or record.get("decline")
            or (cards.DECLINED if cards.declined_by_name(params["orderName"]) else None)
        )
        if decline:
            code, message = DECLINES[decline]
            p["failedAt"] = now
            p["failure"] = {"reason": message, "pgCode": code, "pgMessage": message}
            self._set_status(p, "FAILED")
            self._webhook(request, p)
            return 502, {"type": "PG_PROVIDER", "message": message, "pgCode": code, "pgMessage": message}
        p["paidAt"] = now
        self._set_status(p, "PAID")
        self._webhook(request, p)
        return 200, {"payment": {"pgTxId": p["pgTxId"], "paidAt": self.state.rfc3339(now)}}

    # --- the browser: PortOne.requestIssueBillingKey -------------------------------------------------
    async def billing_key_checkout(self, request: Request) -> Response:
        """The PG's card window the SDK opens. GET shows it; POST `action=approve` issues a key for the
        card typed in (`card_number`, `expiry` YYYY-MM; defaults: a card that charges fine) and ends as
        the SDK does: a redirect to redirectUrl?transactionType=ISSUE_BILLING_KEY&billingKey=… (with
        `code`/`message` on failure), or the answer handed to the opener."""
        params = dict(request.query_params)
        if request.method == "POST":
            params.update(await read_form(request))
        title = "PortOne card registration"
        if params.get("storeId") not in (None, "", self.config.portone_store_id):
            return hosted.message_page(request, title, f"Unknown storeId {params['storeId']}.", 403)
        if params.get("billingKeyMethod") != "CARD":
            return hosted.message_page(request, title, "billingKeyMethod CARD is required.", 400)
        refused = targets.refused([params.get("redirectUrl"), *self._notice_urls(params)], self.config, request.scope)
        if refused:
            return hosted.refused_target_page(request, title, refused)
        if request.method == "GET":
            hidden = {k: v for k, v in params.items() if k not in ("action",)}
            hidden.update(card_number=cards.DEFAULT_CARD, expiry=cards.DEFAULT_EXPIRY)
            return hosted.checkout_page(
                request,
                title,
                [("Register a card for", params.get("issueName") or ""), ("issueId", params.get("issueId") or "")],
                action_url=f"{base_url(request)}/portone/billing-key-checkout",
                hidden=hidden,
                approve_label="Register card",
            )
        result: dict[str, Any] = {"transactionType": "ISSUE_BILLING_KEY"}
        if params.get("action") != "approve":
            result.update(code="FAILURE_TYPE_PG", message="사용자가 빌링키 발급을 취소하였습니다.")
        else:
            number = cards.digits(params.get("card_number") or cards.DEFAULT_CARD)
            year, _, month = str(params.get("expiry") or cards.DEFAULT_EXPIRY).partition("-")
            if not cards.valid_number(number) or not (year.isdigit() and month.isdigit()):
                result.update(code="FAILURE_TYPE_PG", message="카드 정보를 확인해 주세요.")
            else:
                customer = {"id": params["customer.customerId"]} if params.get("customer.customerId") else {}
                record = self.new_billing_key(number, int(year), int(month), {**params, "customer": customer})
                if isinstance(record, tuple):
                    result.update(code="FAILURE_TYPE_PG", message=record[1])
                else:
                    result["billingKey"] = record["billingKey"]
                    self._billing_webhook(request, "BillingKey.Issued", record, self._notice_urls(params))
                self.state.save()
        if params.get("redirectUrl"):
            return RedirectResponse(with_query(params["redirectUrl"], **result), status_code=303)
        text = f"Card registration failed: {result['message']}" if result.get("code") else "Card registered."
        return hosted.message_page(request, title, text, result={"pgsim": "portone", "response": result})
