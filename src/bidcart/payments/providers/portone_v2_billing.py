"""PortOne V2 billing keys (wire facts: pgsim/portone_billing.py and PortOne's v2 spec).

- The buyer registers a card with the browser SDK's `PortOne.requestIssueBillingKey`, filed under our
  `issueId` (the pending method's reference); PortOne names the key itself and the browser comes back
  with `?billingKey=`. That query is a hint: the key is read with `GET /billing-keys/{billingKey}` and
  taken only if PortOne says it is ISSUED under our issueId (a key from someone else's issuance, or
  a made-up one, is no card).
- A charge is `POST /payments/{merchant_uid}/billing-key` with an Idempotency-Key derived from the
  merchant_uid. A decline is HTTP 502 `PG_PROVIDER` with the payment recorded FAILED; a paymentId paid
  already is 409 `ALREADY_PAID`. Either way, and after a success, the payment is read back
  (`GET /payments/{id}`): the snapshot is PortOne's record, never the error alone.
- Deleting is `DELETE /billing-keys/{billingKey}?storeId=&reason=`; not found or already deleted
  counts as deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import quote

from .base import Next, ProviderError, Snapshot
from .billing import BillingKey, BillingKeys, last_digits

if TYPE_CHECKING:
    from ..models import Payment

GONE = {"BILLING_KEY_NOT_FOUND", "BILLING_KEY_ALREADY_DELETED", "BILLING_KEY_NOT_ISSUED"}
# a charge PortOne refused for a reason that leaves a payment record to read (declined, paid already)
READ_BACK = {"PG_PROVIDER", "ALREADY_PAID"}


def _key_path(key: str) -> str:
    return f"/billing-keys/{quote(key, safe='')}"


class PortOneV2BillingKeys(BillingKeys):
    """Mixed into PortOneV2: uses its `_call`, `_payment` and `_snapshot`."""

    def billing_key_window(self, reference: str, *, buyer, return_url: str, notify: str = "") -> Next:
        params = {
            "storeId": self.config["store_id"],
            "channelKey": self.config["channel_key"],
            "billingKeyMethod": "CARD",
            "issueId": reference,
            "issueName": "정기결제 카드 등록",
            "customer": {"customerId": f"bidcart-{buyer.pk}", **({"email": buyer.email} if buyer.email else {})},
            "redirectUrl": return_url,
            # BillingKey.Issued comes here too: a buyer who closes the window still gets the card saved
            **({"noticeUrls": [notify]} if notify else {}),
        }
        return Next(type="client", script=self.config["script_url"], params=params)

    def _key(self, key: str) -> dict | None:
        try:
            return self._call("GET", _key_path(key))
        except ProviderError as exc:
            if exc.code in GONE:
                return None
            raise

    @staticmethod
    def _billing_key(data: dict) -> BillingKey | None:
        if data.get("status") != "ISSUED":
            return None
        card = next(
            (m.get("card") or {} for m in data.get("methods") or [] if m.get("type") == "BillingKeyPaymentMethodCard"),
            {},
        )
        return BillingKey(
            reference=data["billingKey"],
            brand=card.get("name") or "",
            last4=last_digits(card.get("number")),
            issued_for=data.get("issueId") or "",
            raw=data,
        )

    def confirm_billing_key(
        self, reference: str, *, params: Mapping[str, str], registration: dict
    ) -> BillingKey | None:
        key = str(params.get("billingKey") or "")
        if not key or key == "NEEDS_CONFIRMATION" or params.get("code"):
            return None
        data = self._key(key)
        if data is None or data.get("issueId") != reference:
            return None
        return self._billing_key(data)

    def fetch_billing_key(self, reference: str) -> BillingKey | None:
        data = self._key(reference)
        return None if data is None else self._billing_key(data)

    def charge_billing_key(self, payment: "Payment", reference: str, *, notify: str = "") -> Snapshot:
        from .portone_v2 import _path

        order, buyer = payment.order, payment.buyer
        customer: dict[str, Any] = {
            "name": {"full": order.recipient or buyer.display_name},
            "email": buyer.email,
            "phoneNumber": order.phone,
        }
        body = {
            "billingKey": reference,
            "orderName": payment.item_name,
            "amount": {"total": payment.provider_amount},
            "currency": payment.provider_currency,
            "customer": {k: v for k, v in customer.items() if v and v != {"full": ""}},
            **({"noticeUrls": [notify]} if notify else {}),
        }
        try:
            self._call("POST", f"{_path(payment)}/billing-key", body, idempotency_key=f"billing-{payment.merchant_uid}")
        except ProviderError as exc:
            if exc.code not in READ_BACK:
                raise
            record = self._payment(payment)
            if record is None:  # no payment to read: PortOne's answer stays the only word (unknown: reconciled later)
                raise
            return self._snapshot(payment, record)
        return self._snapshot(payment, self._payment(payment))

    def delete_billing_key(self, reference: str, *, reason: str) -> None:
        try:
            self._call("DELETE", _key_path(reference), query={"reason": reason[:100]})
        except ProviderError as exc:
            if exc.code not in GONE:
                raise
