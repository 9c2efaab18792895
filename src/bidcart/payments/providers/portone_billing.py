"""PortOne V1 billing keys: `customer_uid` (wire facts: pgsim/iamport_billing.py and PortOne's v1 spec).

- A key is read with `GET /subscribe/customers/{customer_uid}` (404 `code -1`: none) and deleted with
  `DELETE` on the same path.
- A charge is `POST /subscribe/payments/again` `{customer_uid, merchant_uid, amount, name, ...}`. A decline is
  `code 0` with a payment `status: failed`; a merchant_uid already paid is refused with `code 1`, and
  then the payment is read back by merchant_uid, so a repeated charge reports the first one. The call is
  not repeated blindly: a timeout is left to reconciliation, which finds the payment by merchant_uid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Next, ProviderError, Snapshot
from .billing import BillingKey, BillingKeys, last_digits

if TYPE_CHECKING:
    from ..models import Payment


class PortOneV1BillingKeys(BillingKeys):
    """Mixed into PortOneV1: uses its authenticated `_call`, `_record` and `_snapshot`."""

    def billing_key_window(self, reference: str, *, buyer, return_url: str, notify: str = "") -> Next:
        """`IMP.request_pay` in key-issuing mode: `customer_uid` with `amount: 0` registers the card
        without charging it (PortOne's 결제창 빌링키 발급). merchant_uid: the reference (it is unique too)."""
        params = {
            "imp_code": self.config["merchant_code"],
            "pg": self.config["pg"],
            "pay_method": "card",
            "merchant_uid": reference,
            "customer_uid": reference,
            "amount": 0,
            "name": "정기결제 카드 등록",
            "buyer_email": buyer.email,
            "buyer_name": buyer.display_name,
            "m_redirect_url": return_url,
        }
        return Next(
            type="client",
            script=self.config["script_url"],
            params={k: v for k, v in params.items() if v not in (None, "")},
        )

    def fetch_billing_key(self, reference: str) -> BillingKey | None:
        from .portone import _path

        data = self._call("GET", f"/subscribe/customers/{_path(reference)}", missing_ok=True)
        if data is None:
            return None
        return BillingKey(
            reference=data.get("customer_uid") or reference,
            brand=data.get("card_name") or "",
            last4=last_digits(data.get("card_number")),
            raw=data,
        )

    def charge_billing_key(self, payment: "Payment", reference: str, *, notify: str = "") -> Snapshot:
        from .portone import _major

        order, buyer = payment.order, payment.buyer
        body = {
            "customer_uid": reference,
            "merchant_uid": payment.merchant_uid,
            "amount": _major(payment.provider_amount, payment.provider_currency),
            "currency": payment.provider_currency,
            "name": payment.item_name,
            "buyer_name": order.recipient or buyer.display_name,
            "buyer_email": buyer.email,
            "buyer_tel": order.phone,
            "buyer_addr": f"{order.address1} {order.address2}".strip(),
            "buyer_postcode": order.postcode,
            "notice_url": notify,
        }
        body = {k: v for k, v in body.items() if v not in (None, "")}
        try:
            record = self._call("POST", "/subscribe/payments/again", body, safe=False)
        except ProviderError as exc:
            if exc.outcome_unknown:
                raise
            # refused: a merchant_uid paid already (a repeat) answers its first charge; else no such payment
            record = self._record(payment)
            if record is None:
                raise
        return self._snapshot(payment, record)

    def delete_billing_key(self, reference: str, *, reason: str) -> None:
        from .portone import _path

        try:
            self._call("DELETE", f"/subscribe/customers/{_path(reference)}?reason={_path(reason[:100])}", safe=False)
        except ProviderError as exc:
            if exc.http_status != 404:  # gone already counts as deleted
                raise
