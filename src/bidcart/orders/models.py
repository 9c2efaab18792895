"""Orders: placed from a cart with stock allocated atomically, an unguessable public number, integer
amounts computed on the server, a status pipeline guarded by a transition table, and an event log."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    PREPARING = "preparing", _("Preparing")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")


# from → the statuses it may move to. Anything else raises IllegalTransition.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING_PAYMENT: frozenset({Status.PAID, Status.CANCELLED, Status.EXPIRED}),
    # a paid order ends by a refund (the payments layer moves the money, then `follow_refund`), never by
    # a bare cancel that would leave the buyer's money with the shop
    Status.PAID: frozenset({Status.PREPARING, Status.REFUNDED, Status.PARTIALLY_REFUNDED}),
    Status.PREPARING: frozenset({Status.SHIPPED, Status.REFUNDED, Status.PARTIALLY_REFUNDED}),
    Status.SHIPPED: frozenset({Status.DELIVERED, Status.REFUNDED, Status.PARTIALLY_REFUNDED}),
    Status.DELIVERED: frozenset({Status.REFUNDED, Status.PARTIALLY_REFUNDED}),
    Status.PARTIALLY_REFUNDED: frozenset({Status.REFUNDED, Status.PARTIALLY_REFUNDED}),
    Status.CANCELLED: frozenset(),
    Status.EXPIRED: frozenset(),
    Status.REFUNDED: frozenset(),
}
# The one answer to "did the buyer pay for this order?": money was captured for it (some or all of it
# may have gone back since). Reviews, restocking, auction wins and the payments layer all read this set.
PAID_STATUSES = frozenset({Status.PAID, Status.PREPARING, Status.SHIPPED, Status.DELIVERED,
                           Status.PARTIALLY_REFUNDED, Status.REFUNDED})
# Reached only by following a refund that moved money (`services.follow_refund`), never set by hand.
REFUND_STATUSES = frozenset({Status.REFUNDED, Status.PARTIALLY_REFUNDED})
# Leaving pending_payment for one of these gives the allocated stock back.
RELEASES_STOCK = {Status.CANCELLED, Status.EXPIRED}


class Kind(models.TextChoices):
    STORE = "store", _("Shop order")
    AUCTION = "auction", _("Auction win")


class Order(models.Model):
    number = models.CharField(_("order number"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.STORE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.PENDING_PAYMENT, db_index=True)
    currency = models.CharField(max_length=3, default="KRW")
    subtotal = models.PositiveBigIntegerField()
    shipping = models.PositiveBigIntegerField()
    total = models.PositiveBigIntegerField()
    # the shipping address, copied onto the order: editing an address book later never changes it.
    # Blank only on an auction win until the winner gives it at checkout (payment requires it).
    recipient = models.CharField(_("recipient"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    address1 = models.CharField(_("address"), max_length=200, blank=True)
    address2 = models.CharField(_("address details"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    payment_due_at = models.DateTimeField(db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    stock_released = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [models.CheckConstraint(condition=Q(total=models.F("subtotal") + models.F("shipping")), name="orders_total_adds_up")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_payable(self) -> bool:
        return self.status == Status.PENDING_PAYMENT and self.payment_due_at > timezone.now()

    @property
    def has_address(self) -> bool:
        return bool(self.recipient and self.phone and self.postcode and self.address1)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # empty on a line that isn't a catalog item (an auction lot: the auctions app points at its order)
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="order_lines", null=True, blank=True)
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="order_lines", null=True, blank=True)
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sold_lines")
    # what was bought, frozen at the time of the order
    product_name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64)
    attributes = models.JSONField(default=dict)
    unit_price = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField()
    line_total = models.PositiveBigIntegerField()
    # units given back to stock by refunds; never more than `quantity` (conditional UPDATE + CHECK)
    restocked = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_line_quantity_positive"),
            models.CheckConstraint(condition=Q(restocked__lte=models.F("quantity")), name="orders_line_restocked_le_quantity"),
        ]


class OrderEvent(models.Model):
    """The audit log of an order: append-only."""

    class Type(models.TextChoices):
        PLACED = "placed", _("Placed")
        STATUS = "status", _("Status changed")
        STOCK_RELEASED = "stock_released", _("Stock released")
        RESTOCKED = "restocked", _("Restocked")
        ADDRESS = "address", _("Address given")
        EMAIL_SENT = "email_sent", _("Email sent")
        NOTE = "note", _("Note")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=Type.choices)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
