"""Billing keys (빌링키): a card the buyer registered once at the provider, charged later by the server.

An adapter that supports them mixes in `BillingKeys` and implements its calls; like every adapter call
they never touch the database. bidcart keeps only the key's reference and what the provider says about
the card (brand, last digits): never a card number.

- `billing_key_window(reference, buyer, return_url, notify)`: where the buyer registers a card on the
  provider's own page (a redirect, or the browser SDK's parameters), filed under `reference` where the
  provider lets the shop name the key; the browser comes back to `return_url`, and a provider that sends
  an issuance webhook to the address the shop gives (PortOne V2's `noticeUrls`) sends it to `notify`.
  `Next.psp` is what the provider gave while registering that the confirmation needs (KakaoPay's tid,
  PayPal's setup token): the services keep it with the pending method.
- `confirm_billing_key(reference, params=..., registration=...)`: the buyer is back (`params`: the return
  URL's query, a hint only): the key as the *provider* reports it, or None if no card was registered.
  `BillingKey.reference` is the key to charge from then on: bidcart's own reference where the shop names
  the key (PortOne V1's customer_uid), else the provider's (V2's billingKey, KakaoPay's sid, PayPal's
  payment token). Default: `fetch_billing_key(reference)`.
- `fetch_billing_key(reference)`: the provider's record of the key, or None if it has none (deleted,
  never issued). `BillingKey.issued_for` names the registration it was issued under where the provider
  records it (V2's issueId): a registration whose buyer closed the window is then confirmed by the webhook.
- `charge_billing_key(payment, reference)`: charge `payment.provider_amount` with the key, under
  `payment.merchant_uid` (`notify`: the webhook inbox), and report the truth as a Snapshot ("paid", or "failed"
  with the decline reason).
  The services derive merchant_uid from their idempotency key, so a repeated charge is refused by the
  provider as a duplicate instead of charging twice; the adapter then answers the existing record.
- `fetch_charge(payment, reference)`: that charge read back, also when its answer was lost (default:
  `fetch`; PayPal re-sends the request under its PayPal-Request-Id).
- `delete_billing_key(reference, reason)`: delete it at the provider; a key the provider no longer has
  counts as deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from ..models import Payment
    from .base import Next, Snapshot


@dataclass
class BillingKey:
    reference: str  # customer_uid (PortOne V1), billingKey (V2), sid (KakaoPay), vault token id (PayPal)
    brand: str = ""  # the card's name as the provider gives it ("BC카드")
    last4: str = ""  # last digits of the masked card number, if the provider tells them
    issued_for: str = ""  # the registration (bidcart's reference) it was issued under, where the provider says
    raw: dict = field(default_factory=dict)


class BillingKeys:
    """What an adapter offering billing keys implements (see the module docstring). A mixin interface: the
    methods below raise NotImplementedError on purpose, so a provider that sets `supports_billing_keys`
    without implementing one fails loudly at the first call. PortOne V1 implements them
    (portone_billing.py), V2 (portone_v2_billing.py), KakaoPay (kakaopay_billing.py), PayPal (paypal_billing.py)."""

    supports_billing_keys = True

    def billing_key_window(self, reference: str, *, buyer, return_url: str, notify: str = "") -> "Next":
        raise NotImplementedError

    def confirm_billing_key(
        self, reference: str, *, params: Mapping[str, str], registration: dict
    ) -> BillingKey | None:
        return self.fetch_billing_key(reference)

    def fetch_billing_key(self, reference: str) -> BillingKey | None:
        raise NotImplementedError

    def charge_billing_key(self, payment: "Payment", reference: str, *, notify: str = "") -> "Snapshot":
        raise NotImplementedError

    def fetch_charge(self, payment: "Payment", reference: str) -> "Snapshot":
        """A charge with the key, read back, also when the answer to it was lost (the payment holds none of
        the provider's ids). Default: `fetch`, which PortOne (V1 and V2) answers by merchant_uid."""
        return self.fetch(payment)

    def delete_billing_key(self, reference: str, *, reason: str) -> None:
        raise NotImplementedError


def last_digits(masked: str | None) -> str:
    """`910020******0005` → `0005`."""
    digits = "".join(c for c in (masked or "")[-4:] if c.isdigit())
    return digits if len(digits) == 4 else ""
