"""Billing keys (빌링키): a card the buyer registered once at the provider, charged later by the server.

An adapter that supports them mixes in `BillingKeys` and implements its calls; like every adapter call
they never touch the database. bidcart keeps only the key's reference and what the provider says about
the card (brand, last digits): never a card number.

- `billing_key_window(reference, buyer, return_url)`: where the buyer registers a card on the provider's
  own page (a redirect, or the browser SDK's parameters), filed under `reference` where the provider lets
  the shop name the key; the browser comes back to `return_url`.
- `fetch_billing_key(reference)`: the provider's record of the key, or None if it has none (deleted,
  never issued). Used to confirm an issuance the buyer did on the provider's page or SDK.
- `charge_billing_key(payment, reference)`: charge `payment.provider_amount` with the key, under
  `payment.merchant_uid` (`notify`: the webhook inbox), and report the truth as a Snapshot ("paid", or "failed" with the decline reason).
  The services derive merchant_uid from their idempotency key, so a repeated charge is refused by the
  provider as a duplicate instead of charging twice; the adapter then answers the existing record.
- `delete_billing_key(reference, reason)`: delete it at the provider; a key the provider no longer has
  counts as deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Payment
    from .base import Next, Snapshot


@dataclass
class BillingKey:
    reference: str        # customer_uid (PortOne V1), billingKey (V2), sid (KakaoPay), vault token id (PayPal)
    brand: str = ""       # the card's name as the provider gives it ("BC카드")
    last4: str = ""       # last digits of the masked card number, if the provider tells them
    raw: dict = field(default_factory=dict)


class BillingKeys:
    """What an adapter offering billing keys implements (see the module docstring). A mixin interface: the
    methods below raise NotImplementedError on purpose, so a provider that sets `supports_billing_keys`
    without implementing one fails loudly at the first call. PortOne V1 implements them
    (portone_billing.py); V2, KakaoPay and PayPal are the next increments of issue #17."""

    supports_billing_keys = True

    def billing_key_window(self, reference: str, *, buyer, return_url: str) -> "Next":
        raise NotImplementedError

    def fetch_billing_key(self, reference: str) -> BillingKey | None:
        raise NotImplementedError

    def charge_billing_key(self, payment: "Payment", reference: str, *, notify: str = "") -> "Snapshot":
        raise NotImplementedError

    def delete_billing_key(self, reference: str, *, reason: str) -> None:
        raise NotImplementedError


def last_digits(masked: str | None) -> str:
    """`910020******0005` → `0005`."""
    digits = "".join(c for c in (masked or "")[-4:] if c.isdigit())
    return digits if len(digits) == 4 else ""
