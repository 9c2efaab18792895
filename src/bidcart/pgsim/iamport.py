"""PortOne V1 ("Iamport") REST API, hosted checkout for `IMP.request_pay`, vbank, webhooks.

Every response is the `{code, message, response}` envelope. Business failures are HTTP 200
with `code: 1`; unknown resources 404 / bad tokens 401 with `code: -1`, as the real API.
"""

from __future__ import annotations

import json
from typing import Any

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
from .iamport_billing import IamportBilling

NOT_FOUND = "존재하지 않는 결제정보입니다."
# 금융결제원 bank codes PortOne V1 takes as `refund_bank` (developers.portone.io/docs/ko/tip/pg-1).
BANK_CODES = {
    "002",
    "003",
    "004",
    "007",
    "011",
    "012",
    "020",
    "023",
    "027",
    "031",
    "032",
    "034",
    "035",
    "037",
    "039",
    "045",
    "048",
    "050",
    "064",
    "071",
    "081",
    "088",
    "089",
    "090",
    "092",
}
# PGs whose virtual accounts are closed with the merchant's PG API key (`pg_api_key`): Inicis.
PG_API_KEY_PGS = {"html5_inicis", "inicis"}
SORTS = {
    "-started": ("started_at", True),
    "started": ("started_at", False),
    "-paid": ("paid_at", True),
    "paid": ("paid_at", False),
    "-updated": ("updated_at", True),
    "updated": ("updated_at", False),
}
CHECKOUT_FIELDS = (
    "imp_code",
    "pg",
    "pay_method",
    "merchant_uid",
    "name",
    "amount",
    "currency",
    "buyer_name",
    "buyer_email",
    "buyer_tel",
    "buyer_addr",
    "buyer_postcode",
    "custom_data",
    "notice_url",
    "m_redirect_url",
    "popup",
    "customer_uid",
)


def envelope(response: Any = None, code: int = 0, message: str | None = None, status: int = 200) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "response": response}, status_code=status)


# The card's and the virtual account's fields of a payment object: null until the payment is made.
METHOD_FIELDS = (
    "apply_num",
    "bank_code",
    "bank_name",
    "card_code",
    "card_name",
    "card_issuer_code",
    "card_issuer_name",
    "card_publisher_code",
    "card_publisher_name",
    "card_quota",
    "card_number",
    "card_type",
    "vbank_code",
    "vbank_name",
    "vbank_num",
    "vbank_holder",
    "vbank_date",
    "vbank_issued_at",
)


class Iamport(IamportBilling, Provider):
    def routes(self) -> list[Route]:
        return [
            Route("/iamport/users/getToken", self.get_token, methods=["POST"]),
            Route("/iamport/payments/prepare", self.prepare, methods=["POST", "PUT"]),
            Route("/iamport/payments/prepare/{merchant_uid}", self.get_prepare, methods=["GET"]),
            Route("/iamport/payments/cancel", self.cancel, methods=["POST"]),
            Route("/iamport/payments/find/{merchant_uid}", self.find, methods=["GET"]),
            Route("/iamport/payments/find/{merchant_uid}/{payment_status}", self.find, methods=["GET"]),
            Route("/iamport/payments/findAll/{merchant_uid}", self.find_all, methods=["GET"]),
            Route("/iamport/payments/findAll/{merchant_uid}/{payment_status}", self.find_all, methods=["GET"]),
            Route("/iamport/payments/{imp_uid}", self.get_payment, methods=["GET"]),
            Route("/iamport/payments", self.get_payments, methods=["GET"]),
            Route("/iamport/vbanks/{imp_uid}", self.revoke_vbank, methods=["DELETE"]),
            Route("/iamport/checkout", self.checkout, methods=["GET", "POST"]),
            Route("/iamport/vbank/{imp_uid}", self.vbank_page, methods=["GET", "POST"]),
            Route("/iamport/v1/iamport.js", self.script, methods=["GET"]),
            *self.billing_routes(),
        ]

    # --- auth --------------------------------------------------------------------------
    async def get_token(self, request: Request) -> Response:
        try:
            params = await read_params(request)
        except BadBody as exc:
            return envelope(None, -1, str(exc), 400)
        if params.get("imp_key") != self.config.imp_key or params.get("imp_secret") != self.config.imp_secret:
            return envelope(None, -1, "imp_key 또는 imp_secret이 올바르지 않습니다.", 401)
        now = self.state.now()
        # The same token comes back until it expires; in its last minute it is extended by 5.
        tokens = self.state.iamport_tokens
        for token, record in tokens.items():
            if record["expired_at"] > now:
                if record["expired_at"] - now < 60:
                    record["expired_at"] += 300
                    tokens.touch(token)
                break
        else:
            token = self.state.hex(40)
            record = {"expired_at": int(now) + self.config.iamport_token_ttl}
            for stale in [k for k, v in tokens.items() if v["expired_at"] <= now]:
                del tokens[stale]
            tokens[token] = record
        self.state.save()
        return envelope({"access_token": token, "now": int(now), "expired_at": int(record["expired_at"])})

    def _authorized(self, request: Request) -> bool:
        # Real clients send `Authorization: Bearer <t>`, a bare `Authorization: <t>`
        # (iamport-rest-client does, older versions `X-ImpTokenHeader`) or `?_token=`.
        raw = (
            request.headers.get("authorization")
            or request.headers.get("x-imptokenheader")
            or request.query_params.get("_token")
            or ""
        )
        token = raw.removeprefix("Bearer ").strip()
        record = self.state.iamport_tokens.get(token)
        ok = bool(record) and record["expired_at"] > self.state.now()
        if ok:
            self.run_due_schedules(request)  # scheduled payments come due on pgsim's clock (iamport_billing.py)
        return ok

    def _unauthorized(self) -> JSONResponse:
        return envelope(None, -1, "Unauthorized", 401)

    # --- payment object -----------------------------------------------------------------
    def payment_object(self, p: dict) -> dict:
        keys = (
            "imp_uid",
            "merchant_uid",
            "pay_method",
            "channel",
            "pg_provider",
            "emb_pg_provider",
            "pg_tid",
            "pg_id",
            "escrow",
            *METHOD_FIELDS,
            "name",
            "amount",
            "cancel_amount",
            "currency",
            "buyer_name",
            "buyer_email",
            "buyer_tel",
            "buyer_addr",
            "buyer_postcode",
            "custom_data",
            "user_agent",
            "status",
            "started_at",
            "paid_at",
            "failed_at",
            "cancelled_at",
            "fail_reason",
            "cancel_reason",
            "receipt_url",
            "cancel_history",
            "cash_receipt_issued",
            "customer_uid",
            "customer_uid_usage",
        )
        body = {k: p.get(k) for k in keys}
        body["sandbox"] = False  # visible without include_sandbox, like a live channel
        body["cancel_receipt_urls"] = [c["receipt_url"] for c in p["cancel_history"]]
        body["promotion"] = None
        body["deposit_history"] = []
        return body

    def _new_payment(self, request: Request, params: dict, amount: int) -> dict:
        now = int(self.state.now())
        imp_uid = "imp_" + self.state.digits(12)
        pg = str(params.get("pg") or "html5_inicis")
        custom = params.get("custom_data")
        payment = {
            "imp_uid": imp_uid,
            "merchant_uid": params["merchant_uid"],
            "pay_method": params.get("pay_method") or "card",
            "channel": "pc",
            "pg_provider": pg.split(".")[0],
            "emb_pg_provider": None,
            "pg_tid": "pgsim" + self.state.digits(15),
            "pg_id": "INIpayTest",
            "escrow": False,
            "name": params.get("name"),
            "amount": amount,
            "cancel_amount": 0,
            "currency": params.get("currency") or "KRW",
            "buyer_name": params.get("buyer_name"),
            "buyer_email": params.get("buyer_email"),
            "buyer_tel": params.get("buyer_tel"),
            "buyer_addr": params.get("buyer_addr"),
            "buyer_postcode": params.get("buyer_postcode"),
            "custom_data": custom if custom is None or isinstance(custom, str) else json.dumps(custom),
            "user_agent": request.headers.get("user-agent"),
            "status": "ready",
            "started_at": now,
            "paid_at": 0,
            "failed_at": 0,
            "cancelled_at": 0,
            "updated_at": now,
            "fail_reason": None,
            "cancel_reason": None,
            "receipt_url": f"{base_url(request)}/iamport/receipts/{imp_uid}",
            "cancel_history": [],
            "cash_receipt_issued": False,
            "customer_uid": None,
            "customer_uid_usage": None,
            "notice_url": params.get("notice_url") or None,
        }
        for k in METHOD_FIELDS:  # filled in when the payment is made
            payment[k] = None
        if payment["pay_method"] == "card":
            payment.update(
                apply_num=self.state.digits(8),
                card_code="361",
                card_name="BC카드",
                card_quota=0,
                card_number="910020*********5",
                card_type=0,
            )
        self.state.iamport_payments[imp_uid] = payment
        return payment

    def _mark_paid(self, payment: dict) -> None:
        self.state.iamport_payments.touch(payment["imp_uid"])  # the control API finds vbanks by a scan
        now = int(self.state.now())
        payment.update(status="paid", paid_at=now, updated_at=now)

    def _webhook(self, request: Request, payment: dict, status: str, cancellation_id: str | None = None) -> None:
        event: dict[str, Any] = {
            "imp_uid": payment["imp_uid"],
            "merchant_uid": payment["merchant_uid"],
            "status": status,
        }
        if cancellation_id:
            event["cancellation_id"] = cancellation_id
        url = payment.get("notice_url") or self.config.iamport_webhook_url
        self.sim.outbox.enqueue(
            "iamport", url, event, f"{payment['imp_uid']}:{status}:{cancellation_id or ''}", base_url(request)
        )

    # --- lookups ------------------------------------------------------------------------
    async def get_payment(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        payment = self.state.iamport_payments.get(request.path_params["imp_uid"])
        if payment is None:
            return envelope(None, -1, NOT_FOUND, 404)
        return envelope(self.payment_object(payment))

    async def get_payments(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        ids = request.query_params.getlist("imp_uid[]")
        found = [self.payment_object(self.state.iamport_payments[i]) for i in ids if i in self.state.iamport_payments]
        merchant = request.query_params.getlist("merchant_uid[]")
        found += [self.payment_object(p) for p in self.state.iamport_payments.values() if p["merchant_uid"] in merchant]
        if not found:
            return envelope(None, -1, NOT_FOUND, 404)
        return envelope(found)

    def _matching(self, request: Request) -> list[dict] | None:
        merchant_uid = request.path_params["merchant_uid"]
        status = request.path_params.get("payment_status")
        if status not in (None, "all", "ready", "paid", "failed", "cancelled"):
            return None
        sort_key, reverse = SORTS.get(request.query_params.get("sorting", "-started"), SORTS["-started"])
        found = [
            p
            for p in self.state.iamport_payments.values()
            if p["merchant_uid"] == merchant_uid and status in (None, "all", p["status"])
        ]
        return sorted(found, key=lambda p: (p[sort_key], p["imp_uid"]), reverse=reverse)

    def _find(self, request: Request) -> list[dict] | Response:
        """The payments find and findAll answer with, or the error response they share."""
        if not self._authorized(request):
            return self._unauthorized()
        found = self._matching(request)
        if found is None:
            return envelope(None, -1, "payment_status는 ready, paid, failed, cancelled 중 하나여야 합니다.", 400)
        if not found:
            return envelope(None, -1, NOT_FOUND, 404)
        return found

    async def find(self, request: Request) -> Response:
        found = self._find(request)
        if isinstance(found, Response):
            return found
        return envelope(self.payment_object(found[0]))

    async def find_all(self, request: Request) -> Response:
        found = self._find(request)
        if isinstance(found, Response):
            return found
        return envelope(
            {"total": len(found), "previous": 0, "next": 0, "list": [self.payment_object(p) for p in found]}
        )

    # --- prepare ------------------------------------------------------------------------
    async def prepare(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        try:
            params = await read_params(request)
            amount = as_int(params.get("amount"))
        except (BadBody, ValueError):
            return envelope(None, 1, "amount는 정수여야 합니다.", 400)
        merchant_uid = params.get("merchant_uid")
        if not merchant_uid or amount is None or len(str(merchant_uid)) > 40 or amount <= 0:
            return envelope(None, 1, "merchant_uid(40자 이하)와 양의 amount가 필요합니다.", 400)
        existing = self.state.iamport_prepared.get(merchant_uid)
        if request.method == "POST" and existing:
            return envelope(None, 1, "결제정보 사전등록에 실패하였습니다(이미 등록된 merchant_uid입니다).")
        if request.method == "PUT" and not existing:
            return envelope(None, -1, "사전등록된 결제정보가 존재하지 않습니다.", 404)
        record = {"merchant_uid": merchant_uid, "amount": amount, "currency": params.get("currency") or None}
        self.state.iamport_prepared[merchant_uid] = record
        self.state.save()
        return envelope(record)

    async def get_prepare(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        record = self.state.iamport_prepared.get(request.path_params["merchant_uid"])
        if record is None:
            return envelope(None, -1, "사전등록된 결제정보가 존재하지 않습니다.", 404)
        return envelope(record)

    # --- cancel -------------------------------------------------------------------------
    async def cancel(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        try:
            params = await read_params(request)
            amount = as_int(params.get("amount")) or 0
            tax_free = as_int(params.get("tax_free")) or 0
            checksum = as_int(params.get("checksum"))
        except (BadBody, ValueError):
            return envelope(None, 1, "amount, tax_free, checksum은 숫자여야 합니다.", 400)
        payment = None
        if params.get("imp_uid"):  # imp_uid wins when both are given
            payment = self.state.iamport_payments.get(params["imp_uid"])
        elif params.get("merchant_uid"):
            paid = [
                p
                for p in self.state.iamport_payments.values()
                if p["merchant_uid"] == params["merchant_uid"] and p["status"] in ("paid", "cancelled")
            ]
            payment = max(paid, key=lambda p: p["paid_at"], default=None)
        if payment is None:
            return envelope(None, 1, "취소할 결제건이 존재하지 않습니다.")
        self.state.iamport_payments.touch(payment["imp_uid"])  # found by merchant_uid: a scan
        if payment["status"] == "cancelled":
            return envelope(None, 1, "이미 전액취소된 주문입니다.")
        if payment["status"] != "paid":
            return envelope(None, 1, "결제완료 상태의 결제건만 취소할 수 있습니다.")
        if payment["pay_method"] == "vbank":
            # A deposit is given back by bank transfer: PortOne needs the buyer's account (가상계좌취소 시 필수).
            missing = [
                k for k in ("refund_holder", "refund_bank", "refund_account") if not str(params.get(k) or "").strip()
            ]
            if missing:
                return envelope(None, 1, f"가상계좌 결제 환불 시 환불계좌 정보({', '.join(missing)})는 필수입니다.")
            if str(params["refund_bank"]).strip() not in BANK_CODES:
                return envelope(None, 1, f"유효하지 않은 환불계좌 은행코드({params['refund_bank']})입니다.")
            if not str(params["refund_account"]).replace("-", "").strip().isdigit():
                return envelope(None, 1, "환불계좌 계좌번호는 숫자여야 합니다.")
        cancellable = payment["amount"] - payment["cancel_amount"]
        if checksum is not None and checksum != cancellable:
            return envelope(None, 1, f"checksum({checksum})이 취소가능금액({cancellable})과 일치하지 않습니다.")
        amount = amount or cancellable  # missing or 0 = full cancel
        if amount < 0 or amount > cancellable or tax_free > amount:
            return envelope(None, 1, f"취소요청금액({amount})이 취소가능금액({cancellable})을 초과합니다.")
        now = int(self.state.now())
        cancellation_id = self.state.token("", 22).lower()
        payment["cancel_history"].append(
            {
                "pg_tid": payment["pg_tid"],
                "amount": amount,
                "cancelled_at": now,
                "reason": params.get("reason"),
                "cancellation_id": cancellation_id,
                "receipt_url": f"{payment['receipt_url']}?cancel={cancellation_id}",
            }
        )
        payment["cancel_amount"] += amount
        payment.update(cancel_reason=params.get("reason"), cancelled_at=now, updated_at=now)
        if payment["cancel_amount"] == payment["amount"]:
            payment["status"] = "cancelled"  # a partial refund stays `paid`
        if str(params.get("enable_webhook")).lower() == "true":
            self._webhook(request, payment, "cancelled", cancellation_id)
        self.state.save()
        return envelope(self.payment_object(payment))

    async def revoke_vbank(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        payment = self.state.iamport_payments.get(request.path_params["imp_uid"])
        if payment is None:
            return envelope(None, -1, NOT_FOUND, 404)
        if payment["pay_method"] != "vbank" or payment["status"] != "ready":  # 400 per PortOne's spec
            return envelope(None, 1, "입금대기 상태의 가상계좌만 발급취소할 수 있습니다.", 400)
        if (
            payment["pg_provider"] in PG_API_KEY_PGS
            and request.query_params.get("pg_api_key") != self.config.iamport_pg_api_key
        ):
            # Inicis checks the merchant's API key itself; PortOne passes its refusal on (a PG failure).
            return envelope(None, 1, "[이니시스] hashData 불일치: 가상계좌 말소에는 올바른 pg_api_key가 필요합니다.")
        now = int(self.state.now())
        payment.update(status="cancelled", cancelled_at=now, updated_at=now, cancel_reason="가상계좌 발급취소")
        self.state.save()
        return envelope(self.payment_object(payment))

    # --- browser side: hosted checkout, vbank deposit, IMP script ------------------------
    async def script(self, request: Request) -> Response:
        return self.script_response("iamport.js")

    async def checkout(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update(await read_form(request))
        amount = positive_int(params.get("amount"))
        if params.get("customer_uid") and str(params.get("amount")) == "0":
            return await self.billing_window(request, params)  # issue a billing key only (iamport_billing.py)
        if not params.get("merchant_uid") or amount is None:
            return hosted.message_page(
                request, "PortOne checkout", "merchant_uid and a positive integer amount are required.", 400
            )
        refused = targets.refused([params.get("m_redirect_url"), params.get("notice_url")], self.config, request.scope)
        if refused:
            return hosted.refused_target_page(request, "PortOne checkout", refused)
        if request.method == "POST":
            choice = {"outcome": params.get("action"), "amount": params.get("tamper_amount")}
        else:
            choice = self.sim.take_outcome("iamport") or magic_outcome(params.get("name"))
        if choice is None:
            hidden = {k: params.get(k) for k in CHECKOUT_FIELDS}
            return hosted.checkout_page(
                request,
                "PortOne (Iamport) checkout",
                [
                    ("Order", params.get("name")),
                    ("Amount", f"{amount} {params.get('currency') or 'KRW'}"),
                    ("merchant_uid", params["merchant_uid"]),
                    ("Method", params.get("pay_method") or "card"),
                    ("PG", params.get("pg") or "html5_inicis"),
                ],
                action_url=f"{base_url(request)}/iamport/checkout",
                hidden=hidden,
                approve_label="Issue virtual account" if params.get("pay_method") == "vbank" else "Approve payment",
                amount=amount,
            )
        return self._finish(request, params, amount, choice)

    def _finish(self, request: Request, params: dict, amount: int, choice: dict) -> Response:
        outcome = choice.get("outcome")
        if outcome not in ("approve", "cancel", "fail", "amount"):
            return hosted.message_page(request, "PortOne checkout", "Unknown action.", 400)
        charged = amount
        if outcome == "amount":
            charged = positive_int(choice.get("amount"))
            if charged is None:
                return hosted.message_page(request, "PortOne checkout", "Enter a positive whole amount.", 400)
        payment = self._new_payment(request, params, charged)
        now = int(self.state.now())
        prepared = self.state.iamport_prepared.get(payment["merchant_uid"])
        already_paid = any(
            p["merchant_uid"] == payment["merchant_uid"] and p["status"] == "paid"
            for p in self.state.iamport_payments.values()
        )
        error = None
        if prepared and prepared["amount"] != charged:
            error = (
                "F1002",
                f"[결제검증] 사전등록된 금액({prepared['amount']})과 결제요청 금액({charged})이 다릅니다.",
            )
        elif already_paid:
            error = ("F1001", "이미 결제가 완료된 merchant_uid입니다.")
        elif outcome == "cancel":
            error = ("F0005", "사용자가 결제를 취소하셨습니다")
        elif outcome == "fail" or is_declined(params.get("name")):
            error = ("F0004", "카드 승인이 거절되었습니다 (한도초과)")
        if error:
            payment.update(status="failed", failed_at=now, updated_at=now, fail_reason=error[1])
        elif payment["pay_method"] == "vbank":
            payment.update(
                vbank_code="004",
                vbank_name="KB국민은행",
                vbank_num="pgsim" + self.state.digits(10),
                vbank_holder="(주)비드카트",
                vbank_issued_at=now,
                vbank_date=now + self.config.vbank_due_seconds,
                apply_num=None,
                card_code=None,
                card_name=None,
                card_quota=None,
                card_number=None,
                card_type=None,
            )
            self._webhook(request, payment, "ready")  # vbank issued
        else:
            self._mark_paid(payment)
            self._webhook(request, payment, "paid")
        self.state.save()
        rsp = self._callback_response(payment, error)
        redirect = params.get("m_redirect_url")
        if redirect:
            return RedirectResponse(
                with_query(
                    redirect,
                    imp_uid=payment["imp_uid"],
                    merchant_uid=payment["merchant_uid"],
                    imp_success=str(rsp["success"]).lower(),
                    success=str(rsp["success"]).lower(),
                    error_code=rsp["error_code"] or "",
                    error_msg=rsp["error_msg"] or "",
                ),
                status_code=303,
            )
        return self._result_page(request, payment, rsp)

    def _callback_response(self, payment: dict, error: tuple[str, str] | None) -> dict:
        return {
            "success": error is None,
            "imp_success": error is None,
            "imp_uid": payment["imp_uid"],
            "merchant_uid": payment["merchant_uid"],
            "pay_method": payment["pay_method"],
            "pg_provider": payment["pg_provider"],
            "pg_tid": payment["pg_tid"],
            "paid_amount": payment["amount"],
            "currency": payment["currency"],
            "status": payment["status"],
            "name": payment["name"],
            "paid_at": payment["paid_at"],
            "receipt_url": payment["receipt_url"],
            "apply_num": payment["apply_num"],
            "buyer_name": payment["buyer_name"],
            "buyer_email": payment["buyer_email"],
            "custom_data": payment["custom_data"],
            "vbank_num": payment["vbank_num"],
            "vbank_name": payment["vbank_name"],
            "vbank_holder": payment["vbank_holder"],
            "vbank_date": payment["vbank_date"],
            "error_code": error[0] if error else None,
            "error_msg": error[1] if error else None,
        }

    def _result_page(self, request: Request, payment: dict, rsp: dict) -> Response:
        vbank = None
        if payment["status"] == "ready" and payment["pay_method"] == "vbank":
            vbank = {
                "name": payment["vbank_name"],
                "number": payment["vbank_num"],
                "url": f"{base_url(request)}/iamport/vbank/{payment['imp_uid']}",
            }
        text = "Payment succeeded." if rsp["success"] else f"Payment failed: {rsp['error_msg']}"
        return hosted.message_page(
            request, "PortOne checkout", text, result={"pgsim": "iamport", "rsp": rsp}, vbank=vbank
        )

    async def vbank_page(self, request: Request) -> Response:
        payment = self.state.iamport_payments.get(request.path_params["imp_uid"])
        if payment is None or payment["pay_method"] != "vbank":
            return hosted.message_page(request, "Virtual account", "Unknown virtual account.", 404)
        if request.method == "POST":
            if not self.deposit(request, payment):
                return hosted.message_page(
                    request, "Virtual account", f"No deposit possible ({payment['status']}).", 409
                )
            return hosted.message_page(request, "Virtual account", "Deposit received. The shop has been notified.")
        if payment["status"] != "ready":
            return hosted.message_page(request, "Virtual account", f"This account is {payment['status']}.")
        return hosted.vbank_page(
            request,
            [
                ("Bank", payment["vbank_name"]),
                ("Account", payment["vbank_num"]),
                ("Holder", payment["vbank_holder"]),
                ("Amount", payment["amount"]),
                ("merchant_uid", payment["merchant_uid"]),
            ],
        )

    def deposit(self, request: Request, payment: dict) -> bool:
        """vbank: the buyer transfers the money; the payment becomes paid and a webhook goes out."""
        if payment["pay_method"] != "vbank" or payment["status"] != "ready":
            return False
        self._mark_paid(payment)
        self._webhook(request, payment, "paid")
        self.state.save()
        return True
