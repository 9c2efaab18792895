"""Cart reads: the current cart of a request (without creating one) and its priced summary."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Sum

from .models import Cart, CartItem

SESSION_KEY = "cart_token"


def current_cart(request) -> Cart | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(user=user).first()
    token = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    return Cart.objects.filter(token=token, user__isnull=True).first() if token else None


def item_count(request) -> int:
    """Units in the cart, one query (none for a visitor who never added anything)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        rows = CartItem.objects.filter(cart__user=user)
    else:
        token = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if not token:
            return 0
        rows = CartItem.objects.filter(cart__token=token)
    return rows.aggregate(n=Sum("quantity"))["n"] or 0


@dataclass
class Line:
    item: CartItem
    unit_price: int
    line_total: int
    available: bool
    problem: str = ""

    @property
    def variant(self):
        return self.item.variant

    @property
    def product(self):
        return self.item.variant.product


@dataclass
class Summary:
    cart: Cart | None
    lines: list[Line] = field(default_factory=list)
    total: int = 0
    currency: str = "KRW"
    count: int = 0

    @property
    def orderable(self) -> bool:
        return bool(self.lines) and all(line.available for line in self.lines)

    @property
    def any_available(self) -> bool:
        return any(line.available for line in self.lines)


def items(cart: Cart | None, variant_ids=None):
    if cart is None:
        return CartItem.objects.none()
    qs = CartItem.objects.filter(cart=cart)
    if variant_ids is not None:
        qs = qs.filter(variant_id__in=variant_ids)
    return qs.select_related("variant__product").order_by("added_at", "id")


def chosen_variants(values) -> list[int] | None:
    """The cart lines a checkout is for, as variant ids from a query (`?variant=3&variant=7`); None (every
    line) when nothing usable was chosen."""
    ids = [int(v) for v in values if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) < 12]
    return ids or None


def summary(cart: Cart | None, variant_ids=None) -> Summary:
    """Prices come from the catalog now (never from the cart or the browser); one query. With
    `variant_ids`, only those lines (a checkout of some of the cart)."""
    from django.utils.translation import gettext as _

    result = Summary(cart=cart)
    for item in items(cart, variant_ids):
        variant = item.variant
        problem = ""
        if not variant.product.active:
            problem = _("This product is no longer sold.")
        elif variant.stock < item.quantity:
            problem = _("Only %(stock)d left.") % {"stock": variant.stock} if variant.stock else _("Sold out.")
        line_total = variant.price * item.quantity
        result.lines.append(Line(item, variant.price, line_total, available=not problem, problem=problem))
        result.total += line_total
        result.count += item.quantity
        result.currency = variant.product.currency
    return result
