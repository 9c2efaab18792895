"""KakaoPay 정기결제: the sid (wire facts: pgsim/kakaopay_billing.py and KakaoPay's 정기결제 docs).

- Registering a card is the subscription CID's first payment, for ₩0: `ready` (partner_order_id: the
  pending method's reference, partner_user_id: the buyer) → KakaoPay's page → `approve` with the
  `pg_token` the browser comes back with; the approve answer carries the `sid`. The `tid` from ready is
  kept with the pending method (`Next.psp`). KakaoPay tells the card company (`card_info`), not the
  card's digits: a KakaoPay method shows no last four.
- A charge is `POST .../payment/subscription` with the sid under the payment's merchant_uid as
  partner_order_id; its answer is the payment (tid, aid), so `fetch` reads it by tid as for any KakaoPay
  payment. A decline is -780 with the card company's reason: a "failed" snapshot. KakaoPay has no
  idempotency key and no lookup by partner_order_id: a charge whose answer was lost cannot be read
  back, so it stays pending for staff (the services never send it twice).
- Deleting is `.../manage/subscription/inactive`; an sid KakaoPay does not know counts as gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from .base import Next, ProviderError, Snapshot
from .billing import BillingKey, BillingKeys

if TYPE_CHECKING:
    from ..models import Payment

DECLINED = "-780"
NO_SID = {"-722", "-723"}  # unknown / inactive sid (pgsim's codes; KakaoPay publishes none)


class KakaoPayBillingKeys(BillingKeys):
    """Mixed into KakaoPay: uses its `_call` with the subscription CID, and its `_order_fields`."""

    def _sub(self, op: str, fields: dict, *, safe: bool = False) -> dict:
        return self._call(op, {"cid": self.config["subscription_cid"], **fields}, safe=safe)

    def billing_key_window(self, reference: str, *, buyer, return_url: str, notify: str = "") -> Next:
        data = self._sub(
            "ready",
            {
                "partner_order_id": reference,
                "partner_user_id": str(buyer.pk),
                "item_name": "정기결제 카드 등록",
                "quantity": 1,
                "total_amount": 0,
                "tax_free_amount": 0,
                "approval_url": return_url,
                "cancel_url": return_url,
                "fail_url": return_url,
            },
        )
        return Next(
            type="redirect",
            url=data["next_redirect_pc_url"],
            psp={"tid": data["tid"], "partner_user_id": str(buyer.pk)},
        )

    def confirm_billing_key(
        self, reference: str, *, params: Mapping[str, str], registration: dict
    ) -> BillingKey | None:
        pg_token, tid = params.get("pg_token"), registration.get("tid")
        if not pg_token or not tid:
            return None  # cancelled or failed on KakaoPay's page: no pg_token
        try:
            data = self._sub(
                "approve",
                {
                    "tid": tid,
                    "partner_order_id": reference,
                    "partner_user_id": registration.get("partner_user_id") or "",
                    "pg_token": pg_token,
                    "total_amount": 0,
                },
            )
        except ProviderError as exc:
            if exc.outcome_unknown:
                raise
            return None
        if not data.get("sid"):
            return None
        card = data.get("card_info") or {}
        return BillingKey(
            reference=data["sid"],
            brand=card.get("issuer_corp") or card.get("kakaopay_issuer_corp") or "카카오페이",
            raw=data,
        )

    def fetch_billing_key(self, reference: str) -> BillingKey | None:
        try:
            data = self._sub("manage/subscription/status", {"sid": reference}, safe=True)
        except ProviderError as exc:
            if exc.code in NO_SID:
                return None
            raise
        if not data.get("available"):
            return None
        return BillingKey(reference=reference, brand="카카오페이", raw=data)

    def charge_billing_key(self, payment: "Payment", reference: str, *, notify: str = "") -> Snapshot:
        try:
            data = self._sub(
                "subscription",
                {"sid": reference, **self._order_fields(payment)},
            )
        except ProviderError as exc:
            if exc.code != DECLINED:
                raise
            return Snapshot(
                state="failed",
                amount=payment.provider_amount,
                currency="KRW",
                failure=exc.message,
                raw=exc.payload or {},
            )
        return Snapshot(
            state="paid",
            amount=int(data["amount"]["total"]),
            currency="KRW",
            merchant_uid=data.get("partner_order_id"),
            psp={"tid": data["tid"], "aid": data["aid"]},
            raw=data,
        )

    def delete_billing_key(self, reference: str, *, reason: str) -> None:
        try:
            self._sub("manage/subscription/inactive", {"sid": reference})
        except ProviderError as exc:
            if exc.code not in NO_SID:
                raise
