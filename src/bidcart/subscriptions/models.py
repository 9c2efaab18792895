"""Subscriptions (정기배송/정기구독): a seller offers a product on a schedule, a buyer subscribes with a saved
card, and each cycle becomes an order charged to that card exactly once.

- `Plan`: the product may be subscribed to, at these intervals (every 1, 2 or 4 weeks, monthly).
- `Subscription`: one buyer's standing order (variant, quantity, interval, card, shipping address copied
  in) and when its next cycle is due (`next_at`, UTC; people see it in Asia/Seoul).
- `Cycle`: one delivery of a subscription, numbered 1, 2, 3, ... and unique per (subscription, number):
  the row a sweep claims before charging, and the name of the charge (its idempotency key is derived
  from the cycle and its attempt number, so a retried task or a second sweep is the same charge).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Interval(models.TextChoices):
    WEEKLY = "1w", _("Every week")
    BIWEEKLY = "2w", _("Every 2 weeks")
    FOUR_WEEKLY = "4w", _("Every 4 weeks")
    MONTHLY = "1m", _("Every month")


INTERVAL_CODES = tuple(Interval.values)


class Plan(models.Model):
    """The seller's offer of a product on a schedule. No plan (or no intervals): not subscribable."""

    product = models.OneToOneField(
        "catalog.Product", on_delete=models.CASCADE, related_name="subscription_plan", verbose_name=_("product")
    )
    intervals = models.JSONField(_("intervals"), default=list, help_text=_("Interval codes: 1w, 2w, 4w, 1m."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("subscription plan")
        verbose_name_plural = _("subscription plans")

    def __str__(self) -> str:
        return f"{self.product} ({', '.join(self.intervals)})"

    @property
    def interval_labels(self) -> list[str]:
        return [str(Interval(code).label) for code in INTERVAL_CODES if code in self.intervals]


class Subscription(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("subscription", "Active")
        PAUSED = "paused", pgettext_lazy("subscription", "Paused")
        CANCELLED = "cancelled", pgettext_lazy("subscription", "Cancelled")

    class PauseReason(models.TextChoices):
        NONE = "", _("—")
        BUYER = "buyer", _("Paused by you")
        DECLINED = "declined", _("The card was declined")
        METHOD = "method", _("The card can no longer be charged")
        UNAVAILABLE = "unavailable", _("The product is no longer sold")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("product")
    )
    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("option")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    interval = models.CharField(_("interval"), max_length=2, choices=Interval.choices)
    method = models.ForeignKey(
        "payments.SavedPaymentMethod", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("card")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE, db_index=True)
    pause_reason = models.CharField(_("paused because"), max_length=12, choices=PauseReason.choices, blank=True)
    # the day of the month a monthly subscription keeps to (the 31st: the last day of shorter months)
    anchor_day = models.PositiveSmallIntegerField(default=1)
    next_cycle = models.PositiveIntegerField(_("next cycle"), default=1)
    next_at = models.DateTimeField(_("next delivery"), db_index=True)
    # the cycle whose upcoming-renewal email went out: set by a conditional UPDATE, so once per cycle
    reminded_cycle = models.PositiveIntegerField(default=0)
    # the shipping address, copied in; each cycle's order copies it again
    recipient = models.CharField(_("recipient"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30)
    postcode = models.CharField(_("postcode"), max_length=10)
    address1 = models.CharField(_("address"), max_length=200)
    address2 = models.CharField(_("address details"), max_length=200, blank=True)
    delivery_note = models.CharField(_("delivery note"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="subscriptions_quantity_positive")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.product} × {self.quantity} ({self.interval})"

    @property
    def address(self) -> dict:
        return {
            k: getattr(self, k) for k in ("recipient", "phone", "postcode", "address1", "address2", "delivery_note")
        }


class Cycle(models.Model):
    class State(models.TextChoices):
        DUE = "due", _("Being charged")
        RETRYING = "retrying", _("Declined; will try again")
        PAID = "paid", pgettext_lazy("subscription cycle", "Paid")
        FAILED = "failed", pgettext_lazy("subscription cycle", "Declined")
        SKIPPED = "skipped", pgettext_lazy("subscription cycle", "Skipped")
        OUT_OF_STOCK = "out_of_stock", _("Skipped: out of stock")
        CANCELLED = "cancelled", pgettext_lazy("subscription cycle", "Cancelled")

    OPEN = (State.DUE, State.RETRYING)

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="cycles")
    number = models.PositiveIntegerField(_("cycle"))
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DUE, db_index=True)
    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="subscription_cycle"
    )
    # declined charges so far; the next charge's key is `sub-{subscription}-cycle-{number}-try-{attempts + 1}`
    attempts = models.PositiveSmallIntegerField(_("declined attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # a sweep's claim: taken by a conditional UPDATE, it lapses if that sweep dies mid-charge
    claimed_until = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["subscription", "number"]
        verbose_name = _("cycle")
        verbose_name_plural = _("cycles")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "number"], name="subscriptions_one_cycle_per_number")
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}#{self.number}"

    def charge_key(self) -> str:
        """The charge of this cycle's next attempt: the same cycle and attempt is the same payment."""
        return f"sub-{self.subscription_id}-cycle-{self.number}-try-{self.attempts + 1}"
