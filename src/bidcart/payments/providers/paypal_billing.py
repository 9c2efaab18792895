"""PayPal: a vaulted payment method (Payment Method Tokens v3) charged with Orders v2 (wire facts:
pgsim/paypal_billing.py and PayPal's vault_payment_tokens_v3 spec).

- Registering: `POST /v3/vault/setup-tokens` for the buyer's PayPal wallet, with return/cancel URLs
  (PayPal-Request-Id `setup-<reference>`); the buyer approves on PayPal (the `approve` link) and comes
  back with `approval_token_id`. That is a hint: the setup token kept with the pending method (`Next.psp`)
  is what is vaulted, `POST /v3/vault/payment-tokens` `{payment_source: {token: {id, type: SETUP_TOKEN}}}`
  (PayPal-Request-Id `vault-<reference>`); the payment token's id is the method's reference from then on.
  A card vaulted another way shows its brand and last digits; a wallet shows "PayPal".
- A charge is `POST /v2/checkout/orders` with `payment_source.card.vault_id` or `.paypal.vault_id` (the
  kind read from the token), PayPal-Request-Id `bill-<merchant_uid>`, so a repeat replays the first order:
  it is answered COMPLETED at once, its capture COMPLETED ("paid") or DECLINED ("failed"); a wallet's
  decline is 422 INSTRUMENT_DECLINED ("failed").
- Deleting is `DELETE /v3/vault/payment-tokens/{id}` (204); a token PayPal does not have counts as deleted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Mapping
from urllib.parse import quote

from django.utils import timezone

from .base import Next, ProviderError, Snapshot
from .billing import BillingKey, BillingKeys

if TYPE_CHECKING:
    from ..models import Payment

GONE = {"INVALID_RESOURCE_ID", "RESOURCE_NOT_FOUND"}


# PayPal keeps a PayPal-Request-Id's answer 6 hours (Orders v2); an hour less, so a resend is never a new charge
REQUEST_ID_KEPT = timedelta(hours=5)


class PayPalVaultKeys(BillingKeys):
    """Mixed into PayPal: uses its authenticated `_api`, `_snapshot` and `_purchase_unit`."""

    def billing_key_window(self, reference: str, *, buyer, return_url: str, notify: str = "") -> Next:
        token = self._api(
            "POST",
            "/v3/vault/setup-tokens",
            safe=True,
            headers={"PayPal-Request-Id": f"setup-{reference}"},
            body={
                "payment_source": {
                    "paypal": {
                        "description": "bidcart saved payment method",
                        "usage_type": "MERCHANT",
                        "usage_pattern": "SUBSCRIPTION_PREPAID",
                        "experience_context": {
                            "return_url": return_url,
                            "cancel_url": return_url,
                            "shipping_preference": "NO_SHIPPING",
                            "vault_instruction": "ON_PAYER_APPROVAL",
                        },
                    }
                },
            },
        )
        link = next((lk["href"] for lk in token.get("links", []) if lk.get("rel") == "approve"), None)
        if not link:
            raise ProviderError("PayPal: the setup token has no approve link", code="no_approval_link", payload=token)
        return Next(type="redirect", url=link, psp={"setup_token": token["id"]})

    @staticmethod
    def _billing_key(token: dict) -> BillingKey:
        source = token.get("payment_source") or {}
        card = source.get("card") or {}
        if card:
            return BillingKey(
                reference=token["id"],
                brand=str(card.get("brand") or "").title(),
                last4=str(card.get("last_digits") or "")[-4:],
                raw=token,
            )
        return BillingKey(reference=token["id"], brand="PayPal", raw=token)

    def confirm_billing_key(
        self, reference: str, *, params: Mapping[str, str], registration: dict
    ) -> BillingKey | None:
        setup = registration.get("setup_token")
        approved = params.get("approval_token_id")
        if not setup or not approved or approved != setup:  # cancelled, or another registration's token
            return None
        try:
            token = self._api(
                "POST",
                "/v3/vault/payment-tokens",
                safe=True,
                headers={"PayPal-Request-Id": f"vault-{reference}"},
                body={"payment_source": {"token": {"id": setup, "type": "SETUP_TOKEN"}}},
            )
        except ProviderError as exc:
            if exc.outcome_unknown:
                raise
            return None  # not approved, or unknown: no card
        return self._billing_key(token)

    def _payment_token(self, reference: str) -> dict | None:
        try:
            return self._api("GET", f"/v3/vault/payment-tokens/{quote(reference, safe='')}")
        except ProviderError as exc:
            if exc.code in GONE:
                return None
            raise

    def fetch_billing_key(self, reference: str) -> BillingKey | None:
        token = self._payment_token(reference)
        return None if token is None else self._billing_key(token)

    def charge_billing_key(self, payment: "Payment", reference: str, *, notify: str = "") -> Snapshot:
        from .paypal import _purchase_unit  # paypal.py mixes this class in: imported when called

        token = self._payment_token(reference)
        if token is None:
            raise ProviderError("PayPal: the vaulted payment method is gone", code="INVALID_RESOURCE_ID")
        kind = "card" if "card" in (token.get("payment_source") or {}) else "paypal"
        uid = payment.merchant_uid
        try:
            order = self._api(
                "POST",
                "/v2/checkout/orders",
                safe=True,
                headers={"PayPal-Request-Id": f"bill-{uid}", "Prefer": "return=representation"},
                body={
                    "intent": "CAPTURE",
                    "purchase_units": [_purchase_unit(payment)],
                    "payment_source": {kind: {"vault_id": reference}},
                },
            )
        except ProviderError as exc:
            if exc.code != "INSTRUMENT_DECLINED":
                raise
            return Snapshot(
                state="failed",
                amount=payment.provider_amount,
                currency=payment.provider_currency,
                failure=exc.message,
                raw=exc.payload or {},
            )
        return self._snapshot(order)

    def fetch_charge(self, payment: "Payment", reference: str) -> Snapshot:
        """Read by its order id; if the answer that carried it was lost, the same request again under the
        same PayPal-Request-Id: PayPal answers the order it made then (or makes it now, if the first request
        never arrived), never a second one — while it keeps the id (6 hours, Orders v2's PayPal-Request-Id).
        Later a resend could charge twice: the payment stays pending for staff instead."""
        if (payment.psp or {}).get("order_id"):
            return self.fetch(payment)
        if timezone.now() - payment.created_at > REQUEST_ID_KEPT:
            raise ProviderError(
                "PayPal: the charge's answer was lost and PayPal no longer keeps its PayPal-Request-Id",
                code="not_recoverable",
            )
        return self.charge_billing_key(payment, reference)

    def delete_billing_key(self, reference: str, *, reason: str) -> None:
        try:
            self._api("DELETE", f"/v3/vault/payment-tokens/{quote(reference, safe='')}", empty_ok=True)
        except ProviderError as exc:
            if exc.code not in GONE:
                raise
