"""The payment ledger.

- `Payment`: one attempt to pay one order with one provider. Amount and currency are the server's,
  copied from the order; `provider_amount`/`provider_currency` are what the provider is asked to charge
  (the same, except where a provider refuses the shop's currency: PayPal and KRW).
- `PaymentEvent`: the append-only log of every provider call and answer, webhook, mismatch and state
  change. Captured and refunded amounts are sums over it; a unique `dedupe_key` per payment makes
  "captured once", "this webhook once" and "this refund once" database facts, not `if exists` checks.
- `Refund`: a request to give money back, with its provider result.
- `WebhookDelivery`: the inbox. Every inbound delivery is stored raw before anything acts on it.

`Payment.status` is a display summary kept in step with the log by the services.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .providers import choices as provider_choices


def new_merchant_uid() -> str:
    """36 characters, 128 random bits: unguessable, within every provider's 40-character limit."""
    return "pay_" + secrets.token_hex(16)


# The providers' names and labels come from the registry (payments/providers/): one place per provider.
Provider = models.TextChoices("Provider", [(name.upper(), (name, label)) for name, label in provider_choices()])


class Method(models.TextChoices):
    CARD = "card", _("Card")
    VBANK = "vbank", _("Virtual account (bank deposit)")


class Status(models.TextChoices):
    CREATED = "created", _("Created")
    PENDING = "pending", _("Awaiting the buyer")
    AWAITING_DEPOSIT = "awaiting_deposit", _("Awaiting bank deposit")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


# Statuses in which the provider may still take the buyer's money.
OPEN = [Status.CREATED, Status.PENDING, Status.AWAITING_DEPOSIT]
# Statuses in which money was captured (and may be refunded).
CAPTURED = [Status.PAID, Status.PARTIALLY_REFUNDED, Status.REFUNDED]
# Statuses the shop closed without money: the provider may still report it paid (a late approval, a
# deposit after the order expired), and that money is then settled, never dropped.
CLOSED = [Status.FAILED, Status.CANCELLED, Status.EXPIRED]


class Payment(models.Model):
    merchant_uid = models.CharField(max_length=40, unique=True, default=new_merchant_uid, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.CARD)
    amount = models.PositiveBigIntegerField(help_text="minor units of `currency`, from the order")
    currency = models.CharField(max_length=3)
    provider_amount = models.PositiveBigIntegerField(
        help_text="minor units of `provider_currency`, what the provider charges"
    )
    provider_currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED, db_index=True)
    # Provider references: tid/aid (KakaoPay), imp_uid (PortOne V1), payment_id/transaction_id (V2),
    # order_id/capture_id (PayPal). Written under the row lock; read from here, never process memory.
    psp = models.JSONField(default=dict, blank=True)
    # vbank: {bank, account, holder, due}; shown to the buyer while awaiting deposit
    vbank = models.JSONField(default=dict, blank=True)
    failure = models.CharField(max_length=300, blank=True)
    # The provider holds money bidcart refused (a mismatch, or a payment captured for an order that can no
    # longer take it) and giving it back failed: the reconciliation sweep tries again until it is back.
    cancel_owed = models.BooleanField(default=False)
    # A deposited virtual account is refunded by bank transfer: the buyer's own account {bank, number,
    # holder}, given on the order page or the API, kept only until nothing is left to refund.
    refund_account = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # charged with a saved card (billing key) by `charge_saved_method`, not through the provider's page
    saved_method = models.ForeignKey(
        "SavedPaymentMethod", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="payments_open_by_age")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(provider_amount__gt=0), name="payments_amount_positive"
            )
        ]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self) -> str:
        return self.merchant_uid

    @property
    def item_name(self) -> str:
        """What the provider's page shows: the first line and how many more."""
        lines = list(self.order.lines.all())
        name = lines[0].product_name if lines else self.order.number
        return (f"{name} 외 {len(lines) - 1}건" if len(lines) > 1 else name)[:100]

    @property
    def buyer_message(self) -> str:
        """How this attempt ended, in words a buyer reads (`failure` keeps the provider's raw text for staff)."""
        from .outcomes import for_buyer

        return for_buyer(self)

    def totals(self) -> dict[str, int]:
        """Captured, refunded and refundable amounts (minor units of `currency`), summed from the log."""
        sums = self.events.aggregate(
            captured=Sum("amount", filter=Q(type=PaymentEvent.Type.CAPTURED)),
            refunded=Sum("amount", filter=Q(type=PaymentEvent.Type.REFUNDED)),
        )
        captured, refunded = sums["captured"] or 0, sums["refunded"] or 0
        return {"captured": captured, "refunded": refunded, "refundable": max(captured - refunded, 0)}


class PaymentEvent(models.Model):
    """Append-only: rows are created, never updated or deleted."""

    class Type(models.TextChoices):
        REQUEST = "request", _("Provider call")
        WEBHOOK = "webhook", _("Webhook")
        STATUS = "status", _("Status changed")
        CAPTURED = "captured", _("Captured")
        REFUNDED = "refunded", _("Refunded")
        MISMATCH = "mismatch", _("Mismatch")
        ERROR = "error", _("Error")
        NOTE = "note", _("Note")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(max_length=10, choices=Type.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    amount = models.BigIntegerField(null=True, blank=True, help_text="minor units of the payment's currency")
    psp_reference = models.CharField(max_length=100, blank=True)
    # "captured", "webhook:<event id>", "refund:<refund id>": unique per payment where set
    dedupe_key = models.CharField(max_length=120, blank=True)
    message = models.CharField(max_length=500, blank=True)
    # provider calls: {method, url, status, request, response, ms} with secrets redacted
    payload = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=20, blank=True, help_text="return, webhook, reconcile, staff, api")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "dedupe_key"], condition=~Q(dedupe_key=""), name="payments_event_dedupe"
            ),
        ]
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")

    def __str__(self) -> str:
        return f"{self.payment_id} {self.type}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("payment events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("payment events are append-only")


class Refund(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveBigIntegerField(help_text="minor units of the payment's currency")
    provider_amount = models.PositiveBigIntegerField(
        default=0, help_text="minor units of the payment's provider_currency"
    )
    reason = models.CharField(max_length=200)
    lines = models.JSONField(default=dict, blank=True, help_text="order line id → units refunded")
    restock = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    psp_reference = models.CharField(max_length=100, blank=True)
    failure = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_amount_positive")]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        DUPLICATE = "duplicate", _("Duplicate")
        IGNORED = "ignored", _("Ignored (no such payment)")
        REJECTED = "rejected", _("Rejected (not verified)")
        FAILED = "failed", _("Failed (will be retried)")

    provider = models.CharField(max_length=20, choices=Provider.choices)
    headers = models.JSONField(default=dict)
    body = models.TextField()
    remote_ip = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED, db_index=True)
    event_id = models.CharField(max_length=120, blank=True, help_text="the provider's id for this event")
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhooks")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id or self.pk}"


class SavedPaymentMethod(models.Model):
    """A buyer's card registered at a provider as a billing key (빌링키). bidcart holds the key's reference
    and what the provider says about the card (brand, last four digits), never a card number.

    `reference` is the provider's key: the customer_uid bidcart chose (PortOne V1), or the provider's
    own id (V2's billingKey, KakaoPay's sid, PayPal's payment token), which replaces bidcart's pending
    reference when the key is confirmed. A method is "pending" from when the buyer is sent to the provider's page
    until the provider
    confirms the key; deleting keeps the row (`deleted_at`) so past charges still name their card.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Being registered")
        ACTIVE = "active", _("Active")
        DELETED = "deleted", _("Deleted")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payment_methods")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    reference = models.CharField(max_length=80, unique=True)
    brand = models.CharField(max_length=40, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # what the provider gave while the card was being registered, for the confirmation (KakaoPay's tid,
    # PayPal's setup token id); references only, never card data
    registration = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            # one default per buyer: "which card is charged" is a database fact
            models.UniqueConstraint(fields=["user"], condition=Q(is_default=True), name="payments_one_default_method"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.brand} {self.last4}".strip()


def new_billing_reference() -> str:
    """A customer_uid for PortOne V1: 128 random bits, within its 80-character limit."""
    return "bk_" + secrets.token_hex(16)
