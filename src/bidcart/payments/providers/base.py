"""The small interface every payment provider adapter implements.

Adapters translate between bidcart and one provider's wire protocol; they never change the database.
`payments.services` decides what an answer means for the payment and the order. Every HTTP call goes
through `ProviderHTTP` (providers/http.py), which logs the call and its answer (secrets redacted) to
the payment's event log and retries only calls that are safe to repeat.

Amounts an adapter sees and returns are in the *provider's* currency and minor units
(`payment.provider_amount` / `payment.provider_currency`); the services convert where the provider
refuses the shop's currency.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from bidcart.core import money

from .errors import ProviderError as ProviderError  # the adapters import it with the rest of the interface
from .errors import WebhookRejected as WebhookRejected
from .http import ProviderHTTP

if TYPE_CHECKING:
    from ..banks import RefundAccount
    from ..models import Payment


@dataclass
class Urls:
    """Absolute URLs of this shop for one payment, built by the services."""

    approve: str  # browser returns here after paying (KakaoPay approval_url, PayPal return_url, PortOne redirect)
    cancel: str  # buyer cancelled on the provider's page
    fail: str  # provider's page failed
    notify: str  # webhook inbox of this provider


@dataclass
class Next:
    """Where start() sends the buyer: a redirect, or parameters for the provider's browser SDK."""

    type: str  # "redirect" | "client"
    url: str = ""  # redirect target
    params: dict = field(default_factory=dict)  # client: what the page passes to the SDK
    script: str = ""  # client: the SDK's script URL
    psp: dict = field(default_factory=dict)  # references to store on the payment (e.g. {"tid": ...})


@dataclass
class Snapshot:
    """The provider's truth about one payment, in bidcart's words.

    state: "pending" (not paid yet: ready, buyer on the page, approved-not-captured),
           "awaiting_deposit" (vbank issued), "paid" (money captured; refunds show in `refunded`),
           "failed" (declined, buyer quit, expired at the provider), "cancelled" (voided or fully
           cancelled at the provider).
    """

    state: str
    amount: int  # provider minor units: what was (or is to be) paid
    currency: str
    merchant_uid: str | None = None  # the merchant id the provider has on record, if it carries one
    refunded: int = 0  # cumulative refunded at the provider, provider minor units
    psp: dict = field(default_factory=dict)  # references to store (imp_uid, aid, capture_id, ...)
    vbank: dict = field(default_factory=dict)  # {bank, account, holder, due (ISO 8601)} while awaiting deposit
    failure: str = ""
    # "pending" but the buyer has approved and the server must finish it (a PayPal order APPROVED and not
    # yet captured): a webhook or reconciliation then calls confirm(payment, {}) for the buyer who left.
    approved: bool = False
    raw: dict = field(default_factory=dict)


@dataclass
class RefundResult:
    psp_reference: str  # the provider's id for this refund (aid, cancellation id, refund id)
    refunded_total: int  # cumulative refunded at the provider after this refund, provider minor units


@dataclass
class WebhookNotice:
    """What a verified delivery says, enough to find the payment and dedupe the event."""

    event_id: str  # provider's id of the event (dedupe key); for unsigned V1 a digest
    event_type: str
    merchant_uid: str | None = None
    psp: dict = field(default_factory=dict)  # references to find the payment when merchant_uid is absent
    # A billing-key event (PortOne V2 BillingKey.*, PayPal VAULT.PAYMENT-TOKEN.*): the key it names. A hint like
    # the rest: payments.billing reads the key back from the provider before it changes a saved card.
    billing_key: str | None = None


class Provider(ABC):
    """One provider, one self-describing unit. Subclasses set `name`, `methods` and the description
    below, and implement the four abstract calls; `confirm` (a plain fetch) and `parse_webhook` (no
    webhooks) have defaults that fit providers without them.

    The description is all the rest of bidcart knows about a provider: the registry, the payment
    choices, settings (`settings.<settings_key>`, read from `<settings_key>_<OPTION>` variables), the
    simulator's test credentials, the deploy checks and the CSP are derived from it. Adding a provider
    is one new module and one line in the registry's ADAPTERS."""

    name: str = ""
    label: str = ""
    methods: tuple[str, ...] = ("card",)
    # The provider can take the money with no further call from the shop (PortOne's window approves on
    # its own, a bank deposit lands): a payment the shop closed may still turn paid there, so the sweep
    # keeps reading it for a while. False where only the shop's approve/capture takes money.
    completes_on_its_own: bool = True
    settings_key: str = ""
    options: Mapping[str, str] = {}  # option → default; every one read from the environment
    credentials: tuple[str, ...] = ()  # options the real provider needs (empty: bidcart refuses to serve)
    simulator_path: str = ""  # pgsim serves it at <simulator>/<simulator_path>
    simulator_credentials: Mapping[str, str] = {}  # option → SimConfig attribute with the simulator's test value
    currencies: frozenset[str] | None = None  # what it charges in (None: any the shop uses)
    exponents: Mapping[str, int] = {}  # the provider's decimals where they differ from ISO 4217's
    reference_keys: tuple[str, ...] = ()  # psp keys that name the payment at the provider, best first
    csp: Mapping[str, tuple[str, ...]] = {}  # CSP directive → origins its pages, SDKs and redirects need

    @classmethod
    def read_options(cls, env) -> dict[str, str]:
        """settings.<settings_key> from a django-environ reader."""
        return {
            option: env.str(f"{cls.settings_key}_{option.upper()}", default=default)
            for option, default in cls.options.items()
        }

    @classmethod
    def finish_config(cls, conf: dict, *, simulator_base: str | None) -> None:
        """Fill what follows from the other options (e.g. the SDK's URL); `simulator_base` is the
        simulator's base URL when the provider talks to the simulator, else None."""

    @classmethod
    def missing_credentials(cls, conf: Mapping[str, str]) -> list[str]:
        """The environment variables a real provider still needs."""
        return [f"{cls.settings_key}_{option.upper()}" for option in cls.credentials if not conf.get(option)]

    @classmethod
    def config_problems(cls, conf: Mapping[str, str]) -> list[str]:
        """What is wrong with these options whatever the provider (sentences for the operator)."""
        return []

    @classmethod
    def exponent(cls, currency: str) -> int:
        """Decimals of `currency` as this provider counts them: its minor units are 10**-exponent."""
        return cls.exponents.get(currency.upper(), money.exponent(currency))

    @classmethod
    def charge_in(cls, conf: Mapping[str, str], amount: int, currency: str) -> tuple[int, str]:
        """What this provider is asked to charge for `amount` minor units of the shop's `currency`."""
        return amount, currency

    def __init__(self, config: Mapping[str, Any], http: ProviderHTTP):
        self.config = config
        self.http = http

    # 1. begin a payment at the provider (register amount, create order, ready) → where the buyer goes
    @abstractmethod
    def start(self, payment: "Payment", *, urls: Urls, mobile: bool) -> Next: ...

    # 2. the browser came back to urls.approve with `params` (its query string): finish the payment
    #    where the provider needs a server call (KakaoPay approve, PayPal capture) and report the truth.
    #    Providers without such a step (PortOne) just fetch.
    def confirm(self, payment: "Payment", params: Mapping[str, str]) -> Snapshot:
        return self.fetch(payment)

    # 3. read the provider's truth (reconciliation, webhooks)
    @abstractmethod
    def fetch(self, payment: "Payment") -> Snapshot: ...

    # 4. void an unpaid attempt (closing an issued virtual account: a refusal raises ProviderError), or
    #    cancel a whole paid one (tampered amount); report the truth after
    @abstractmethod
    def cancel(self, payment: "Payment", *, reason: str) -> Snapshot: ...

    # 5. give back `amount` (provider minor units); `refundable` is what bidcart believes is left,
    #    passed where the provider takes it as a consistency check; `key` is unique per refund;
    #    `refund_account`: the buyer's bank account, for a deposited virtual account (PortOne)
    @abstractmethod
    def refund(
        self,
        payment: "Payment",
        *,
        amount: int,
        refundable: int,
        reason: str,
        key: str,
        refund_account: "RefundAccount | None" = None,
    ) -> RefundResult: ...

    # 6. verify an inbound delivery and say what it is about; raise WebhookRejected if it can't be trusted
    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        raise WebhookRejected(f"{self.name} sends no webhooks")


# Conventions every adapter follows:
# - An HTTP 5xx answer (after ProviderHTTP's retries on safe calls) or a network error raises
#   ProviderError(outcome_unknown=True); a 4xx / business error raises ProviderError(code=<provider code>).
# - Provider tokens (PortOne V1 access token, PayPal OAuth token) may be cached on the adapter instance
#   only; adapters are built per use, so nothing about a payment lives in process memory.
