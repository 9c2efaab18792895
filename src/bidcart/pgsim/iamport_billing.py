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

Scheduled payments (예약결제): `POST /subscribe/payments/schedule` `{customer_uid, schedules: [{merchant_uid,
schedule_at (UNIX seconds, in the future), amount, name, notice_url, ...}]}` answers the schedules
(`schedule_status: "scheduled"`); a merchant_uid scheduled or paid already, a past schedule_at or an unknown
customer_uid refuse the whole request with `code 1`. `POST /subscribe/payments/unschedule` `{customer_uid,
merchant_uid: [...]}` revokes those not run yet (`code 1` when there are none); `GET
/subscribe/payments/schedule/{merchant_uid}` reads one (HTTP 404 `code -1` unknown). A schedule whose time
has come runs at pgsim's next authenticated V1 call (the clock is pgsim's: the control API can advance it):
the charge is an `again` (its payment, decline and webhook), and the schedule becomes `executed` with
`imp_uid`, `payment_status` and `fail_reason`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import cards, targets
from .core import BadBody, as_int, read_params

INSUFFICIENT_FUNDS = "[4000]잔액이 부족합니다. (pgsim: insufficient funds)"
EXPIRED_CARD = "[F113]유효기간이 만료된 카드입니다. (pgsim: expired card)"
CARD_DECLINES = {cards.INSUFFICIENT_FUNDS: INSUFFICIENT_FUNDS, cards.EXPIRED_CARD: EXPIRED_CARD}  # kind → fail_reason
DEFAULT_CARD = "9100200000000005"  # charges fine
DEFAULT_EXPIRY = "2099-12"
NO_CUSTOMER = "등록된 빌링키 정보가 존재하지 않습니다."
CUSTOMER_KEYS = (
    "customer_uid",
    "pg_provider",
    "pg_id",
    "customer_id",
    "card_name",
    "card_code",
    "card_number",
    "card_type",
    "customer_name",
    "customer_tel",
    "customer_email",
    "customer_addr",
    "customer_postcode",
    "inserted",
    "updated",
    "sandbox",
)
SCHEDULE_KEYS = (
    "customer_uid",
    "merchant_uid",
    "imp_uid",
    "pg_provider",
    "pg_id",
    "customer_id",
    "schedule_at",
    "executed_at",
    "revoked_at",
    "amount",
    "currency",
    "name",
    "buyer_name",
    "buyer_email",
    "buyer_tel",
    "buyer_addr",
    "buyer_postcode",
    "custom_data",
    "schedule_status",
    "payment_status",
    "fail_reason",
)


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
            Route("/iamport/subscribe/payments/schedule", self.schedule, methods=["POST"]),
            Route("/iamport/subscribe/payments/unschedule", self.unschedule, methods=["POST"]),
            Route("/iamport/subscribe/payments/schedule/{merchant_uid}", self.schedule_of, methods=["GET"]),
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
            "customer_uid": customer_uid,
            "pg_provider": pg,
            "pg_id": "pgsim-billing",
            "customer_id": params.get("customer_id"),
            "card_name": "BC카드",
            "card_code": "361",
            "card_number": card[:6] + "*" * (len(card) - 10) + card[-4:],
            "card_type": 0,
            "customer_name": params.get("customer_name"),
            "customer_tel": params.get("customer_tel"),
            "customer_email": params.get("customer_email"),
            "customer_addr": params.get("customer_addr"),
            "customer_postcode": params.get("customer_postcode"),
            "inserted": existing["inserted"] if existing else now,
            "updated": now,
            "sandbox": False,
            # kept with the key, never shown: how charges on this test card end
            "decline": CARD_DECLINES.get(cards.charge_outcome(card) or ""),
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
        if targets.refused([params.get("notice_url")], self.config, request.scope):  # no webhooks to just anywhere
            return envelope(None, 1, "notice_url이 허용된 주소가 아닙니다.", 400)
        customer = self.state.iamport_customers.get(str(params.get("customer_uid") or ""))
        if customer is None:
            return envelope(None, 1, NO_CUSTOMER)
        for other in self.state.iamport_payments.values():
            if other["merchant_uid"] == merchant_uid and other["status"] in ("paid", "cancelled"):
                return envelope(None, 1, "이미 결제된 merchant_uid입니다.")
        payment = self.charge_key(request, customer, params, amount)
        self.state.save()
        body: dict[str, Any] = self.payment_object(payment)
        return envelope(body)

    def charge_key(self, request: Request, customer: dict, params: dict, amount: int) -> dict:
        """One charge on a key (again, or a schedule come due): paid, or failed with the card's decline."""
        payment = self._new_payment(request, {**params, "pay_method": "card"}, amount)
        payment.update(
            customer_uid=customer["customer_uid"],
            customer_uid_usage="payment",
            card_name=customer["card_name"],
            card_code=customer["card_code"],
            card_number=customer["card_number"],
            pg_provider=customer["pg_provider"],
        )
        queued = self.sim.take_charge_decline("iamport")
        decline = (
            CARD_DECLINES.get(queued or "")
            or customer.get("decline")
            or ("카드 승인이 거절되었습니다. (pgsim:decline)" if cards.declined_by_name(params.get("name")) else None)
        )
        if decline:
            now = int(self.state.now())
            payment.update(status="failed", failed_at=now, updated_at=now, fail_reason=decline, apply_num=None)
        else:
            self._mark_paid(payment)
        self._webhook(request, payment, payment["status"])
        return payment

    # --- scheduled payments (예약결제) ---------------------------------------------------------------
    def schedule_object(self, s: dict) -> dict:
        return {k: s.get(k) for k in SCHEDULE_KEYS}

    async def schedule(self, request: Request) -> Response:
        """`POST /subscribe/payments/schedule` `{customer_uid, schedules: [{merchant_uid, schedule_at, amount,
        name, ...}]}`: every schedule is checked before any is stored (one bad entry refuses the request)."""
        from .iamport import envelope

        if not self._authorized(request):
            return self._unauthorized()
        try:
            params = await read_params(request)
        except BadBody as exc:
            return envelope(None, -1, str(exc), 400)
        customer = self.state.iamport_customers.get(str(params.get("customer_uid") or ""))
        if customer is None:
            return envelope(None, 1, NO_CUSTOMER)
        schedules = params.get("schedules")
        if not isinstance(schedules, list) or not schedules or not all(isinstance(x, dict) for x in schedules):
            return envelope(None, 1, "schedules는 1건 이상의 예약 정보 배열이어야 합니다.")
        if targets.refused([x.get("notice_url") for x in schedules], self.config, request.scope):
            return envelope(None, 1, "notice_url이 허용된 주소가 아닙니다.", 400)
        now, made = int(self.state.now()), []
        for entry in schedules:
            merchant_uid = str(entry.get("merchant_uid") or "")
            try:
                amount, at = as_int(entry.get("amount")), as_int(entry.get("schedule_at"))
            except ValueError:
                amount = at = None
            if (
                not merchant_uid
                or len(merchant_uid) > 40
                or not entry.get("name")
                or not amount
                or amount <= 0
                or at is None
            ):
                return envelope(None, 1, "merchant_uid(40자 이하), schedule_at, 양의 amount와 name이 필요합니다.")
            if at <= now:
                return envelope(None, 1, f"예약시각(schedule_at: {at})이 현재 시각 이후여야 합니다.")
            taken = self.state.iamport_schedules.get(merchant_uid)
            if (
                (taken and taken["schedule_status"] != "revoked")
                or merchant_uid in (x["merchant_uid"] for x in made)
                or any(
                    p["merchant_uid"] == merchant_uid and p["status"] == "paid"
                    for p in self.state.iamport_payments.values()
                )
            ):
                return envelope(None, 1, f"이미 예약되었거나 결제된 merchant_uid입니다: {merchant_uid}")
            made.append(
                {
                    "customer_uid": customer["customer_uid"],
                    "merchant_uid": merchant_uid,
                    "imp_uid": None,
                    "pg_provider": None,
                    "pg_id": None,
                    "customer_id": params.get("customer_id"),
                    "schedule_at": at,
                    "executed_at": 0,
                    "revoked_at": 0,
                    "amount": amount,
                    "currency": entry.get("currency") or "KRW",
                    "name": entry["name"],
                    "buyer_name": entry.get("buyer_name"),
                    "buyer_email": entry.get("buyer_email"),
                    "buyer_tel": entry.get("buyer_tel"),
                    "buyer_addr": entry.get("buyer_addr"),
                    "buyer_postcode": entry.get("buyer_postcode"),
                    "custom_data": entry.get("custom_data"),
                    "schedule_status": "scheduled",
                    "payment_status": None,
                    "fail_reason": None,
                    "notice_url": entry.get("notice_url"),
                }
            )
        for s in made:
            self.state.iamport_schedules[s["merchant_uid"]] = s
        self.state.save()
        return envelope([self.schedule_object(s) for s in made])

    async def unschedule(self, request: Request) -> Response:
        """`POST /subscribe/payments/unschedule` `{customer_uid?, merchant_uid?: [...]}`: revokes what has
        not run yet (all of a customer_uid's without merchant_uid); nothing to revoke is `code 1`."""
        from .iamport import envelope

        if not self._authorized(request):
            return self._unauthorized()
        try:
            params = await read_params(request)
        except BadBody as exc:
            return envelope(None, -1, str(exc), 400)
        customer_uid = str(params.get("customer_uid") or "")
        wanted = params.get("merchant_uid") or params.get("merchant_uid[]")
        wanted = [wanted] if isinstance(wanted, str) else list(wanted or [])
        if not customer_uid and not wanted:
            return envelope(None, 1, "customer_uid 또는 merchant_uid가 필요합니다.")
        now, revoked = int(self.state.now()), []
        for s in self.state.iamport_schedules.values():
            if s["schedule_status"] != "scheduled" or (customer_uid and s["customer_uid"] != customer_uid):
                continue
            if wanted and s["merchant_uid"] not in wanted:
                continue
            s.update(schedule_status="revoked", revoked_at=now)
            self.state.iamport_schedules.touch(s["merchant_uid"])
            revoked.append(s)
        if not revoked:
            return envelope(None, 1, "취소할 예약결제 기록이 존재하지 않습니다.")
        self.state.save()
        return envelope([self.schedule_object(s) for s in revoked])

    async def schedule_of(self, request: Request) -> Response:
        """`GET /subscribe/payments/schedule/{merchant_uid}`; an unknown one is HTTP 404 `code -1`."""
        from .iamport import envelope

        if not self._authorized(request):
            return self._unauthorized()
        s = self.state.iamport_schedules.get(request.path_params["merchant_uid"])
        if s is None:
            return envelope(None, -1, "결제예약 정보가 존재하지 않습니다.", 404)
        return envelope(self.schedule_object(s))

    def run_due_schedules(self, request: Request) -> None:
        """Schedules whose time has come are charged, each once, when pgsim is next asked (any
        authenticated V1 call, or the control API's clock): its payment and webhook as for `again`."""
        now = int(self.state.now())
        due = [
            s
            for s in self.state.iamport_schedules.values()
            if s["schedule_status"] == "scheduled" and s["schedule_at"] <= now
        ]
        for s in sorted(due, key=lambda s: s["schedule_at"]):
            self.state.iamport_schedules.touch(s["merchant_uid"])
            customer = self.state.iamport_customers.get(s["customer_uid"])
            s.update(schedule_status="executed", executed_at=now)
            if customer is None:  # the key was deleted after scheduling
                s.update(payment_status="failed", fail_reason=NO_CUSTOMER)
                continue
            payment = self.charge_key(request, customer, dict(s), s["amount"])
            s.update(
                imp_uid=payment["imp_uid"],
                payment_status=payment["status"],
                fail_reason=payment["fail_reason"],
                pg_provider=payment["pg_provider"],
                pg_id=payment["pg_id"],
            )
        if due:
            self.state.save()

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
            hidden = {
                k: params.get(k)
                for k in (
                    "imp_code",
                    "pg",
                    "pay_method",
                    "merchant_uid",
                    "name",
                    "amount",
                    "customer_uid",
                    "m_redirect_url",
                )
            }
            hidden.update(card_number=DEFAULT_CARD, expiry=DEFAULT_EXPIRY)
            return hosted.checkout_page(
                request,
                "PortOne (Iamport) card registration",
                [("Register a card for", params.get("name")), ("customer_uid", customer_uid)],
                action_url=f"{base_url(request)}/iamport/checkout",
                hidden=hidden,
                approve_label="Register card",
            )
        error = ""
        if params.get("action") != "approve":
            error = "사용자가 카드 등록을 취소하셨습니다"
        else:
            answer = self.issue_key(
                customer_uid,
                {
                    **params,
                    "card_number": params.get("card_number") or DEFAULT_CARD,
                    "expiry": params.get("expiry") or DEFAULT_EXPIRY,
                },
            )
            error = answer if isinstance(answer, str) else ""
        redirect = params.get("m_redirect_url")
        if not redirect:
            return hosted.message_page(
                request,
                "PortOne billing key",
                error or "Card registered.",
                result={"success": not error, "customer_uid": customer_uid, "error_msg": error},
            )
        return RedirectResponse(
            with_query(
                redirect,
                customer_uid=customer_uid,
                merchant_uid=params.get("merchant_uid") or "",
                imp_success=str(not error).lower(),
                error_msg=error,
            ),
            status_code=303,
        )
