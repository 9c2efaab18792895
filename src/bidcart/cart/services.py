"""Every cart write, transactional. A cart row is locked (select_for_update) while its items change, so
two tabs adding at once can't lose an update; quantities beyond stock are refused."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bidcart.catalog.models import Variant
from bidcart.core.domain import Conflict, DomainError, Invalid, NotFound

from .models import Cart, CartItem
from .selectors import SESSION_KEY

MAX_QUANTITY = 99
STALE_ANONYMOUS_CART_DAYS = 30


def _user_cart(user) -> Cart:
    cart = Cart.objects.filter(user=user).first()
    if cart is not None:
        return cart
    try:
        with transaction.atomic():
            return Cart.objects.create(user=user)
    except IntegrityError:  # another request created it first
        return Cart.objects.get(user=user)


def cart_for(request, *, create: bool = True) -> Cart | None:
    """The request's cart: the user's when signed in, else the visitor's (token in the session)."""
    user = request.user
    if user.is_authenticated:
        return _user_cart(user) if create else Cart.objects.filter(user=user).first()
    token = request.session.get(SESSION_KEY)
    cart = Cart.objects.filter(token=token, user__isnull=True).first() if token else None
    if cart is None and create:
        cart = Cart.objects.create(token=secrets.token_urlsafe(32))
        request.session[SESSION_KEY] = cart.token
    return cart


def _stock_error(variant: Variant, wanted: int) -> DomainError:
    if variant.stock <= 0:
        detail = _("%(name)s is sold out.") % {"name": str(variant)}
    else:
        detail = _("Only %(stock)d of %(name)s left; you asked for %(wanted)d.") % {
            "stock": variant.stock,
            "name": str(variant),
            "wanted": wanted,
        }
    error = Conflict(detail, code="insufficient_stock")
    error.available = variant.stock
    return error


def _check_quantity(quantity) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid(
            _("Quantity must be between 1 and %(max)d.") % {"max": MAX_QUANTITY},
            code="quantity_invalid",
        )
    return quantity


def _lock(cart: Cart) -> Cart:
    return Cart.objects.select_for_update().get(pk=cart.pk)


def _sellable(variant_id: int) -> Variant:
    variant = Variant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None or not variant.product.active:
        raise Invalid(_("This product is not available."), code="variant_unavailable")
    return variant


def add_item(cart: Cart, variant_id: int, quantity: int = 1) -> CartItem:
    """Add `quantity` of a variant (adding to what is already in the cart), within stock."""
    _check_quantity(quantity)
    with transaction.atomic():
        cart = _lock(cart)
        variant = _sellable(variant_id)
        existing = list(CartItem.objects.filter(cart=cart).select_related("variant__product"))
        if any(i.variant.product.currency != variant.product.currency for i in existing):
            raise Invalid(
                _("Your cart holds items priced in another currency; check out or remove them first."),
                code="currency_mismatch",
            )
        item = next((i for i in existing if i.variant_id == variant.pk), None)
        wanted = quantity + (item.quantity if item else 0)
        if wanted > MAX_QUANTITY:
            _check_quantity(wanted)
        if wanted > variant.stock:
            raise _stock_error(variant, wanted)
        if item is None:
            item = CartItem.objects.create(cart=cart, variant=variant, quantity=wanted)
        else:
            item.quantity = wanted
            item.save(update_fields=["quantity"])
        Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return item


def _item(cart: Cart, item_id) -> CartItem:
    item = CartItem.objects.select_related("variant__product").filter(cart=cart, pk=item_id).first()
    if item is None:  # another cart's item is "not found", never "forbidden"
        raise NotFound(_("No such item in your cart."), code="not_found")
    return item


def set_quantity(cart: Cart, item_id: int, quantity: int) -> CartItem:
    _check_quantity(quantity)
    with transaction.atomic():
        cart = _lock(cart)
        item = _item(cart, item_id)
        if quantity > item.variant.stock:
            raise _stock_error(item.variant, quantity)
        item.quantity = quantity
        item.save(update_fields=["quantity"])
        Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return item


def remove_item(cart: Cart, item_id: int) -> None:
    with transaction.atomic():
        cart = _lock(cart)
        _item(cart, item_id).delete()
        Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())


def clear(cart: Cart) -> None:
    with transaction.atomic():
        CartItem.objects.filter(cart=cart).delete()


@dataclass
class MergeResult:
    moved: int = 0  # cart lines that came over from the visitor's cart
    notes: list[str] = field(default_factory=list)  # what the visitor should be told


def merge_into_user(token: str | None, user) -> MergeResult:
    """Move a visitor's cart into the user's cart after login. Same variant: quantities add, capped at
    the stock. Returns how many lines came over and a sentence per change the visitor should hear of.

    Safe under concurrent logins: the anonymous cart is locked first (a second merge of the same cart
    finds it gone), then the user's cart; no other path locks two carts, so no deadlock.
    """
    result = MergeResult()
    notes = result.notes
    if not token:
        return result
    with transaction.atomic():
        anon = Cart.objects.select_for_update().filter(token=token, user__isnull=True).first()
        if anon is None:
            return result
        anon_items = list(CartItem.objects.filter(cart=anon).select_related("variant__product"))
        if not anon_items:
            anon.delete()
            return result
        cart = _lock(_user_cart(user))
        mine = {i.variant_id: i for i in CartItem.objects.filter(cart=cart)}
        for incoming in anon_items:
            variant = incoming.variant
            name = str(variant)
            if not variant.product.active or variant.stock <= 0:
                notes.append(_("%(name)s is no longer available and was left out of your cart.") % {"name": name})
                continue
            current = mine.get(variant.pk)
            wanted = incoming.quantity + (current.quantity if current else 0)
            quantity = min(wanted, variant.stock, MAX_QUANTITY)
            result.moved += 1
            if current is None:
                CartItem.objects.create(cart=cart, variant=variant, quantity=quantity, added_at=incoming.added_at)
            else:
                current.quantity = quantity
                current.save(update_fields=["quantity"])
                notes.append(
                    _("%(name)s was already in your cart: you now have %(quantity)d.")
                    % {"name": name, "quantity": quantity}
                )
            if quantity < wanted:
                notes.append(
                    _("Only %(stock)d of %(name)s left, so your cart holds %(quantity)d.")
                    % {"stock": variant.stock, "name": name, "quantity": quantity}
                )
        anon.delete()
        Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return result


def purge_stale_anonymous_carts(days: int = STALE_ANONYMOUS_CART_DAYS, batch: int = 500) -> int:
    """Delete visitors' carts untouched for `days`. Idempotent; two runs at once just race to delete."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(Cart.objects.filter(user__isnull=True, updated_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += (
                Cart.objects.filter(pk__in=ids, user__isnull=True, updated_at__lt=cutoff)
                .delete()[1]
                .get("cart.Cart", 0)
            )
