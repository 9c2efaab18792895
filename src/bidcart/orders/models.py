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
PAID_STATUSES = frozenset(
    {Status.PAID, Status.PREPARING, Status.SHIPPED, Status.DELIVERED, Status.PARTIALLY_REFUNDED, Status.REFUNDED}
)
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
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.PENDING_PAYMENT, db_index=True
    )
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
    delivery_note = models.CharField(_("delivery note"), max_length=100, blank=True)  # 배송 요청사항, for the courier
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    payment_due_at = models.DateTimeField(db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # 구매확정: the buyer (or the sweep, ORDER_AUTO_CONFIRM_DAYS after delivery) confirmed receipt. Set once,
    # by a conditional UPDATE; reviews open from here.
    delivered_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(_("purchase confirmed at"), null=True, blank=True, db_index=True)
    stock_released = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.CheckConstraint(
                condition=Q(total=models.F("subtotal") + models.F("shipping")), name="orders_total_adds_up"
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_payable(self) -> bool:
        return self.status == Status.PENDING_PAYMENT and self.payment_due_at > timezone.now()

    @property
    def has_address(self) -> bool:
        return bool(self.recipient and self.phone and self.postcode and self.address1)


class SavedAddress(models.Model):
    """An address in the buyer's address book (배송지 목록), offered at checkout; at most one is the default
    (a partial unique constraint). An order copies the address, so editing the book never changes an order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses")
    recipient = models.CharField(_("recipient"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30)
    postcode = models.CharField(_("postcode"), max_length=10)
    address1 = models.CharField(_("address"), max_length=200)
    address2 = models.CharField(_("address details"), max_length=200, blank=True)
    delivery_note = models.CharField(_("delivery note"), max_length=100, blank=True)
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        verbose_name = _("saved address")
        verbose_name_plural = _("saved addresses")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(is_default=True), name="orders_one_default_address")
        ]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.postcode}) {self.address1} {self.address2}".strip()


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # empty on a line that isn't a catalog item (an auction lot: the auctions app points at its order)
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="order_lines", null=True, blank=True
    )
    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.PROTECT, related_name="order_lines", null=True, blank=True
    )
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
            models.CheckConstraint(
                condition=Q(restocked__lte=models.F("quantity")), name="orders_line_restocked_le_quantity"
            ),
        ]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")


class Shipment(models.Model):
    """One seller's part of an order: their lines travel together, with their own status, courier and
    tracking number. Each seller fulfils only their own shipment; the order's status follows its shipments
    (`services.order_status_from`)."""

    class Status(models.TextChoices):
        # the fulfilment steps, in order; the first is "paid, nothing done yet" (or not paid at all)
        NEW = "new", _("Not started")
        PREPARING = "preparing", _("Preparing")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    courier = models.CharField(_("courier"), max_length=20, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=30, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [models.UniqueConstraint(fields=["order", "seller"], name="orders_one_shipment_per_seller")]

    @property
    def tracking_url(self) -> str:
        from .couriers import tracking_url

        return tracking_url(self.courier, self.tracking_number)

    @property
    def courier_name(self) -> str:
        from .couriers import courier_name

        return courier_name(self.courier)


class OrderEvent(models.Model):
    """The audit log of an order: append-only."""

    class Type(models.TextChoices):
        PLACED = "placed", _("Placed")
        STATUS = "status", _("Status changed")
        STOCK_RELEASED = "stock_released", _("Stock released")
        RESTOCKED = "restocked", _("Restocked")
        ADDRESS = "address", _("Address given")
        EMAIL_SENT = "email_sent", _("Email sent")
        SHIPMENT = "shipment", _("Shipment updated")
        CONFIRMED = "confirmed", _("Purchase confirmed")
        NOTE = "note", _("Note")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=Type.choices)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")

    def _label(self, value: str) -> str:
        """A stored status in words: a shipment's step for a shipment event, the order's status otherwise."""
        choices = Shipment.Status if self.type == self.Type.SHIPMENT else Status
        try:
            return str(choices(value).label) if value else ""
        except ValueError:
            return value

    @property
    def from_label(self) -> str:
        return self._label(self.from_status)

    @property
    def to_label(self) -> str:
        return self._label(self.to_status)
