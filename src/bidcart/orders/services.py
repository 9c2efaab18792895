"""Every order write: one function per use case, transactional.

Placing an order allocates stock with a conditional UPDATE per line
(`UPDATE variant SET stock = stock - n WHERE id = … AND stock >= n`) inside one transaction: if any line
can't be had, the whole order rolls back. Concurrent buyers therefore never oversell and stock never goes
negative (a CHECK constraint backs that up). Lines are allocated in variant-id order so two orders
sharing variants can't deadlock. Status changes go through `transition()`, which checks the transition
table and applies the change with a conditional UPDATE on the current status (exactly once under races).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status as http

from bidcart.cart.models import Cart, CartItem
from bidcart.catalog import cache as catalog_cache
from bidcart.catalog.models import Product, Variant
from bidcart.core.errors import DomainError
from bidcart.core.locks import claim
from bidcart.core.mail import send_user_email
from bidcart.core.site import absolute_url

from .models import PAID_STATUSES, REFUND_STATUSES, RELEASES_STOCK, TRANSITIONS, Kind, Order, OrderEvent, OrderLine, Status

logger = logging.getLogger(__name__)

NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
NUMBER_LENGTH = 16  # 80 random bits


class IllegalTransition(DomainError):
    status_code = http.HTTP_409_CONFLICT
    code = "illegal_transition"


def payment_window() -> timedelta:
    return timedelta(minutes=settings.ORDER_PAYMENT_WINDOW_MINUTES)


def shipping_fee(subtotal: int, currency: str) -> int:
    """Flat fee, free from a threshold (KRW defaults: ₩3,000, free from ₩50,000)."""
    fee = settings.ORDER_SHIPPING_FEE
    free_from = settings.ORDER_FREE_SHIPPING_FROM
    return 0 if subtotal >= free_from else fee


def new_number() -> str:
    return "BC" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def _event(order, type_, *, from_status="", to_status="", actor=None, note="") -> OrderEvent:
    return OrderEvent.objects.create(
        order=order, type=type_, from_status=from_status, to_status=to_status,
        actor=actor if getattr(actor, "is_authenticated", False) else None, note=note[:500],
    )


# --- placing --------------------------------------------------------------------------------------

ADDRESS_FIELDS = ("recipient", "phone", "postcode", "address1", "address2")


@dataclass
class NewLine:
    """One line of an order being created, at the price the server decided."""

    product_name: str
    unit_price: int
    quantity: int
    seller_id: int
    product: Product | None = None
    variant: Variant | None = None
    sku: str = ""
    attributes: dict = field(default_factory=dict)


def clean_address(shipping_address: dict) -> dict:
    address = {k: (shipping_address.get(k) or "").strip() for k in ADDRESS_FIELDS}
    missing = [k for k in ADDRESS_FIELDS if k != "address2" and not address[k]]
    if missing:
        raise DomainError(_("The shipping address is incomplete."), code="address_incomplete", status_code=http.HTTP_400_BAD_REQUEST)
    return address


def create_order(
    user, *, lines: list[NewLine], currency: str, shipping: int, payment_due_at: datetime,
    address: dict | None = None, kind: str = Kind.STORE, now: datetime | None = None,
) -> Order:
    """Write an order awaiting payment with its lines. The caller holds the transaction and has already
    secured what is sold (stock for a cart, the closed lot for an auction win)."""
    now = now or timezone.now()
    subtotal = sum(line.unit_price * line.quantity for line in lines)
    order = Order.objects.create(
        number=new_number(), kind=kind, user=user, currency=currency, subtotal=subtotal, shipping=shipping,
        total=subtotal + shipping, payment_due_at=payment_due_at, created_at=now, **(address or {}),
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order, product=line.product, variant=line.variant, seller_id=line.seller_id,
                product_name=line.product_name, sku=line.sku, attributes=line.attributes,
                unit_price=line.unit_price, quantity=line.quantity, line_total=line.unit_price * line.quantity,
            )
            for line in lines
        ]
    )
    _event(order, OrderEvent.Type.PLACED, to_status=Status.PENDING_PAYMENT, actor=user)
    if kind == Kind.STORE:  # an auction win has its own "you won" email from the auctions app
        transaction.on_commit(lambda: send_order_email(order.pk, "placed"))
    return order


def place_order(user, *, shipping_address: dict) -> Order:
    """Turn the user's cart into an order awaiting payment, allocating stock for every line or none."""
    address = clean_address(shipping_address)
    with transaction.atomic():
        cart = Cart.objects.select_for_update().filter(user=user).first()  # one checkout per cart at a time
        items = list(CartItem.objects.filter(cart=cart).select_related("variant__product").order_by("variant_id")) if cart else []
        if not items:
            raise DomainError(_("Your cart is empty."), code="cart_empty", status_code=http.HTTP_400_BAD_REQUEST)
        currencies = {i.variant.product.currency for i in items}
        if len(currencies) != 1:
            raise DomainError(_("All items of an order must be in one currency."), code="currency_mismatch", status_code=http.HTTP_400_BAD_REQUEST)
        for item in items:
            if not item.variant.product.active:
                raise DomainError(
                    _("%(name)s is no longer sold; remove it from your cart.") % {"name": str(item.variant)},
                    code="variant_unavailable",
                )
            allocated = Variant.objects.filter(pk=item.variant_id, stock__gte=item.quantity).update(stock=F("stock") - item.quantity)
            if not allocated:  # raising rolls back every line allocated so far
                left = Variant.objects.filter(pk=item.variant_id).values_list("stock", flat=True).first() or 0
                error = DomainError(
                    _("Only %(stock)d of %(name)s left; you asked for %(wanted)d. Update your cart and try again.")
                    % {"stock": left, "name": str(item.variant), "wanted": item.quantity}
                    if left
                    else _("%(name)s just sold out. Remove it from your cart to continue.") % {"name": str(item.variant)},
                    code="insufficient_stock",
                )
                raise error
        # prices are read now, under the row locks the UPDATEs took: never from the cart or the browser
        prices = dict(Variant.objects.filter(pk__in=[i.variant_id for i in items]).values_list("pk", "price"))
        subtotal = sum(prices[i.variant_id] * i.quantity for i in items)
        currency = currencies.pop()
        now = timezone.now()
        order = create_order(
            user, currency=currency, shipping=shipping_fee(subtotal, currency), payment_due_at=now + payment_window(),
            address=address, now=now,
            lines=[
                NewLine(
                    product=i.variant.product, variant=i.variant, seller_id=i.variant.product.seller_id,
                    product_name=i.variant.product.name, sku=i.variant.sku, attributes=i.variant.attributes,
                    unit_price=prices[i.variant_id], quantity=i.quantity,
                )
                for i in items
            ],
        )
        sold: dict[int, int] = {}
        for i in items:
            sold[i.variant.product_id] = sold.get(i.variant.product_id, 0) + i.quantity
        for product_id in sorted(sold):
            Product.objects.filter(pk=product_id).update(sold_count=F("sold_count") + sold[product_id])
        catalog_cache.changed()  # stock and sold counts moved by queryset updates, which send no signal
        CartItem.objects.filter(cart=cart).delete()
    return order


def set_shipping_address(user, order: Order, shipping_address: dict) -> Order:
    """The buyer gives (or corrects) the address while the order still awaits payment, e.g. an auction win."""
    if order.user_id != user.pk:
        raise DomainError(_("No such order."), code="not_found", status_code=http.HTTP_404_NOT_FOUND)
    address = clean_address(shipping_address)
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, status=Status.PENDING_PAYMENT).update(**address, updated_at=timezone.now()):
            raise IllegalTransition(_("The address can only change while the order awaits payment."))
        _event(order, OrderEvent.Type.ADDRESS, actor=user)
    order.refresh_from_db()
    return order


# --- status pipeline ------------------------------------------------------------------------------

def transition(order: Order, to: str, *, actor=None, note: str = "") -> Order:
    """Move `order` to status `to` if the transition table allows it from its current status.

    The UPDATE is conditional on the status we read, so two racing callers (a payment webhook and the
    expiry sweep, say) can't both win: the loser gets `status_changed`.
    """
    to = Status(to)
    current = Order.objects.filter(pk=order.pk).values_list("status", flat=True).first()
    if current is None:
        raise DomainError(_("No such order."), code="not_found", status_code=http.HTTP_404_NOT_FOUND)
    if to not in TRANSITIONS[Status(current)]:
        raise IllegalTransition(
            _("An order that is %(current)s cannot become %(to)s.") % {"current": Status(current).label, "to": to.label}
        )
    now = timezone.now()
    changes = {"status": to, "updated_at": now}
    if to == Status.PAID:
        changes["paid_at"] = now
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, status=current).update(**changes):
            raise DomainError(_("The order changed meanwhile; reload it and try again."), code="status_changed")
        _event(order, OrderEvent.Type.STATUS, from_status=current, to_status=to, actor=actor, note=note)
        if to in RELEASES_STOCK:
            _release_stock(order)
        if to in (Status.PAID, Status.SHIPPED):
            transaction.on_commit(lambda: send_order_email(order.pk, str(to)))
    order.refresh_from_db()
    return order


def _release_stock(order: Order) -> None:
    """Give the order's units back, once (the flag flips with a conditional UPDATE)."""
    if not Order.objects.filter(pk=order.pk, stock_released=False).update(stock_released=True):
        return
    lines = list(OrderLine.objects.filter(order=order, variant__isnull=False).order_by("variant_id"))
    _give_back(lines, {line.pk: line.quantity for line in lines})
    if lines:
        _event(order, OrderEvent.Type.STOCK_RELEASED, note=", ".join(f"{l.sku}×{l.quantity}" for l in lines))


def _give_back(lines: list[OrderLine], quantities: dict[int, int]) -> None:
    for line in sorted(lines, key=lambda l: l.variant_id):
        Variant.objects.filter(pk=line.variant_id).update(stock=F("stock") + quantities[line.pk])
    for line in sorted(lines, key=lambda l: l.product_id):
        Product.objects.filter(pk=line.product_id).update(sold_count=Greatest(F("sold_count") - quantities[line.pk], 0))
    if lines:
        catalog_cache.changed()  # units back on sale: "sold out" must not outlive them


def restock(order: Order, quantities: dict[int, int] | None = None, *, actor=None) -> dict[int, int]:
    """Put refunded units of a paid order back on sale: `quantities` maps line id → units (None: every
    unit not yet restocked). Each line's `restocked` counter moves by a conditional UPDATE, so two refunds
    can never restock a unit twice. Answers what was restocked."""
    if order.status not in PAID_STATUSES:
        return {}
    lines = {l.pk: l for l in OrderLine.objects.filter(order=order, variant__isnull=False)}
    wanted = quantities if quantities is not None else {pk: l.quantity - l.restocked for pk, l in lines.items()}
    done: dict[int, int] = {}
    for pk in sorted(wanted):
        n = int(wanted[pk])
        line = lines.get(pk)
        if line is None or n <= 0:
            continue
        if OrderLine.objects.filter(pk=pk, restocked__lte=F("quantity") - n).update(restocked=F("restocked") + n):
            done[pk] = n
    if done:
        _give_back([lines[pk] for pk in done], done)
        _event(order, OrderEvent.Type.RESTOCKED, actor=actor, note=", ".join(f"{lines[pk].sku}×{n}" for pk, n in done.items()))
    return done


def extend_payment_window(order: Order, until: datetime, *, note: str = "") -> bool:
    """Keep an unpaid order (and its stock) reserved until `until`, e.g. while a bank deposit into an
    issued virtual account is awaited. Only ever lengthens the window; a conditional UPDATE."""
    changed = Order.objects.filter(pk=order.pk, status=Status.PENDING_PAYMENT, payment_due_at__lt=until).update(
        payment_due_at=until, updated_at=timezone.now())
    if changed:
        order.payment_due_at = until
        _event(order, OrderEvent.Type.NOTE, note=(note or "payment window extended")[:500])
    return bool(changed)


def mark_paid(order: Order, *, actor=None, note: str = "") -> Order:
    """For the payments layer: the order's payment is captured."""
    return transition(order, Status.PAID, actor=actor, note=note)


def follow_refund(order: Order, *, fully: bool, note: str = "") -> Order:
    """For the payments layer, after money went back: a paid order becomes refunded (nothing kept) or
    partially refunded (each partial refund is logged as its own step). An order that was never paid, or
    is refunded already, stays as it is. The caller holds the order's row lock."""
    to = Status.REFUNDED if fully else Status.PARTIALLY_REFUNDED
    if order.status not in PAID_STATUSES or order.status == Status.REFUNDED:
        return order
    try:
        return transition(order, to, note=note)
    except DomainError:  # changed meanwhile: the refund stands, the order shows what it is now
        logger.warning("order %s could not follow a refund to %s", order.number, to)
        order.refresh_from_db()
        return order


def cancel_by_buyer(user, order: Order) -> Order:
    if order.user_id != user.pk:
        raise DomainError(_("No such order."), code="not_found", status_code=http.HTTP_404_NOT_FOUND)
    if order.status != Status.PENDING_PAYMENT:
        raise IllegalTransition(_("Only an order awaiting payment can be cancelled here; contact the seller."))
    return transition(order, Status.CANCELLED, actor=user, note="cancelled by the buyer")


# What sellers may do to an order with their items; staff may make any legal transition.
SELLER_STEPS = {(Status.PAID, Status.PREPARING), (Status.PREPARING, Status.SHIPPED), (Status.SHIPPED, Status.DELIVERED)}


def advance(actor, order: Order, to: str) -> Order:
    """Staff, or a seller with lines in the order, move it along the fulfilment pipeline."""
    try:
        to = Status(to)
    except ValueError:
        raise DomainError(_("Unknown status."), code="status_invalid", status_code=http.HTTP_400_BAD_REQUEST) from None
    if to in REFUND_STATUSES:
        raise IllegalTransition(_("An order is refunded by refunding its payment; its status follows the money."))
    if not actor.is_staff:
        is_seller = actor.is_seller and OrderLine.objects.filter(order=order, seller=actor).exists()
        if not is_seller:
            raise DomainError(_("No such order."), code="not_found", status_code=http.HTTP_404_NOT_FOUND)
        if (Status(order.status), to) not in SELLER_STEPS:
            raise IllegalTransition(_("Sellers can only move a paid order to preparing, shipped and delivered."))
    return transition(order, to, actor=actor)


# --- expiry ---------------------------------------------------------------------------------------

def expire_unpaid(now=None, batch: int = 200) -> int:
    """Expire orders still unpaid after their payment window and release their stock. Safe to run twice
    at once: rows are claimed with SKIP LOCKED on PostgreSQL, and each transition is conditional anyway."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        due = claim(Order.objects.filter(status=Status.PENDING_PAYMENT, payment_due_at__lte=now).order_by("payment_due_at"))
        orders = list(due[:batch])
        for order in orders:
            try:
                transition(order, Status.EXPIRED, note="payment window passed")
                expired += 1
            except DomainError:  # paid or cancelled meanwhile
                continue
    return expired


# --- emails ---------------------------------------------------------------------------------------

def send_order_email(order_id: int, kind: str) -> None:
    """An HTML + text email in the buyer's language. A mail failure is logged, never raised."""
    order = Order.objects.select_related("user").prefetch_related("lines").filter(pk=order_id).first()
    if order is None:
        return
    context = {"order": order, "lines": list(order.lines.all()), "kind": kind,
               "order_url": absolute_url(reverse("orders:detail", args=[order.number]))}
    if not send_user_email(order.user, f"orders/email/{kind}", context):
        return
    _event(order, OrderEvent.Type.EMAIL_SENT, note=kind)
