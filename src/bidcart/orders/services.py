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
from django.utils.translation import gettext_lazy as _lazy

from bidcart.cart.models import Cart, CartItem
from bidcart.catalog import cache as catalog_cache
from bidcart.catalog.models import Product, Variant
from bidcart.core import numbers
from bidcart.core.domain import Conflict, DomainError, Invalid, NotFound
from bidcart.core.locks import claim
from bidcart.core.mail import send_user_email
from bidcart.core.site import absolute_url

from . import couriers
from .models import (
    PAID_STATUSES,
    REFUND_STATUSES,
    RELEASES_STOCK,
    TRANSITIONS,
    Kind,
    Order,
    OrderEvent,
    OrderLine,
    SavedAddress,
    Shipment,
    Status,
)
from .shipping import shipping_fee  # noqa: F401  (callers read it here too)

logger = logging.getLogger(__name__)

NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
NUMBER_LENGTH = 16  # 80 random bits


class IllegalTransition(Conflict):
    code = "illegal_transition"


def payment_window() -> timedelta:
    return timedelta(minutes=settings.ORDER_PAYMENT_WINDOW_MINUTES)


def new_number() -> str:
    return "BC" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def _event(order, type_, *, from_status="", to_status="", actor=None, note="") -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        type=type_,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        note=note[:500],
    )


# --- placing --------------------------------------------------------------------------------------

ADDRESS_FIELDS = ("recipient", "phone", "postcode", "address1", "address2", "delivery_note")
OPTIONAL_ADDRESS_FIELDS = ("address2", "delivery_note")


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
    missing = [k for k in ADDRESS_FIELDS if k not in OPTIONAL_ADDRESS_FIELDS and not address[k]]
    if missing:
        raise Invalid(_("The shipping address is incomplete."), code="address_incomplete")
    return address


def create_order(
    user,
    *,
    lines: list[NewLine],
    currency: str,
    shipping: int,
    payment_due_at: datetime,
    address: dict | None = None,
    kind: str = Kind.STORE,
    now: datetime | None = None,
    notify: bool = True,
) -> Order:
    """Write an order awaiting payment with its lines. The caller holds the transaction and has already
    secured what is sold (stock for a cart, the closed lot for an auction win)."""
    now = now or timezone.now()
    subtotal = sum(line.unit_price * line.quantity for line in lines)
    if (
        subtotal + shipping > numbers.MAX_AMOUNT
    ):  # never an overflowing write (a 500): one clear refusal, all rolled back
        raise Invalid(
            _("This order is larger than the shop can take in one payment. Order fewer items."), code="order_too_large"
        )
    order = Order.objects.create(
        number=new_number(),
        kind=kind,
        user=user,
        currency=currency,
        subtotal=subtotal,
        shipping=shipping,
        total=subtotal + shipping,
        payment_due_at=payment_due_at,
        created_at=now,
        **(address or {}),
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product=line.product,
                variant=line.variant,
                seller_id=line.seller_id,
                product_name=line.product_name,
                sku=line.sku,
                attributes=line.attributes,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.unit_price * line.quantity,
            )
            for line in lines
        ]
    )
    # one shipment per seller: each fulfils their own lines
    Shipment.objects.bulk_create(
        [Shipment(order=order, seller_id=seller_id) for seller_id in sorted({l.seller_id for l in lines})]
    )
    _event(order, OrderEvent.Type.PLACED, to_status=Status.PENDING_PAYMENT, actor=user)
    if kind == Kind.STORE and notify:  # an auction win has its own "you won" email, a subscription its own
        transaction.on_commit(lambda: send_order_email(order.pk, "placed"))
    return order


def place_order(user, *, shipping_address: dict, variant_ids: list[int] | None = None) -> Order:
    """Turn the user's cart into an order awaiting payment, allocating stock for every line or none.
    With `variant_ids`, only those lines of the cart are ordered (buy some, keep the rest in the cart)."""
    address = clean_address(shipping_address)
    with transaction.atomic():
        cart = Cart.objects.select_for_update().filter(user=user).first()  # one checkout per cart at a time
        chosen = CartItem.objects.filter(cart=cart)
        if variant_ids is not None:
            chosen = chosen.filter(variant_id__in=variant_ids)
        items = list(chosen.select_related("variant__product").order_by("variant_id")) if cart else []
        if not items:
            raise Invalid(_("Your cart is empty."), code="cart_empty")
        currencies = {i.variant.product.currency for i in items}
        if len(currencies) != 1:
            raise Invalid(_("All items of an order must be in one currency."), code="currency_mismatch")
        for item in items:
            if not item.variant.product.active:
                raise Conflict(
                    _("%(name)s is no longer sold; remove it from your cart.") % {"name": str(item.variant)},
                    code="variant_unavailable",
                )
            allocated = Variant.objects.filter(pk=item.variant_id, stock__gte=item.quantity).update(
                stock=F("stock") - item.quantity
            )
            if not allocated:  # raising rolls back every line allocated so far
                left = Variant.objects.filter(pk=item.variant_id).values_list("stock", flat=True).first() or 0
                error = Conflict(
                    _("Only %(stock)d of %(name)s left; you asked for %(wanted)d. Update your cart and try again.")
                    % {"stock": left, "name": str(item.variant), "wanted": item.quantity}
                    if left
                    else _("%(name)s just sold out. Remove it from your cart to continue.")
                    % {"name": str(item.variant)},
                    code="insufficient_stock",
                )
                raise error
        # prices are read now, under the row locks the UPDATEs took: never from the cart or the browser
        prices = dict(Variant.objects.filter(pk__in=[i.variant_id for i in items]).values_list("pk", "price"))
        subtotal = sum(prices[i.variant_id] * i.quantity for i in items)
        currency = currencies.pop()
        now = timezone.now()
        order = create_order(
            user,
            currency=currency,
            shipping=shipping_fee(subtotal, currency),
            payment_due_at=now + payment_window(),
            address=address,
            now=now,
            lines=[
                NewLine(
                    product=i.variant.product,
                    variant=i.variant,
                    seller_id=i.variant.product.seller_id,
                    product_name=i.variant.product.name,
                    sku=i.variant.sku,
                    attributes=i.variant.attributes,
                    unit_price=prices[i.variant_id],
                    quantity=i.quantity,
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
        CartItem.objects.filter(pk__in=[i.pk for i in items]).delete()  # what was not chosen stays in the cart
    return order


def place_standing_order(
    user, *, variant_id: int, quantity: int, shipping_address: dict, payment_due_at: datetime
) -> Order:
    """One line of one variant, ordered without a cart (a subscription's cycle): stock allocated by the same
    conditional UPDATE as a checkout, at today's price. The caller holds the transaction. Refuses with
    `insufficient_stock` or `variant_unavailable`; no "placed" email (the caller tells the buyer)."""
    address = clean_address(shipping_address)
    variant = Variant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None or not variant.product.active:
        raise DomainError(_("This item is no longer sold."), code="variant_unavailable")
    if not Variant.objects.filter(pk=variant_id, stock__gte=quantity).update(stock=F("stock") - quantity):
        raise DomainError(_("%(name)s is out of stock.") % {"name": str(variant)}, code="insufficient_stock")
    price = Variant.objects.filter(pk=variant_id).values_list("price", flat=True).get()  # under the UPDATE's lock
    product = variant.product
    order = create_order(
        user,
        currency=product.currency,
        shipping=shipping_fee(price * quantity, product.currency),
        payment_due_at=payment_due_at,
        address=address,
        notify=False,
        lines=[
            NewLine(
                product=product,
                variant=variant,
                seller_id=product.seller_id,
                product_name=product.name,
                sku=variant.sku,
                attributes=variant.attributes,
                unit_price=price,
                quantity=quantity,
            )
        ],
    )
    Product.objects.filter(pk=product.pk).update(sold_count=F("sold_count") + quantity)
    catalog_cache.changed()
    return order


def set_shipping_address(user, order: Order, shipping_address: dict) -> Order:
    """The buyer gives (or corrects) the address while the order still awaits payment, e.g. an auction win."""
    if order.user_id != user.pk:
        raise NotFound(_("No such order."), code="not_found")
    address = clean_address(shipping_address)
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, status=Status.PENDING_PAYMENT).update(
            **address, updated_at=timezone.now()
        ):
            raise IllegalTransition(_("The address can only change while the order awaits payment."))
        _event(order, OrderEvent.Type.ADDRESS, actor=user)
    order.refresh_from_db()
    return order


# --- the address book -----------------------------------------------------------------------------

MAX_SAVED_ADDRESSES = 20


def _own_address(user, pk) -> SavedAddress:
    address = SavedAddress.objects.filter(user=user, pk=pk).first()
    if address is None:
        raise NotFound(_("No such address."), code="not_found")
    return address


def _make_default(user, address: SavedAddress) -> None:
    """The caller holds the user's address rows locked: clear the old default, then set the new one."""
    SavedAddress.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
    SavedAddress.objects.filter(pk=address.pk).update(is_default=True)
    address.is_default = True


def save_address(user, shipping_address: dict, *, default: bool = False) -> SavedAddress:
    """Keep an address in the user's book (the same address twice is kept once). The first one is the
    default. The user's rows are locked so two saves can't both become the default."""
    address = clean_address(shipping_address)
    with transaction.atomic():
        mine = list(SavedAddress.objects.select_for_update().filter(user=user))
        same = next((a for a in mine if all(getattr(a, k) == address[k] for k in ADDRESS_FIELDS)), None)
        if same is None:
            if len(mine) >= MAX_SAVED_ADDRESSES:
                raise Conflict(_("Your address book is full; delete an address first."), code="too_many_addresses")
            same = SavedAddress.objects.create(user=user, **address)
        if default or not any(a.is_default for a in mine if a.pk != same.pk):
            _make_default(user, same)
    return same


def update_address(user, pk, changes: dict) -> SavedAddress:
    with transaction.atomic():
        list(SavedAddress.objects.select_for_update().filter(user=user))
        address = _own_address(user, pk)
        fields = clean_address({**{k: getattr(address, k) for k in ADDRESS_FIELDS}, **changes})
        SavedAddress.objects.filter(pk=address.pk).update(**fields)
        if changes.get("is_default"):
            _make_default(user, address)
    address.refresh_from_db()
    return address


def set_default_address(user, pk) -> SavedAddress:
    with transaction.atomic():
        list(SavedAddress.objects.select_for_update().filter(user=user))
        address = _own_address(user, pk)
        _make_default(user, address)
    return address


def delete_address(user, pk) -> None:
    """Delete an address; if it was the default, the newest remaining one becomes the default."""
    with transaction.atomic():
        list(SavedAddress.objects.select_for_update().filter(user=user))
        address = _own_address(user, pk)
        address.delete()
        if address.is_default:
            newest = SavedAddress.objects.filter(user=user).order_by("-created_at", "-id").first()
            if newest:
                _make_default(user, newest)


# --- status pipeline ------------------------------------------------------------------------------


def transition(order: Order, to: str, *, actor=None, note: str = "") -> Order:
    """Move `order` to status `to` if the transition table allows it from its current status.

    The UPDATE is conditional on the status we read, so two racing callers (a payment webhook and the
    expiry sweep, say) can't both win: the loser gets `status_changed`.
    """
    to = Status(to)
    current = Order.objects.filter(pk=order.pk).values_list("status", flat=True).first()
    if current is None:
        raise NotFound(_("No such order."), code="not_found")
    if to not in TRANSITIONS[Status(current)]:
        raise IllegalTransition(
            _("An order that is %(current)s cannot become %(to)s.") % {"current": Status(current).label, "to": to.label}
        )
    now = timezone.now()
    changes = {"status": to, "updated_at": now}
    if to == Status.PAID:
        changes["paid_at"] = now
    if to == Status.DELIVERED:
        changes["delivered_at"] = now
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, status=current).update(**changes):
            raise Conflict(_("The order changed meanwhile; reload it and try again."), code="status_changed")
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
        _event(
            order,
            OrderEvent.Type.RESTOCKED,
            actor=actor,
            note=", ".join(f"{lines[pk].sku}×{n}" for pk, n in done.items()),
        )
    return done


def extend_payment_window(order: Order, until: datetime, *, note: str = "") -> bool:
    """Keep an unpaid order (and its stock) reserved until `until`, e.g. while a bank deposit into an
    issued virtual account is awaited. Only ever lengthens the window; a conditional UPDATE."""
    changed = Order.objects.filter(pk=order.pk, status=Status.PENDING_PAYMENT, payment_due_at__lt=until).update(
        payment_due_at=until, updated_at=timezone.now()
    )
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
        raise NotFound(_("No such order."), code="not_found")
    if order.status != Status.PENDING_PAYMENT:
        raise IllegalTransition(_("Only an order awaiting payment can be cancelled here; contact the seller."))
    return transition(order, Status.CANCELLED, actor=user, note="cancelled by the buyer")


# --- fulfilment: a shipment per seller -----------------------------------------------------------

S = Shipment.Status
# A shipment's steps in order, and the order status each one means when every shipment has reached it.
STEPS = [S.NEW, S.PREPARING, S.SHIPPED, S.DELIVERED]
ORDER_STATUS_AT = {
    S.NEW: Status.PAID,
    S.PREPARING: Status.PREPARING,
    S.SHIPPED: Status.SHIPPED,
    S.DELIVERED: Status.DELIVERED,
}
# Where a seller may move their shipment from each step: 발송 straight from "not started" is allowed
# (many shops pack and ship the same day); never backwards.
SHIPMENT_STEPS: dict[str, tuple] = {
    S.NEW: (S.PREPARING, S.SHIPPED),
    S.PREPARING: (S.SHIPPED,),
    S.SHIPPED: (S.DELIVERED,),
    S.DELIVERED: (),
}
# What the seller's choices say (an action, in words): "발송" rather than the state's "발송됨".
STEP_ACTIONS = {
    S.PREPARING: _lazy("Start preparing"),
    S.SHIPPED: _lazy("Mark shipped"),
    S.DELIVERED: _lazy("Mark delivered"),
}
# Order statuses in which shipments move (an unpaid, cancelled or fully refunded order's stay where they
# are). A partly refunded order still has goods to send; its status is then the refunds' to decide.
FULFILLING = (Status.PAID, Status.PREPARING, Status.SHIPPED, Status.PARTIALLY_REFUNDED)
PIPELINE = [Status.PAID, Status.PREPARING, Status.SHIPPED, Status.DELIVERED]


def order_status_from(shipment_statuses) -> str:
    """The order is as far as its least advanced shipment; once any seller has started, it is preparing."""
    statuses = list(shipment_statuses)
    least = min(statuses, key=STEPS.index)
    if least == S.NEW and any(s != S.NEW for s in statuses):
        return Status.PREPARING
    return ORDER_STATUS_AT[least]


def _follow_shipments(order: Order, *, actor=None) -> Order:
    """Walk the order along PIPELINE, one legal transition at a time, to where its shipments say it is.
    The caller holds the order's row lock."""
    target = order_status_from(Shipment.objects.filter(order=order).values_list("status", flat=True))
    while order.status in PIPELINE and PIPELINE.index(order.status) < PIPELINE.index(target):
        order = transition(order, PIPELINE[PIPELINE.index(order.status) + 1], actor=actor)
    return order


def _shipping_details(courier: str, tracking_number: str) -> dict:
    number = couriers.clean_tracking_number(tracking_number)
    if courier not in couriers.COURIERS or not couriers.TRACKING_RE.match(number):
        raise Invalid(
            _("Choose the courier and enter the tracking number (10 to 14 digits) to mark it shipped."),
            code="tracking_required",
        )
    return {"courier": courier, "tracking_number": number}


def update_shipment(seller, order: Order, to: str, *, courier: str = "", tracking_number: str = "") -> Shipment:
    """A seller moves their own shipment of `order` one step on (발송 needs a courier and a tracking
    number), and the order follows. The order's row lock serialises sellers of the same order, and the
    shipment's UPDATE is conditional on the status read, so two clicks never apply a step twice."""
    try:
        to = S(to)
    except ValueError:
        raise Invalid(_("Unknown status."), code="status_invalid") from None
    details = _shipping_details(courier, tracking_number) if to == S.SHIPPED else {}
    with transaction.atomic():
        locked = Order.objects.select_for_update().filter(pk=order.pk).first()
        shipment = Shipment.objects.filter(order=locked, seller=seller).first() if locked else None
        if shipment is None:
            raise NotFound(_("No such order."), code="not_found")
        if locked.status not in FULFILLING or to not in SHIPMENT_STEPS[shipment.status]:
            raise IllegalTransition(
                _("This shipment is %(current)s; it cannot become %(to)s now.")
                % {"current": S(shipment.status).label, "to": to.label}
                if locked.status in FULFILLING
                else _("Sellers can only fulfil an order once it is paid.")
            )
        now = timezone.now()
        changes = {"status": to, "updated_at": now, **details}
        if to == S.SHIPPED:
            changes["shipped_at"] = now
        if to == S.DELIVERED:
            changes["delivered_at"] = now
        if not Shipment.objects.filter(pk=shipment.pk, status=shipment.status).update(**changes):
            raise Conflict(_("The order changed meanwhile; reload it and try again."), code="status_changed")
        _event(
            locked,
            OrderEvent.Type.SHIPMENT,
            from_status=shipment.status,
            to_status=to,
            actor=seller,
            note=f"{couriers.courier_name(details['courier'])} {details['tracking_number']}" if details else "",
        )
        _follow_shipments(locked, actor=seller)
    shipment.refresh_from_db()
    return shipment


def _carry_shipments(order: Order, to: str) -> None:
    """Staff moved the whole order along: shipments behind it come along (staff act for every seller)."""
    if to not in PIPELINE[1:]:
        return
    step = next(k for k, v in ORDER_STATUS_AT.items() if v == to)
    behind = STEPS[: STEPS.index(step)]
    now = timezone.now()
    stamps = {"shipped_at": now} if step == S.SHIPPED else {"delivered_at": now} if step == S.DELIVERED else {}
    Shipment.objects.filter(order=order, status__in=behind).update(status=step, updated_at=now, **stamps)


def advance(actor, order: Order, to: str, *, courier: str = "", tracking_number: str = "") -> Order:
    """A seller moves their own shipment of the order; staff may make any legal transition of the whole
    order (and its shipments follow)."""
    if to not in Status.values:
        raise Invalid(_("Unknown status."), code="status_invalid")
    sells_here = actor.is_seller and Shipment.objects.filter(order=order, seller=actor).exists()
    if sells_here and (to in S.values or not actor.is_staff):
        if to not in S.values:
            raise IllegalTransition(_("Sellers can only mark their shipment preparing, shipped or delivered."))
        update_shipment(actor, order, to, courier=courier, tracking_number=tracking_number)
        order.refresh_from_db()
        return order
    if not actor.is_staff:
        raise NotFound(_("No such order."), code="not_found")
    if to in REFUND_STATUSES:
        raise IllegalTransition(_("An order is refunded by refunding its payment; its status follows the money."))
    with transaction.atomic():
        order = transition(order, to, actor=actor)
        _carry_shipments(order, to)
    return order


# --- 구매확정: the buyer confirms receipt -------------------------------------------------------------

CONFIRMABLE = (Status.SHIPPED, Status.DELIVERED)


def _confirm(order: Order, *, now, actor=None, note: str) -> bool:
    if not Order.objects.filter(pk=order.pk, confirmed_at__isnull=True, status=Status.DELIVERED).update(
        confirmed_at=now, updated_at=now
    ):
        return False
    order.confirmed_at = now
    _event(order, OrderEvent.Type.CONFIRMED, actor=actor, note=note)
    return True


def confirm_purchase(user, order: Order) -> Order:
    """The buyer says the goods arrived. A shipped order becomes delivered on the way (the buyer knows
    better than a seller who forgot to say so). Once only; reviews open from here."""
    if order.user_id != user.pk:
        raise NotFound(_("No such order."), code="not_found")
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.confirmed_at:
            raise Conflict(_("You have already confirmed this purchase."), code="already_confirmed")
        if locked.status not in CONFIRMABLE:
            raise IllegalTransition(_("You can confirm the purchase once the order has been shipped."))
        if locked.status == Status.SHIPPED:
            _carry_shipments(locked, Status.DELIVERED)
            locked = transition(locked, Status.DELIVERED, actor=user, note="received, said the buyer")
        _confirm(locked, now=timezone.now(), actor=user, note="by the buyer")
    order.refresh_from_db()
    return order


def auto_confirm_delivered(now=None, batch: int = 200) -> int:
    """구매확정 for orders delivered ORDER_AUTO_CONFIRM_DAYS ago that the buyer never confirmed. Idempotent:
    the conditional UPDATE sets `confirmed_at` once, and rows are claimed with SKIP LOCKED."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ORDER_AUTO_CONFIRM_DAYS)
    confirmed = 0
    with transaction.atomic():
        due = claim(
            Order.objects.filter(status=Status.DELIVERED, confirmed_at__isnull=True, delivered_at__lte=cutoff).order_by(
                "delivered_at"
            )
        )
        for order in list(due[:batch]):
            confirmed += _confirm(order, now=now, note="automatically")
    return confirmed


# --- expiry ---------------------------------------------------------------------------------------


def expire_unpaid(now=None, batch: int = 200) -> int:
    """Expire orders still unpaid after their payment window and release their stock. Safe to run twice
    at once: rows are claimed with SKIP LOCKED on PostgreSQL, and each transition is conditional anyway."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        due = claim(
            Order.objects.filter(status=Status.PENDING_PAYMENT, payment_due_at__lte=now).order_by("payment_due_at")
        )
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
    shipments = list(order.shipments.exclude(tracking_number="")) if kind == "shipped" else []
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "kind": kind,
        "shipments": shipments,
        "order_url": absolute_url(reverse("orders:detail", args=[order.number])),
    }
    if not send_user_email(order.user, f"orders/email/{kind}", context):
        return
    _event(order, OrderEvent.Type.EMAIL_SENT, note=kind)
