"""PortOne V2 REST API (`Authorization: PortOne <secret>`), hosted checkout, webhooks.

Payments are a union discriminated by `status`; every variant carries the fields the
official SDK requires (it rejects responses missing them). Optional fields are left out
rather than sent as null, because the SDK type-checks whatever is present.
Errors are `{type, message}` with the HTTP status the OpenAPI spec gives that type.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import hosted, targets
from .core import (
    BadBody,
    Provider,
    as_int,
    base_url,
    is_declined,
    magic_outcome,
    positive_int,
    read_form,
    read_params,
    with_query,
)
from .portone_billing import PortOneBilling

MERCHANT_ID = "merchant-pgsim"
# PortOne V2's Bank enum (../shared/specs/portone-v2.openapi.json), for refundAccount.bank.
BANKS = set(
    """
BANK_OF_KOREA KDB IBK KOOKMIN SUHYUP KEXIM NONGHYUP LOCAL_NONGHYUP WOORI STANDARD_CHARTERED CITI SUHYUP_FEDERATION
DAEGU BUSAN KWANGJU JEJU JEONBUK KYONGNAM KFCC SHINHYUP SAVINGS_BANK MORGAN_STANLEY HSBC DEUTSCHE JPMC MIZUHO MUFG
BANK_OF_AMERICA BNP_PARIBAS ICBC BANK_OF_CHINA NFCF UOB BOCOM CCB POST KODIT KIBO HANA SHINHAN K_BANK KAKAO TOSS
MISC_FOREIGN SGI KCIS""".split()
)
CHANNEL = {
    "type": "TEST",
    "id": "channel-id-pgsim",
    "key": "channel-key-pgsim",
    "name": "pgsim",
    "pgProvider": "INICIS_V2",
    "pgMerchantId": "INIpayTest",
}
IDEMPOTENCY_TTL = 3 * 3600
WEBHOOK_TYPES = {
    "PAID": "Transaction.Paid",
    "VIRTUAL_ACCOUNT_ISSUED": "Transaction.VirtualAccountIssued",
    "FAILED": "Transaction.Failed",
    "CANCELLED": "Transaction.Cancelled",
    "PARTIAL_CANCELLED": "Transaction.PartialCancelled",
    "READY": "Transaction.Ready",
}


class PortOneError(Exception):
    def __init__(self, status: int, type_: str, message: str):
        self.status, self.type, self.message = status, type_, message


def error_response(exc: PortOneError) -> JSONResponse:
    return JSONResponse({"type": exc.type, "message": exc.message}, status_code=exc.status)


class PortOne(PortOneBilling, Provider):
    def routes(self) -> list[Route]:
        return [
            Route("/portone/login/api-secret", self.login, methods=["POST"]),
            Route("/portone/payments/{payment_id}", self.get_payment, methods=["GET"]),
            Route("/portone/payments/{payment_id}/cancel", self.cancel, methods=["POST"]),
            Route("/portone/payments/{payment_id}/pre-register", self.pre_register, methods=["POST"]),
            Route("/portone/payments/{payment_id}/virtual-account/close", self.close_virtual_account, methods=["POST"]),
            Route("/portone/checkout", self.checkout, methods=["GET", "POST"]),
            Route("/portone/vbank/{payment_id}", self.vbank_page, methods=["GET", "POST"]),
            Route("/portone/browser-sdk.js", self.script, methods=["GET"]),
            *self.billing_routes(),
        ]

    # --- plumbing ---------------------------------------------------------------------
    def _auth(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        if header == f"PortOne {self.config.portone_secret}":
            return
        token = header.removeprefix("Bearer ")
        expires = self.state.portone_tokens.get(token) if header.startswith("Bearer ") else None
        if expires and expires > self.state.now():
            return
        raise PortOneError(401, "UNAUTHORIZED", "인증 정보가 올바르지 않습니다. (Authorization: PortOne <API secret>)")

    def _store(self, store_id: Any) -> None:
        if store_id not in (None, "", self.config.portone_store_id):
            raise PortOneError(403, "FORBIDDEN", f"상점({store_id})에 대한 권한이 없습니다.")

    async def _call(self, request: Request, handler, mutating: bool) -> Response:
        """Auth, body parsing, Idempotency-Key replay and error mapping around a handler."""
        try:
            self._auth(request)
            try:
                params = await read_params(request) if mutating else dict(request.query_params)
            except BadBody as exc:
                raise PortOneError(400, "INVALID_REQUEST", str(exc))
            self._store(params.get("storeId"))
            key = request.headers.get("idempotency-key", "").strip().strip('"') if mutating else ""
            if not key:
                status, body = handler(request, params)
            else:
                status, body = self._idempotent(request, key, params, handler)
        except PortOneError as exc:
            return error_response(exc)
        self.state.save()
        return JSONResponse(body, status_code=status)

    def _idempotent(self, request: Request, key: str, params: dict, handler) -> tuple[int, Any]:
        now = self.state.now()
        cache = self.state.portone_idempotency
        for stale in [k for k, v in cache.items() if v["expires_at"] < now]:
            del cache[stale]
        fingerprint = hashlib.sha256(
            f"{request.method} {request.url.path} {json.dumps(params, sort_keys=True)}".encode()
        ).hexdigest()
        entry = cache.get(key)
        if entry is not None:
            if entry["fingerprint"] != fingerprint:
                raise PortOneError(400, "INVALID_REQUEST", "Idempotency-Key was already used for a different request")
            if entry["status"] is None:
                raise PortOneError(
                    409, "IDEMPOTENCY_OUTSTANDING_REQUEST", "같은 Idempotency-Key의 요청이 처리 중입니다."
                )
            return entry["status"], entry["body"]
        entry = cache[key] = {
            "fingerprint": fingerprint,
            "status": None,
            "body": None,
            "expires_at": now + IDEMPOTENCY_TTL,
        }
        try:
            status, body = handler(request, params)
        except PortOneError as exc:
            status, body = exc.status, {"type": exc.type, "message": exc.message}
        entry.update(status=status, body=body)
        return status, body

    def _payment(self, payment_id: str) -> dict:
        payment = self.state.portone_payments.get(payment_id)
        if payment is None:
            raise PortOneError(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
        return payment

    def payment_object(self, p: dict) -> dict:
        t = self.state.rfc3339
        cancelled = sum(c["totalAmount"] for c in p["cancellations"])
        cancelled_tax_free = sum(c["taxFreeAmount"] for c in p["cancellations"])
        paid = p["totalAmount"] if p["status"] in ("PAID", "PARTIAL_CANCELLED", "CANCELLED") else 0
        body: dict[str, Any] = {
            "status": p["status"],
            "id": p["id"],
            "transactionId": p["transactionId"],
            "merchantId": MERCHANT_ID,
            "storeId": p["storeId"],
            "version": "V2",
            "requestedAt": t(p["requestedAt"]),
            "updatedAt": t(p["updatedAt"]),
            "statusChangedAt": t(p["statusChangedAt"]),
            "orderName": p["orderName"],
            "amount": {
                "total": p["totalAmount"],
                "taxFree": p["taxFreeAmount"],
                "vat": p["vat"],
                "supply": p["totalAmount"] - p["taxFreeAmount"] - p["vat"],
                "discount": 0,
                "paid": paid,
                "cancelled": cancelled,
                "cancelledTaxFree": cancelled_tax_free,
            },
            "currency": p["currency"],
            "customer": p["customer"],
            "origin": {"platformType": "PC", "ipAddress": p["ipAddress"]},
        }
        if p.get("customData") is not None:
            body["customData"] = p["customData"]
        if p["status"] not in ("READY", "FAILED"):
            body["channel"] = CHANNEL
            body["method"] = p["method"]
            body["pgTxId"] = p["pgTxId"]
        if p["status"] in ("PAID", "PARTIAL_CANCELLED", "CANCELLED"):
            if p.get("paidAt") is not None:  # a virtual account closed before any deposit was never paid
                body["paidAt"] = t(p["paidAt"])
                body["receiptUrl"] = p["receiptUrl"]
            body["cancellations"] = [self._cancellation(c) for c in p["cancellations"]]
        if p["status"] == "PAID":
            body["disputes"] = []
        if p["status"] in ("PARTIAL_CANCELLED", "CANCELLED"):
            body["cancelledAt"] = t(p["cancelledAt"])
        if p["status"] == "FAILED":
            body["failedAt"] = t(p["failedAt"])
            body["failure"] = p["failure"]
        return body

    def _cancellation(self, c: dict) -> dict:
        t = self.state.rfc3339
        return {**c, "requestedAt": t(c["requestedAt"]), "cancelledAt": t(c["cancelledAt"])}

    def _set_status(self, p: dict, status: str) -> None:
        now = self.state.now()
        p.update(status=status, updatedAt=now, statusChangedAt=now)

    def _webhook(self, request: Request, p: dict, cancellation_id: str | None = None) -> None:
        event_type = WEBHOOK_TYPES[p["status"]]
        data = {"storeId": p["storeId"], "paymentId": p["id"], "transactionId": p["transactionId"]}
        if cancellation_id:
            data["cancellationId"] = cancellation_id
        event = {"type": event_type, "timestamp": self.state.rfc3339(self.state.now()), "data": data}
        msg_id = "msg_" + uuid.uuid4().hex
        for url in p.get("noticeUrls") or [self.config.portone_webhook_url]:
            self.sim.outbox.enqueue("portone", url, event, msg_id, base_url(request))

    # --- API --------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        try:
            params = await read_params(request)
        except BadBody as exc:
            return error_response(PortOneError(400, "INVALID_REQUEST", str(exc)))
        if params.get("apiSecret") != self.config.portone_secret:
            return error_response(PortOneError(401, "UNAUTHORIZED", "API secret이 올바르지 않습니다."))
        token = self.state.token("pgsim-at-", 32)
        self.state.portone_tokens[token] = self.state.now() + 1800
        self.state.save()
        return JSONResponse({"accessToken": token, "refreshToken": self.state.token("pgsim-rt-", 32)})

    async def get_payment(self, request: Request) -> Response:
        return await self._call(
            request, lambda r, params: (200, self.payment_object(self._payment(r.path_params["payment_id"]))), False
        )

    async def pre_register(self, request: Request) -> Response:
        return await self._call(request, self._pre_register, True)

    def _pre_register(self, request: Request, params: dict) -> tuple[int, Any]:
        payment_id = request.path_params["payment_id"]
        existing = self.state.portone_payments.get(payment_id)
        if existing and existing["status"] in ("PAID", "PARTIAL_CANCELLED", "CANCELLED", "VIRTUAL_ACCOUNT_ISSUED"):
            raise PortOneError(409, "ALREADY_PAID", "이미 결제가 완료된 결제 건입니다.")
        try:
            total = as_int(params.get("totalAmount"))
            tax_free = as_int(params.get("taxFreeAmount"))
        except ValueError:
            raise PortOneError(400, "INVALID_REQUEST", "totalAmount and taxFreeAmount must be integers")
        if (total is not None and total <= 0) or (
            tax_free is not None and (tax_free < 0 or tax_free > (total or tax_free))
        ):
            raise PortOneError(400, "INVALID_REQUEST", "totalAmount must be positive and taxFreeAmount within it")
        self.state.portone_prepared[payment_id] = {
            "totalAmount": total,
            "taxFreeAmount": tax_free,
            "currency": params.get("currency"),
        }
        return 200, {}

    async def cancel(self, request: Request) -> Response:
        return await self._call(request, self._cancel, True)

    def _cancel(self, request: Request, params: dict) -> tuple[int, Any]:
        if not params.get("reason"):
            raise PortOneError(400, "INVALID_REQUEST", "reason은 필수입니다.")
        try:
            amount = as_int(params.get("amount"))
            tax_free = as_int(params.get("taxFreeAmount")) or 0
            vat = as_int(params.get("vatAmount"))
            current = as_int(params.get("currentCancellableAmount"))
        except ValueError:
            raise PortOneError(400, "INVALID_REQUEST", "amounts must be integers")
        p = self._payment(request.path_params["payment_id"])
        if p["status"] == "CANCELLED":
            raise PortOneError(409, "PAYMENT_ALREADY_CANCELLED", "이미 취소된 결제 건입니다.")
        if p["status"] not in ("PAID", "PARTIAL_CANCELLED"):
            raise PortOneError(409, "PAYMENT_NOT_PAID", "결제가 완료되지 않은 결제 건입니다.")
        if (p.get("method") or {}).get("type") == "PaymentMethodVirtualAccount":
            # A deposit is given back by bank transfer: the buyer's account is required (refundAccount).
            account = params.get("refundAccount")
            if not isinstance(account, dict) or not all(
                str(account.get(k) or "").strip() for k in ("bank", "number", "holderName")
            ):
                raise PortOneError(
                    400,
                    "INVALID_REQUEST",
                    "가상계좌 결제 취소에는 환불 계좌(refundAccount: bank, number, holderName)가 필요합니다.",
                )
            if account["bank"] not in BANKS:
                raise PortOneError(
                    400, "INVALID_REQUEST", f"refundAccount.bank: 알 수 없는 은행({account['bank']})입니다."
                )
        cancellable = p["totalAmount"] - sum(c["totalAmount"] for c in p["cancellations"])
        cancellable_tax_free = p["taxFreeAmount"] - sum(c["taxFreeAmount"] for c in p["cancellations"])
        if current is not None and current != cancellable:
            raise PortOneError(
                409,
                "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN",
                f"취소 가능 잔액({cancellable})이 요청의 currentCancellableAmount({current})와 다릅니다.",
            )
        amount = cancellable if amount is None else amount
        if amount <= 0:
            raise PortOneError(400, "INVALID_REQUEST", "amount must be positive")
        if amount > cancellable:
            raise PortOneError(
                409,
                "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT",
                f"취소 금액({amount})이 취소 가능 금액({cancellable})을 초과합니다.",
            )
        if tax_free > cancellable_tax_free or tax_free > amount:
            raise PortOneError(
                409,
                "CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT",
                "취소 면세 금액이 취소 가능 면세 금액을 초과합니다.",
            )
        if vat is None:
            vat = (amount - tax_free + 5) // 11
        now = self.state.now()
        cancellation = {
            "status": "SUCCEEDED",
            "id": "cancel-" + uuid.uuid4().hex[:20],
            "pgCancellationId": "pgsim" + self.state.digits(15),
            "totalAmount": amount,
            "taxFreeAmount": tax_free,
            "vatAmount": vat,
            "reason": params["reason"],
            "requestedAt": now,
            "cancelledAt": now,
            "receiptUrl": p["receiptUrl"],
            "trigger": "API",
        }
        p["cancellations"].append(cancellation)
        p["cancelledAt"] = now
        self._set_status(p, "CANCELLED" if amount == cancellable else "PARTIAL_CANCELLED")
        if str(params.get("skipWebhook")).lower() != "true":
            self._webhook(request, p, cancellation["id"])
        return 200, {"cancellation": self._cancellation(cancellation)}

    async def close_virtual_account(self, request: Request) -> Response:
        return await self._call(request, self._close_virtual_account, True)

    def _close_virtual_account(self, request: Request, params: dict) -> tuple[int, Any]:
        """Close (말소) an issued virtual account so nobody can deposit into it any more."""
        p = self._payment(request.path_params["payment_id"])
        if p["status"] != "VIRTUAL_ACCOUNT_ISSUED":
            raise PortOneError(409, "PAYMENT_NOT_WAITING_FOR_DEPOSIT", "결제 건이 입금 대기 상태가 아닙니다.")
        now = self.state.now()
        p["cancelledAt"] = now
        self._set_status(p, "CANCELLED")
        return 200, {"closedAt": self.state.rfc3339(now)}

    # --- browser side -------------------------------------------------------------------
    @staticmethod
    def _notice_urls(params: dict) -> list[str]:
        """`noticeUrls`: a list in JSON, comma-separated in the hosted page's query."""
        raw = params.get("noticeUrls")
        urls = raw if isinstance(raw, list) else str(raw or "").split(",")
        return [str(u).strip() for u in urls if str(u).strip()]

    async def script(self, request: Request) -> Response:
        return self.script_response("portone.js")

    async def checkout(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update(await read_form(request))
        total = positive_int(params.get("totalAmount"))
        payment_id = params.get("paymentId")
        if not payment_id or not params.get("orderName") or total is None:
            return hosted.message_page(
                request,
                "PortOne checkout",
                "paymentId, orderName and a positive integer totalAmount are required.",
                400,
            )
        if params.get("storeId") not in (None, "", self.config.portone_store_id):
            return hosted.message_page(request, "PortOne checkout", f"Unknown storeId {params['storeId']}.", 403)
        refused = targets.refused([params.get("redirectUrl"), *self._notice_urls(params)], self.config, request.scope)
        if refused:
            return hosted.refused_target_page(request, "PortOne checkout", refused)
        existing = self.state.portone_payments.get(payment_id)
        if existing and existing["status"] not in ("READY", "FAILED"):
            return hosted.message_page(
                request, "PortOne checkout", f"Payment {payment_id} is already {existing['status']}.", 409
            )
        if request.method == "POST":
            choice = {"outcome": params.get("action"), "amount": params.get("tamper_amount")}
        else:
            choice = self.sim.take_outcome("portone") or magic_outcome(params.get("orderName"))
        if choice is None:
            hidden = {k: v for k, v in params.items() if k not in ("action", "tamper_amount")}
            return hosted.checkout_page(
                request,
                "PortOne checkout",
                [
                    ("Order", params["orderName"]),
                    ("Amount", f"{total} {params.get('currency') or 'KRW'}"),
                    ("paymentId", payment_id),
                    ("Method", params.get("payMethod") or "CARD"),
                ],
                action_url=f"{base_url(request)}/portone/checkout",
                hidden=hidden,
                approve_label="Issue virtual account"
                if params.get("payMethod") == "VIRTUAL_ACCOUNT"
                else "Approve payment",
                amount=total,
            )
        return self._finish(request, params, total, choice)

    def _new_payment(
        self,
        request: Request,
        payment_id: str,
        *,
        store_id: str,
        order_name: str,
        total: int,
        tax_free: int,
        currency: str,
        customer: dict,
        now: float,
    ) -> dict:
        """A payment record as PortOne keeps it, READY: what a checkout and a billing-key charge share (each
        adds its noticeUrls, method and the like)."""
        return {
            "id": payment_id,
            "transactionId": str(uuid.uuid4()),
            "status": "READY",
            "storeId": store_id,
            "orderName": order_name,
            "totalAmount": total,
            "taxFreeAmount": tax_free,
            "vat": (total - tax_free + 5) // 11,
            "currency": currency,
            "customer": {k: v for k, v in customer.items() if v},
            "ipAddress": request.client.host if request.client else "127.0.0.1",
            "requestedAt": now,
            "updatedAt": now,
            "statusChangedAt": now,
            "paidAt": None,
            "failedAt": None,
            "cancelledAt": None,
            "cancellations": [],
            "failure": None,
            "pgTxId": "pgsim" + self.state.digits(15),
            "receiptUrl": f"{base_url(request)}/portone/receipts/{payment_id}",
        }

    def _finish(self, request: Request, params: dict, total: int, choice: dict) -> Response:
        outcome = choice.get("outcome")
        if outcome not in ("approve", "cancel", "fail", "amount"):
            return hosted.message_page(request, "PortOne checkout", "Unknown action.", 400)
        if outcome == "amount":
            total = positive_int(choice.get("amount"))
            if total is None:
                return hosted.message_page(request, "PortOne checkout", "Enter a positive whole amount.", 400)
        now = self.state.now()
        payment_id = params["paymentId"]
        tax_free = min(as_int(params.get("taxFreeAmount")) or 0, total)
        p = self._new_payment(
            request,
            payment_id,
            store_id=self.config.portone_store_id,
            order_name=params["orderName"],
            total=total,
            tax_free=tax_free,
            currency=params.get("currency") or "KRW",
            customer={
                "fullName": params.get("customer.fullName"),
                "email": params.get("customer.email"),
                "phoneNumber": params.get("customer.phoneNumber"),
            },
            now=now,
        )
        p.update(
            {
                "noticeUrls": self._notice_urls(params),
                "method": {
                    "type": "PaymentMethodCard",
                    "approvalNumber": self.state.digits(8),
                    "installmentMonth": 0,
                    "card": {"name": "신한카드", "number": "42200000****1234"},
                },
                "customData": params.get("customData"),
            }
        )
        prepared = self.state.portone_prepared.get(payment_id)
        error = None
        if prepared and prepared.get("totalAmount") is not None and prepared["totalAmount"] != total:
            error = (
                "PG_PROVIDER",
                f"사전 등록된 금액({prepared['totalAmount']})과 결제 요청 금액({total})이 다릅니다.",
            )
        elif outcome == "cancel":
            error = ("FAILURE_TYPE_PG", "사용자가 결제를 취소하였습니다.")
        elif outcome == "fail" or is_declined(params.get("orderName")):
            error = ("FAILURE_TYPE_PG", "카드 승인이 거절되었습니다 (한도초과)")
        self.state.portone_payments[payment_id] = p
        if error:
            p["failedAt"] = now
            p["failure"] = {"reason": error[1], "pgCode": "F0004", "pgMessage": error[1]}
            self._set_status(p, "FAILED")
        elif params.get("payMethod") == "VIRTUAL_ACCOUNT":
            p["method"] = {
                "type": "PaymentMethodVirtualAccount",
                "bank": "KOOKMIN",
                "accountNumber": "pgsim" + self.state.digits(10),
                "remitteeName": "(주)비드카트",
                "accountType": "NORMAL",
                "expiredAt": self.state.rfc3339(now + self.config.vbank_due_seconds),
                "issuedAt": self.state.rfc3339(now),
            }
            self._set_status(p, "VIRTUAL_ACCOUNT_ISSUED")
        else:
            p["paidAt"] = now
            self._set_status(p, "PAID")
        self._webhook(request, p)
        self.state.save()
        result = {"paymentId": payment_id, "txId": p["transactionId"], "transactionType": "PAYMENT"}
        if error:
            result.update(code=error[0], message=error[1])
        if params.get("redirectUrl"):
            return RedirectResponse(with_query(params["redirectUrl"], **result), status_code=303)
        vbank = None
        if p["status"] == "VIRTUAL_ACCOUNT_ISSUED":
            vbank = {
                "name": p["method"]["bank"],
                "number": p["method"]["accountNumber"],
                "url": f"{base_url(request)}/portone/vbank/{quote(payment_id, safe='')}",
            }
        text = f"Payment failed: {error[1]}" if error else f"Payment {p['status'].lower()}."
        return hosted.message_page(
            request, "PortOne checkout", text, result={"pgsim": "portone", "response": result}, vbank=vbank
        )

    async def vbank_page(self, request: Request) -> Response:
        p = self.state.portone_payments.get(request.path_params["payment_id"])
        if p is None or p["method"]["type"] != "PaymentMethodVirtualAccount":
            return hosted.message_page(request, "Virtual account", "Unknown virtual account.", 404)
        if request.method == "POST":
            if not self.deposit(request, p):
                return hosted.message_page(request, "Virtual account", f"No deposit possible ({p['status']}).", 409)
            return hosted.message_page(request, "Virtual account", "Deposit received. The shop has been notified.")
        if p["status"] != "VIRTUAL_ACCOUNT_ISSUED":
            return hosted.message_page(request, "Virtual account", f"This payment is {p['status']}.")
        return hosted.vbank_page(
            request,
            [
                ("Bank", p["method"]["bank"]),
                ("Account", p["method"]["accountNumber"]),
                ("Amount", p["totalAmount"]),
                ("paymentId", p["id"]),
            ],
        )

    def deposit(self, request: Request, p: dict) -> bool:
        if p["status"] != "VIRTUAL_ACCOUNT_ISSUED":
            return False
        p["paidAt"] = self.state.now()
        self._set_status(p, "PAID")
        self._webhook(request, p)
        self.state.save()
        return True
