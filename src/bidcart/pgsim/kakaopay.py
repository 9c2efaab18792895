"""KakaoPay single payment, both API generations.

- newer `open-api.kakaopay.com` style: `POST /online/v1/payment/{ready,approve,order,cancel}`,
  JSON bodies, `Authorization: SECRET_KEY <key>`, errors `{error_code, error_message, extras}`;
- legacy `kapi.kakao.com` style: `POST /v1/payment/{...}`, form bodies (query accepted too),
  `Authorization: KakaoAK <admin key>`, errors `{code, msg, extras}`.

Both serve under `<base>/kakaopay`. Error codes other than -701/-707/-780/-781 are not
documented publicly; the ones chosen here are listed in docs/pgsim.md.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import cards, hosted, targets
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
from .kakaopay_billing import KakaoPayBilling

PRE_APPROVAL = {"READY", "SEND_TMS", "OPEN_PAYMENT", "SELECT_METHOD", "ARS_WAITING", "AUTH_PASSWORD"}
CANCELLABLE = {"SUCCESS_PAYMENT", "PART_CANCEL_PAYMENT"}


class KakaoError(Exception):
    def __init__(self, code: int, msg: str, http_status: int = 400, extras: dict | None = None):
        self.code, self.msg, self.http_status, self.extras = code, msg, http_status, extras


def vat_of(taxable: int) -> int:
    """KakaoPay's default VAT: taxable / 11, rounded half up."""
    return (taxable * 10 + 55) // 110


def amount_obj(total: int, tax_free: int, vat: int, green_deposit: int = 0) -> dict:
    return {"total": total, "tax_free": tax_free, "vat": vat, "point": 0, "discount": 0, "green_deposit": green_deposit}


def minus(a: dict, b: dict) -> dict:
    return {k: a[k] - b.get(k, 0) for k in a}


class KakaoPay(KakaoPayBilling, Provider):
    def routes(self) -> list[Route]:
        return [
            *self.billing_routes(),
            Route("/kakaopay/online/v1/payment/{op}", self.online, methods=["POST"]),
            Route("/kakaopay/v1/payment/{op}", self.legacy, methods=["POST"]),
            Route("/kakaopay/checkout/{tid}", self.checkout, methods=["GET", "POST"]),
        ]

    # --- API ---------------------------------------------------------------------------
    async def online(self, request: Request) -> Response:
        return await self.dispatch(request, "online")

    async def legacy(self, request: Request) -> Response:
        return await self.dispatch(request, "legacy")

    async def dispatch(self, request: Request, api: str, handlers: dict | None = None) -> Response:
        handlers = handlers or {
            "ready": self.ready,
            "approve": self.approve,
            "order": self.order,
            "cancel": self.cancel,
            "subscription": self.subscription,
        }
        try:
            op = handlers.get(request.path_params["op"])
            if op is None:
                raise KakaoError(-404, "api not found", 404)
            scheme, key = (
                ("SECRET_KEY", self.config.kakaopay_secret_key)
                if api == "online"
                else (
                    "KakaoAK",
                    self.config.kakaopay_admin_key,
                )
            )
            if request.headers.get("authorization", "").strip() != f"{scheme} {key}":
                raise KakaoError(-401, f"invalid authorization: expected '{scheme} <key>'", 401)
            try:
                params = await read_params(request)
            except BadBody as exc:
                raise KakaoError(-2, f"invalid request: {exc}")
            if params.get("cid") not in (self.config.kakaopay_cid, self.config.kakaopay_subscription_cid):
                raise KakaoError(-2, f"invalid cid: {params.get('cid')!r}")
            body = op(request, api, params)
            self.state.save()
            return JSONResponse(body)
        except KakaoError as exc:
            if api == "online":
                body: dict[str, Any] = {"error_code": exc.code, "error_message": exc.msg}
            else:
                body = {"code": exc.code, "msg": exc.msg}
            if exc.extras:
                body["extras"] = exc.extras
            return JSONResponse(body, status_code=exc.http_status)

    def _required(self, params: dict, *names: str) -> None:
        for name in names:
            if params.get(name) in (None, ""):
                raise KakaoError(-2, f"invalid request: {name} is required")

    def _int(self, params: dict, name: str, default: int | None = None) -> int | None:
        try:
            value = as_int(params.get(name))
        except ValueError:
            raise KakaoError(-2, f"invalid request: {name} must be an integer")
        if value is None:
            return default
        if value < 0:
            raise KakaoError(-2, f"invalid request: {name} must not be negative")
        return value

    def _payment(self, params: dict) -> dict:
        self._required(params, "tid")
        payment = self.state.kakaopay.get(params["tid"])
        if payment is None:
            raise KakaoError(-721, "invalid tid")
        self._expire(payment)
        return payment

    def _expire(self, payment: dict) -> None:
        """An unapproved tid lapses after the configured time (15 minutes)."""
        if (
            payment["status"] in PRE_APPROVAL
            and self.state.now() > payment["created_at"] + self.config.kakaopay_tid_ttl
        ):
            payment["status"] = "QUIT_PAYMENT"
            payment["expired"] = True

    def ready(self, request: Request, api: str, params: dict) -> dict:
        self._required(
            params,
            "partner_order_id",
            "partner_user_id",
            "item_name",
            "quantity",
            "total_amount",
            "tax_free_amount",
            "approval_url",
            "cancel_url",
            "fail_url",
        )
        total = self._int(params, "total_amount")
        tax_free = self._int(params, "tax_free_amount")
        quantity = self._int(params, "quantity")
        # a subscription's first payment may be 0: it only issues the sid (registration)
        if total < (0 if params["cid"] == self.config.kakaopay_subscription_cid else 1) or quantity <= 0:
            raise KakaoError(-2, "invalid request: total_amount and quantity must be positive")
        if tax_free > total:
            raise KakaoError(-2, "invalid request: tax_free_amount exceeds total_amount")
        refused = targets.refused(
            [params[k] for k in ("approval_url", "cancel_url", "fail_url")], self.config, request.scope
        )
        if refused:
            raise KakaoError(-2, f"invalid request: redirect url not allowed: {', '.join(refused)}")
        vat = self._int(params, "vat_amount", vat_of(total - tax_free))
        tid = self.state.token("T", 19)
        now = self.state.now()
        self.state.kakaopay[tid] = {
            "tid": tid,
            "cid": params["cid"],
            "api": api,
            "status": "READY",
            "partner_order_id": str(params["partner_order_id"]),
            "partner_user_id": str(params["partner_user_id"]),
            "item_name": params["item_name"],
            "item_code": params.get("item_code"),
            "quantity": quantity,
            "amount": amount_obj(total, tax_free, vat, self._int(params, "green_deposit", 0)),
            "canceled_amount": amount_obj(0, 0, 0),
            "approval_url": params["approval_url"],
            "cancel_url": params["cancel_url"],
            "fail_url": params["fail_url"],
            "payment_method_type": None,
            "pg_token": None,
            "created_at": now,
            "approved_at": None,
            "canceled_at": None,
            "actions": [],
        }
        page = f"{base_url(request)}/kakaopay/checkout/{tid}"
        return {
            "tid": tid,
            "tms_result": False,
            "created_at": self.state.kakao_time(now),
            "next_redirect_app_url": page + "?view=app",
            "next_redirect_mobile_url": page + "?view=mobile",
            "next_redirect_pc_url": page + "?view=pc",
            "android_app_scheme": "kakaotalk://kakaopay/pg?url=" + page,
            "ios_app_scheme": "kakaotalk://kakaopay/pg?url=" + page,
        }

    def approve(self, request: Request, api: str, params: dict) -> dict:
        payment = self._payment(params)
        self._required(params, "partner_order_id", "partner_user_id", "pg_token")
        if payment["status"] in CANCELLABLE or payment["status"] == "CANCEL_PAYMENT":
            raise KakaoError(-702, "payment is already done!")
        if payment.get("expired"):
            raise KakaoError(-703, "payment request is expired!")
        if payment["status"] != "AUTH_PASSWORD":
            raise KakaoError(-701, "authentication doesn't complete!")
        if str(params["partner_user_id"]) != payment["partner_user_id"]:
            raise KakaoError(-707, "partner user id is different when you ordered!")
        if str(params["partner_order_id"]) != payment["partner_order_id"]:
            raise KakaoError(-708, "partner order id is different when you ordered!")
        if params["pg_token"] != payment["pg_token"]:
            raise KakaoError(-2, "invalid request: pg_token does not match")
        if (
            params.get("total_amount") not in (None, "")
            and self._int(params, "total_amount") != payment["amount"]["total"]
        ):
            raise KakaoError(-2, "invalid request: total_amount is different from the ready request")
        decline = payment["amount"]["total"] and cards.charge_outcome(payment.get("card_number") or "")
        if decline:
            from .kakaopay_billing import DECLINES

            payment["status"] = "FAIL_PAYMENT"
            raise KakaoError(
                -780,
                "approval failure!",
                extras=dict(zip(("method_result_code", "method_result_message"), DECLINES[decline])),
            )
        if is_declined(payment["item_name"]):
            payment["status"] = "FAIL_PAYMENT"
            raise KakaoError(
                -780,
                "approval failure!",
                extras={
                    "method_result_code": "USER_LOCKED",
                    "method_result_message": "카드 승인이 거절되었습니다 (pgsim:decline)",
                },
            )
        now = self.state.now()
        aid = self.state.token("A", 19)
        if payment.get("charged_amount"):  # the buyer "paid a different amount" on the page
            payment["amount"] = payment.pop("charged_amount")
        payment.update(status="SUCCESS_PAYMENT", approved_at=now, payment_method_type="CARD")
        sid = self.issue_sid(payment) if payment["cid"] == self.config.kakaopay_subscription_cid else None
        payment["actions"].append(
            {
                "aid": aid,
                "approved_at": now,
                "amount": payment["amount"]["total"],
                "point_amount": 0,
                "discount_amount": 0,
                "green_deposit": 0,
                "payment_method_type": "CARD",
                "payment_action_type": "PAYMENT",
                "payload": params.get("payload"),
            }
        )
        return {
            "aid": aid,
            "tid": payment["tid"],
            "cid": payment["cid"],
            "partner_order_id": payment["partner_order_id"],
            "partner_user_id": payment["partner_user_id"],
            "payment_method_type": "CARD",
            "amount": payment["amount"],
            "card_info": self._card_info(),
            "item_name": payment["item_name"],
            "item_code": payment["item_code"],
            "quantity": payment["quantity"],
            "created_at": self.state.kakao_time(payment["created_at"]),
            "approved_at": self.state.kakao_time(now),
            "payload": params.get("payload"),
            **({"sid": sid} if sid else {}),
        }

    @staticmethod
    def _card_info() -> dict:
        return {
            "kakaopay_purchase_corp": "신한카드",
            "kakaopay_purchase_corp_code": "104",
            "kakaopay_issuer_corp": "신한카드",
            "kakaopay_issuer_corp_code": "104",
            "bin": "42200000",
            "card_type": "신용",
            "install_month": "00",
            "approved_id": "30028493",
            "card_mid": "123456789",
            "interest_free_install": "N",
            "purchase_corp": "신한카드",
            "purchase_corp_code": "04",
            "issuer_corp": "신한카드",
            "issuer_corp_code": "04",
        }

    def order(self, request: Request, api: str, params: dict) -> dict:
        payment = self._payment(params)
        details = [
            {
                **{k: v for k, v in a.items() if k != "approved_at"},
                "approved_at": self.state.kakao_time(a["approved_at"]),
            }
            for a in payment["actions"]
        ]
        body = {
            "tid": payment["tid"],
            "cid": payment["cid"],
            "status": payment["status"],
            "partner_order_id": payment["partner_order_id"],
            "partner_user_id": payment["partner_user_id"],
            "payment_method_type": payment["payment_method_type"],
            "amount": payment["amount"],
            "canceled_amount": payment["canceled_amount"],
            "cancel_available_amount": self._remaining(payment),
            "item_name": payment["item_name"],
            "item_code": payment["item_code"],
            "quantity": payment["quantity"],
            "created_at": self.state.kakao_time(payment["created_at"]),
            "approved_at": self.state.kakao_time(payment["approved_at"]),
            "canceled_at": self.state.kakao_time(payment["canceled_at"]),
            "payment_action_details": details,
        }
        if payment["payment_method_type"] == "CARD":
            body["selected_card_info"] = {
                "card_bin": "42200000",
                "install_month": 0,
                "card_corp_name": "신한카드",
                "interest_free_install": "N",
            }
        return body

    def _remaining(self, payment: dict) -> dict:
        if payment["status"] not in CANCELLABLE:
            return amount_obj(0, 0, 0)
        return minus(payment["amount"], payment["canceled_amount"])

    def cancel(self, request: Request, api: str, params: dict) -> dict:
        payment = self._payment(params)
        self._required(params, "cancel_amount", "cancel_tax_free_amount")
        amount = self._int(params, "cancel_amount")
        tax_free = self._int(params, "cancel_tax_free_amount")
        if payment["status"] not in CANCELLABLE:
            raise KakaoError(
                -781,
                "cancel failure!",
                extras={
                    "method_result_code": "6666",
                    "method_result_message": "원거래없음 (not approved or already cancelled)",
                },
            )
        remaining = self._remaining(payment)
        expected = self._int(params, "cancel_available_amount")
        if expected is not None and expected != remaining["total"]:
            raise KakaoError(
                -781,
                "cancel failure!",
                extras={
                    "method_result_code": "CANCEL_AVAILABLE_AMOUNT_MISMATCH",
                    "method_result_message": f"cancel_available_amount is {remaining['total']}, not {expected}",
                },
            )
        if amount <= 0 or amount > remaining["total"] or tax_free > remaining["tax_free"] or tax_free > amount:
            raise KakaoError(
                -781,
                "cancel failure!",
                extras={
                    "method_result_code": "EXCEED_CANCEL_AVAILABLE_AMOUNT",
                    "method_result_message": f"cancel amount must be 1..{remaining['total']} (tax free ≤ "
                    "{remaining['tax_free']})",
                },
            )
        vat = self._int(params, "cancel_vat_amount", vat_of(amount - tax_free))
        vat = min(vat, remaining["vat"]) if amount < remaining["total"] else remaining["vat"]
        this = amount_obj(amount, tax_free, vat)
        payment["canceled_amount"] = {k: payment["canceled_amount"][k] + this[k] for k in this}
        now = self.state.now()
        full = payment["canceled_amount"]["total"] == payment["amount"]["total"]
        payment.update(status="CANCEL_PAYMENT" if full else "PART_CANCEL_PAYMENT", canceled_at=now)
        aid = self.state.token("A", 19)
        payment["actions"].append(
            {
                "aid": aid,
                "approved_at": now,
                "amount": amount,
                "point_amount": 0,
                "discount_amount": 0,
                "green_deposit": 0,
                "payment_method_type": payment["payment_method_type"],
                "payment_action_type": "CANCEL",
                "payload": params.get("payload"),
            }
        )
        return {
            "aid": aid,
            "tid": payment["tid"],
            "cid": payment["cid"],
            "status": payment["status"],
            "partner_order_id": payment["partner_order_id"],
            "partner_user_id": payment["partner_user_id"],
            "payment_method_type": payment["payment_method_type"],
            "amount": payment["amount"],
            "approved_cancel_amount": this,
            "canceled_amount": payment["canceled_amount"],
            "cancel_available_amount": self._remaining(payment) if not full else amount_obj(0, 0, 0),
            "item_name": payment["item_name"],
            "item_code": payment["item_code"],
            "quantity": payment["quantity"],
            "created_at": self.state.kakao_time(payment["created_at"]),
            "approved_at": self.state.kakao_time(payment["approved_at"]),
            "canceled_at": self.state.kakao_time(now),
            "payload": params.get("payload"),
        }

    # --- hosted page ---------------------------------------------------------------------
    async def checkout(self, request: Request) -> Response:
        payment = self.state.kakaopay.get(request.path_params["tid"])
        if payment is None:
            return hosted.message_page(request, "KakaoPay", "Unknown payment (tid).", 404)
        self._expire(payment)
        if payment["status"] not in ("READY", "OPEN_PAYMENT"):
            return hosted.message_page(
                request, "KakaoPay", f"This payment can no longer be approved ({payment['status']}).", 409
            )
        if request.method == "POST":
            form = await read_form(request)
            choice = {
                "outcome": form.get("action"),
                "amount": form.get("tamper_amount"),
                "card_number": form.get("card_number"),
                "expiry": form.get("expiry"),
            }
        else:
            choice = self.sim.take_outcome("kakaopay") or magic_outcome(payment["item_name"])
        if choice is None:
            payment["status"] = "OPEN_PAYMENT"
            self.state.save()
            return hosted.checkout_page(
                request,
                "KakaoPay checkout",
                [
                    ("Item", payment["item_name"]),
                    ("Amount (KRW)", payment["amount"]["total"]),
                    ("Order", payment["partner_order_id"]),
                    ("tid", payment["tid"]),
                ],
                action_url=str(request.url),
                amount=payment["amount"]["total"],
                # the card a script may choose (pgsim/cards.py): kept with a subscription's sid
                hidden={"card_number": cards.DEFAULT_CARD, "expiry": cards.DEFAULT_EXPIRY},
            )
        return self._finish(request, payment, choice)

    def _finish(self, request: Request, payment: dict, choice: dict) -> Response:
        outcome = choice.get("outcome")
        if outcome in ("approve", "amount"):
            if outcome == "amount":
                total = positive_int(choice.get("amount"))
                if total is None:
                    return hosted.message_page(request, "KakaoPay", "Enter a positive whole amount.", 400)
                tax_free = min(payment["amount"]["tax_free"], total)
                payment["charged_amount"] = amount_obj(total, tax_free, vat_of(total - tax_free))
            number = cards.digits(choice.get("card_number") or cards.DEFAULT_CARD)
            year, _, month = str(choice.get("expiry") or cards.DEFAULT_EXPIRY).partition("-")
            if not (year.isdigit() and month.isdigit()) or cards.expired(int(year), int(month), self.state.now()):
                payment["status"] = "FAIL_AUTH_PASSWORD"  # the card is refused on KakaoPay's own page
                self.state.save()
                return RedirectResponse(payment["fail_url"], status_code=303)
            payment["card_number"] = number
            payment["status"] = "AUTH_PASSWORD"
            payment["pg_token"] = self.state.token("", 20).lower()
            target = with_query(payment["approval_url"], pg_token=payment["pg_token"])
        elif outcome == "cancel":
            payment["status"] = "QUIT_PAYMENT"
            target = payment["cancel_url"]
        elif outcome == "fail":
            payment["status"] = "FAIL_AUTH_PASSWORD"
            target = payment["fail_url"]
        else:
            return hosted.message_page(request, "KakaoPay", "Unknown action.", 400)
        self.state.save()
        return RedirectResponse(target, status_code=303)
