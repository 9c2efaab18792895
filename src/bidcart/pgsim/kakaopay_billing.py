"""KakaoPay 정기결제 (recurring payments): the sid, charges with it, its inactivation and status.

Wire facts (KakaoPay's 정기결제 docs; both API generations, as for single payments):
- The first payment is an ordinary ready → KakaoPay's page → approve, with a *subscription CID*
  (`TCSUBSCRIP` in test). Its approve answer carries `sid` (20 characters), the key of later charges.
  pgsim also takes a first payment of `total_amount: 0` with the subscription CID (registration only:
  the sid is issued and nothing is charged); the one-time CID still refuses 0.
- Later charges: `POST /online/v1/payment/subscription` (legacy `/v1/payment/subscription`)
  `{cid, sid, partner_order_id, partner_user_id, item_name, quantity, total_amount, tax_free_amount}`
  → the approve answer's shape with a new `tid`/`aid` and the `sid`; the usual `/order` reads it by tid.
  `partner_user_id` must be the one the sid was issued to (-707). A declined card is -780 "approval
  failure!" with `extras.method_result_code/message`, the payment recorded FAIL_PAYMENT.
- `POST /online/v1/payment/manage/subscription/inactive` `{cid, sid}` → `{cid, sid, status: "INACTIVE",
  created_at, last_approved_at, inactivated_at}`; `/manage/subscription/status` `{cid, sid}` →
  `{available, cid, sid, status, created_at, last_approved_at, inactivated_at, payment_method_type,
  item_name}`. (Legacy: `/v1/payment/manage/subscription/...`.)
- KakaoPay publishes no codes for an unknown or inactive sid; pgsim answers -722 "invalid sid" and
  -723 "inactive sid" (docs/pgsim.md). KakaoPay sends no webhooks.

Scripted outcomes: the card typed on KakaoPay's page (`card_number`, `expiry`; pgsim/cards.py): an
expiry already past fails the page; 0002 declines every charge for insufficient funds, 0069 as an
expired card; `pgsim:decline` in item_name declines that charge.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from . import cards

DECLINES = {
    cards.INSUFFICIENT_FUNDS: ("INSUFFICIENT_BALANCE", "잔액이 부족합니다. (pgsim: insufficient funds)"),
    cards.EXPIRED_CARD: ("CARD_EXPIRED", "유효기간이 만료된 카드입니다. (pgsim: expired card)"),
    cards.DECLINED: ("USER_LOCKED", "카드 승인이 거절되었습니다 (pgsim:decline)"),
}


class KakaoPayBilling:
    """Mixed into pgsim's KakaoPay: uses its dispatch (auth, cid, error shapes), payments and card info."""

    def billing_routes(self) -> list[Route]:
        return [
            Route("/kakaopay/online/v1/payment/manage/subscription/{op}", self.online_manage, methods=["POST"]),
            Route("/kakaopay/v1/payment/manage/subscription/{op}", self.legacy_manage, methods=["POST"]),
        ]

    async def online_manage(self, request: Request):
        return await self.dispatch(request, "online", {"inactive": self.inactive, "status": self.sid_status})

    async def legacy_manage(self, request: Request):
        return await self.dispatch(request, "legacy", {"inactive": self.inactive, "status": self.sid_status})

    def issue_sid(self, payment: dict) -> str:
        """The approve of a subscription CID's first payment: a new sid for its buyer and card."""
        sid = self.state.token("S", 19)
        number = payment.get("card_number") or cards.DEFAULT_CARD
        self.state.kakaopay_sids[sid] = {
            "sid": sid,
            "cid": payment["cid"],
            "partner_user_id": payment["partner_user_id"],
            "status": "ACTIVE",
            "item_name": payment["item_name"],
            "created_at": self.state.now(),
            "last_approved_at": self.state.now(),
            "inactivated_at": None,
            "decline": cards.charge_outcome(number),
        }
        payment["sid"] = sid
        return sid

    def _sid(self, params: dict) -> dict:
        from .kakaopay import KakaoError

        self._required(params, "sid")
        record = self.state.kakaopay_sids.get(str(params["sid"]))
        if record is None or record["cid"] != params.get("cid"):
            raise KakaoError(-722, "invalid sid")
        return record

    def subscription(self, request: Request, api: str, params: dict) -> dict:
        from .kakaopay import KakaoError, amount_obj, vat_of

        if params.get("cid") != self.config.kakaopay_subscription_cid:
            raise KakaoError(-2, "invalid request: a subscription needs the subscription cid")
        self._required(
            params,
            "sid",
            "partner_order_id",
            "partner_user_id",
            "item_name",
            "quantity",
            "total_amount",
            "tax_free_amount",
        )
        record = self._sid(params)
        total, tax_free = self._int(params, "total_amount"), self._int(params, "tax_free_amount")
        quantity = self._int(params, "quantity")
        if total <= 0 or quantity <= 0 or tax_free > total:
            raise KakaoError(
                -2, "invalid request: total_amount and quantity must be positive, tax_free_amount within it"
            )
        if record["status"] != "ACTIVE":
            raise KakaoError(-723, "inactive sid")
        if str(params["partner_user_id"]) != record["partner_user_id"]:
            raise KakaoError(-707, "partner user id is different when you ordered!")
        now = self.state.now()
        tid = self.state.token("T", 19)
        payment = {
            "tid": tid,
            "cid": params["cid"],
            "api": api,
            "status": "READY",
            "sid": record["sid"],
            "partner_order_id": str(params["partner_order_id"]),
            "partner_user_id": record["partner_user_id"],
            "item_name": params["item_name"],
            "item_code": params.get("item_code"),
            "quantity": quantity,
            "amount": amount_obj(total, tax_free, self._int(params, "vat_amount", vat_of(total - tax_free))),
            "canceled_amount": amount_obj(0, 0, 0),
            "approval_url": None,
            "cancel_url": None,
            "fail_url": None,
            "payment_method_type": "CARD",
            "pg_token": None,
            "created_at": now,
            "approved_at": None,
            "canceled_at": None,
            "actions": [],
        }
        self.state.kakaopay[tid] = payment
        decline = (
            self.sim.take_charge_decline("kakaopay")
            or record.get("decline")
            or (cards.DECLINED if cards.declined_by_name(params["item_name"]) else None)
        )
        if decline:
            payment["status"] = "FAIL_PAYMENT"
            code, message = DECLINES[decline]
            raise KakaoError(
                -780, "approval failure!", extras={"method_result_code": code, "method_result_message": message}
            )
        aid = self.state.token("A", 19)
        payment.update(status="SUCCESS_PAYMENT", approved_at=now)
        payment["actions"].append(
            {
                "aid": aid,
                "approved_at": now,
                "amount": total,
                "point_amount": 0,
                "discount_amount": 0,
                "green_deposit": 0,
                "payment_method_type": "CARD",
                "payment_action_type": "PAYMENT",
                "payload": params.get("payload"),
            }
        )
        record["last_approved_at"] = now
        return {
            "aid": aid,
            "tid": tid,
            "cid": payment["cid"],
            "sid": record["sid"],
            "partner_order_id": payment["partner_order_id"],
            "partner_user_id": payment["partner_user_id"],
            "payment_method_type": "CARD",
            "amount": payment["amount"],
            "card_info": self._card_info(),
            "item_name": payment["item_name"],
            "item_code": payment["item_code"],
            "quantity": quantity,
            "created_at": self.state.kakao_time(now),
            "approved_at": self.state.kakao_time(now),
            "payload": params.get("payload"),
        }

    def _sid_times(self, record: dict) -> dict:
        t = self.state.kakao_time
        return {
            "created_at": t(record["created_at"]),
            "last_approved_at": t(record["last_approved_at"]),
            "inactivated_at": t(record["inactivated_at"]),
        }

    def inactive(self, request: Request, api: str, params: dict) -> dict:
        record = self._sid(params)
        if record["status"] == "ACTIVE":
            record.update(status="INACTIVE", inactivated_at=self.state.now())
        return {"cid": record["cid"], "sid": record["sid"], "status": record["status"], **self._sid_times(record)}

    def sid_status(self, request: Request, api: str, params: dict) -> dict:
        record = self._sid(params)
        return {
            "available": record["status"] == "ACTIVE",
            "cid": record["cid"],
            "sid": record["sid"],
            "status": record["status"],
            "payment_method_type": "CARD",
            "item_name": record["item_name"],
            **self._sid_times(record),
        }
