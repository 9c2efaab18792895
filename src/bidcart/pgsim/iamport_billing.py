"""PortOne V1 billing keys (정기결제 / 비인증결제): the `/subscribe/...` API.

Wire facts (tests/data/specs/portone-v1-subscribe.swagger.json, from PortOne's published v1.openapi.json):
- `POST /subscribe/customers/{customer_uid}` issues a key from card details (`card_number`, `expiry`
  YYYY-MM, `birth`, `pwd_2digit`); `GET` reads it, `DELETE` deletes it. The answer is the customer object
  (`customer_uid`, `pg_provider`, `pg_id`, `card_name`, `card_code`, `card_number` masked, `inserted`,
  `updated`, `sandbox`, ...). An unknown key is HTTP 404 `code -1`; a refused issuance HTTP 200 `code 1`.
- `POST /subscribe/payments/again` charges a key. A declined card is *not* an envelope error: the answer
  is `code 0` with a payment whose `status` is `failed` and `fail_reason` says why (PortOne's own sample
  checks `response.status === "paid"`). A `merchant_uid` already paid is refused with `code 1`, so a
  repeated charge never takes the money twice. `notice_url` (or the console URL) gets the usual
  `{imp_uid, merchant_uid, status}` notification.

Scripted outcomes (test cards), chosen when the key is issued and kept with it:
- a card number ending in `0002` is issued, and every charge on it is declined for insufficient funds;
  one ending in `0069`, every charge declined as an expired card (pgsim/cards.py: the same for every provider);
- an `expiry` in the past is refused at issuance ("expired card");
- the payment window issues keys too (`IMP.request_pay` with `customer_uid` and `amount: 0`): its form
  carries `card_number` / `expiry` fields a script may set to these test values;
- an item `name` containing the word `pgsim:decline` declines that one charge.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import cards
from .core import BadBody, as_int, read_params

INSUFFICIENT_FUNDS = "[4000]잔액이 부족합니다. (pgsim: insufficient funds)"
EXPIRED_CARD = "[F113]유효기간이 만료된 카드입니다. (pgsim: expired card)"
DEFAULT_CARD = "9100200000000005"  # charges fine
DEFAULT_EXPIRY = "2099-12"
NO_CUSTOMER = "등록된 빌링키 정보가 존재하지 않습니다."
CUSTOMER_KEYS = ("customer_uid", "pg_provider", "pg_id", "customer_id", "card_name", "card_code", "card_number",
                 "card_type", "customer_name", "customer_tel", "customer_email", "customer_addr",
                 "customer_postcode", "inserted", "updated", "sandbox")


def _expired(expiry: str, now: float) -> bool | None:
    """`YYYY-MM` (PortOne also takes YYYYMM): True if the month is over, None if not a month."""
    digits = expiry.replace("-", "")
    if len(digits) != 6 or not digits.isdigit() or not 1 <= int(digits[4:]) <= 12:
        return None
    today = datetime.fromtimestamp(now, timezone.utc)
    return (int(digits[:4]), int(digits[4:])) < (today.year, today.month)


class IamportBilling:
    """Mixed into pgsim's Iamport provider: uses its envelope, token check, payment records and webhooks."""

    def billing_routes(self) -> list[Route]:
        return [
            Route("/iamport/subscribe/customers/{customer_uid}", self.customer, methods=["GET", "POST", "DELETE"]),
            Route("/iamport/subscribe/payments/again", self.again, methods=["POST"]),
        ]

    def customer_object(self, customer: dict) -> dict:
        return {k: customer.get(k) for k in CUSTOMER_KEYS}

    async def customer(self, request: Request) -> Response:
        from .iamport import envelope

        if not self._authorized(request):
            return self._unauthorized()
        customer_uid = request.path_params["customer_uid"]
        customers = self.state.iamport_customers
        if request.method == "POST":
            return await self._issue(request, customer_uid)
        customer = customers.get(customer_uid)
        if customer is None:
            return envelope(None, -1, NO_CUSTOMER, 404)
        if request.method == "DELETE":
            del customers[customer_uid]
            self.state.save()
        return envelope(self.customer_object(customer))

    async def _issue(self, request: Request, customer_uid: str) -> Response:
        from .iamport import envelope

        try:
            params = await read_params(request)
        except BadBody as exc:
            return envelope(None, -1, str(exc), 400)
        answer = self.issue_key(customer_uid, params)
        if isinstance(answer, str):
            return envelope(None, 1, answer)
        return envelope(self.customer_object(answer))

    def issue_key(self, customer_uid: str, params: dict) -> dict | str:
        """Issue (or re-issue: PortOne replaces the card of a known customer_uid) a key; the refusal's text."""
        card = str(params.get("card_number") or "").replace("-", "").replace(" ", "")
        expiry = str(params.get("expiry") or "")
        if len(customer_uid) > 80 or not card.isdigit() or not 14 <= len(card) <= 16 or not expiry:
            return "card_number(숫자 14~16자리), expiry(YYYY-MM)와 80자 이하의 customer_uid가 필요합니다."
        expired = _expired(expiry, self.state.now())
        if expired is None:
            return "expiry는 YYYY-MM 형식이어야 합니다."
        if expired:
            return f"카드정보 인증 및 빌링키 발급에 실패하였습니다. {EXPIRED_CARD}"
        now = int(self.state.now())
        existing = self.state.iamport_customers.get(customer_uid)
        pg = str(params.get("pg") or "nice").split(".")[0]
        customer = {
            "customer_uid": customer_uid, "pg_provider": pg, "pg_id": "pgsim-billing",
            "customer_id": params.get("customer_id"), "card_name": "BC카드", "card_code": "361",
            "card_number": card[:6] + "*" * (len(card) - 10) + card[-4:], "card_type": 0,
            "customer_name": params.get("customer_name"), "customer_tel": params.get("customer_tel"),
            "customer_email": params.get("customer_email"), "customer_addr": params.get("customer_addr"),
            "customer_postcode": params.get("customer_postcode"),
            "inserted": existing["inserted"] if existing else now, "updated": now, "sandbox": False,
            # kept with the key, never shown: how charges on this test card end
            "decline": {cards.INSUFFICIENT_FUNDS: INSUFFICIENT_FUNDS,
                        cards.EXPIRED_CARD: EXPIRED_CARD}.get(cards.charge_outcome(card) or ""),
        }
        self.state.iamport_customers[customer_uid] = customer
        self.state.save()
        return customer

    async def again(self, request: Request) -> Response:
        from .iamport import envelope

        if not self._authorized(request):
            return self._unauthorized()
        try:
            params = await read_params(request)
            amount = as_int(params.get("amount"))
        except (BadBody, ValueError):
            return envelope(None, 1, "amount는 정수여야 합니다.", 400)
        merchant_uid = str(params.get("merchant_uid") or "")
        if not merchant_uid or len(merchant_uid) > 40 or not params.get("name") or amount is None or amount <= 0:
            return envelope(None, 1, "customer_uid, merchant_uid(40자 이하), name과 양의 amount가 필요합니다.")
        from . import targets

        if targets.refused([params.get("notice_url")], self.config, request.scope):  # no webhooks to just anywhere
            return envelope(None, 1, "notice_url이 허용된 주소가 아닙니다.", 400)
        customer = self.state.iamport_customers.get(str(params.get("customer_uid") or ""))
        if customer is None:
            return envelope(None, 1, NO_CUSTOMER)
        for other in self.state.iamport_payments.values():
            if other["merchant_uid"] == merchant_uid and other["status"] in ("paid", "cancelled"):
                return envelope(None, 1, "이미 결제된 merchant_uid입니다.")
        payment = self._new_payment(request, {**params, "pay_method": "card"}, amount)
        payment.update(customer_uid=customer["customer_uid"], customer_uid_usage="payment",
                       card_name=customer["card_name"], card_code=customer["card_code"],
                       card_number=customer["card_number"], pg_provider=customer["pg_provider"])
        decline = customer.get("decline") or ("카드 승인이 거절되었습니다. (pgsim:decline)"
                                              if "pgsim:decline" in str(params.get("name")).split() else None)
        if decline:
            now = int(self.state.now())
            payment.update(status="failed", failed_at=now, updated_at=now, fail_reason=decline, apply_num=None)
        else:
            self._mark_paid(payment)
        self._webhook(request, payment, payment["status"])
        self.state.save()
        body: dict[str, Any] = self.payment_object(payment)
        return envelope(body)

    # --- the payment window in key-issuing mode: IMP.request_pay({customer_uid, amount: 0, ...}) ------
    async def billing_window(self, request: Request, params: dict) -> Response:
        """The buyer registers a card on the window. GET shows it; POST `action=approve` issues the key
        for `customer_uid` with the test card typed in (`card_number`, `expiry`; defaults: a card that
        charges fine, valid for years) and sends the browser to `m_redirect_url` with `imp_success`,
        `customer_uid` and `merchant_uid`, as the SDK reports an issuance."""
        from . import hosted, targets
        from .core import base_url, read_form, with_query

        if request.method == "POST":
            params = {**params, **(await read_form(request))}
        customer_uid = str(params["customer_uid"])
        refused = targets.refused([params.get("m_redirect_url")], self.config, request.scope)
        if refused:
            return hosted.refused_target_page(request, "PortOne billing key", refused)
        if request.method == "GET":
            hidden = {k: params.get(k) for k in ("imp_code", "pg", "pay_method", "merchant_uid", "name", "amount",
                                                 "customer_uid", "m_redirect_url")}
            hidden.update(card_number=DEFAULT_CARD, expiry=DEFAULT_EXPIRY)
            return hosted.checkout_page(request, "PortOne (Iamport) card registration",
                                        [("Register a card for", params.get("name")), ("customer_uid", customer_uid)],
                                        action_url=f"{base_url(request)}/iamport/checkout", hidden=hidden,
                                        approve_label="Register card")
        error = ""
        if params.get("action") != "approve":
            error = "사용자가 카드 등록을 취소하셨습니다"
        else:
            answer = self.issue_key(customer_uid, {**params, "card_number": params.get("card_number") or DEFAULT_CARD,
                                                   "expiry": params.get("expiry") or DEFAULT_EXPIRY})
            error = answer if isinstance(answer, str) else ""
        redirect = params.get("m_redirect_url")
        if not redirect:
            return hosted.message_page(request, "PortOne billing key", error or "Card registered.",
                                       result={"success": not error, "customer_uid": customer_uid, "error_msg": error})
        return RedirectResponse(with_query(redirect, customer_uid=customer_uid, merchant_uid=params.get("merchant_uid") or "",
                                           imp_success=str(not error).lower(), error_msg=error), status_code=303)
