"""Every catalog write: one function per use case, transactional. Sellers manage only their own products."""

from __future__ import annotations

import secrets
import uuid

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from rest_framework import status

from bidcart.core.errors import DomainError

from . import cache as catalog_cache
from . import images
from .models import Category, Product, ProductImage, Variant, WishlistItem

PRODUCT_FIELDS = ("name", "description", "brand", "base_price", "currency", "active", "category")


def _require_seller(user) -> None:
    if not (getattr(user, "is_authenticated", False) and (user.is_seller or user.is_staff)):
        raise DomainError(_("Only sellers can manage products."), code="not_a_seller", status_code=status.HTTP_403_FORBIDDEN)


def _own(user, product: Product) -> None:
    if product.seller_id != user.pk and not user.is_staff:
        raise DomainError(_("This is not your product."), code="not_your_product", status_code=status.HTTP_404_NOT_FOUND)


def unique_slug(name: str) -> str:
    base = slugify(name, allow_unicode=True)[:200] or "product"
    slug = base
    while Product.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def create_category(*, name: str, slug: str = "", parent: Category | None = None, position: int = 0) -> Category:
    with transaction.atomic():
        return Category.objects.create(
            name=name, slug=slug or slugify(name, allow_unicode=True), parent=parent, position=position
        )


def create_product(seller, *, name: str, category: Category, base_price: int, description: str = "", brand: str = "",
                   currency: str = "KRW", active: bool = True, slug: str = "") -> Product:
    _require_seller(seller)
    with transaction.atomic():
        return Product.objects.create(
            seller=seller, name=name.strip(), slug=slug or unique_slug(name), category=category,
            base_price=base_price, description=description, brand=brand, currency=currency.upper(), active=active,
        )


def update_product(seller, product: Product, **changes) -> Product:
    _require_seller(seller)
    _own(seller, product)
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValueError(f"not product fields: {sorted(unknown)}")
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        for field, value in changes.items():
            setattr(product, field, value)
        product.save()
    return product


def add_variant(seller, product: Product, *, sku: str, price: int, stock: int = 0, attributes: dict | None = None) -> Variant:
    _require_seller(seller)
    _own(seller, product)
    if stock < 0:
        raise DomainError(_("Stock cannot be negative."), code="stock_negative", status_code=status.HTTP_400_BAD_REQUEST)
    try:
        with transaction.atomic():
            return Variant.objects.create(product=product, sku=sku.strip(), price=price, stock=stock, attributes=attributes or {})
    except IntegrityError:
        raise DomainError(_("A variant with this SKU already exists."), code="sku_taken", status_code=status.HTTP_400_BAD_REQUEST) from None


def set_stock(seller, variant: Variant, *, stock: int, expected: int | None = None) -> Variant:
    """Set a variant's stock. With `expected` (the stock the seller was looking at), the write only
    happens if nobody (an order, another tab) changed it meanwhile: a conditional UPDATE, no lost write."""
    _require_seller(seller)
    _own(seller, variant.product)
    if stock < 0:
        raise DomainError(_("Stock cannot be negative."), code="stock_negative", status_code=status.HTTP_400_BAD_REQUEST)
    with transaction.atomic():
        rows = Variant.objects.filter(pk=variant.pk)
        if expected is not None:
            rows = rows.filter(stock=expected)
        if not rows.update(stock=stock):
            raise DomainError(
                _("The stock changed while you were editing it (an order came in). Check the new figure and try again."),
                code="stock_changed",
            )
        catalog_cache.changed()  # a queryset update sends no signal
    variant.refresh_from_db()
    return variant


def update_variant_price(seller, variant: Variant, *, price: int) -> Variant:
    _require_seller(seller)
    _own(seller, variant.product)
    with transaction.atomic():
        Variant.objects.filter(pk=variant.pk).update(price=price)
        catalog_cache.changed()
    variant.refresh_from_db()
    return variant


# --- images --------------------------------------------------------------------------------------
# A product's images are ordered by `position` (0, 1, 2, ...); the first is the cover. Every change
# locks the product row first, so two tabs editing the same gallery take turns and positions stay 0..n-1.

def _lock_gallery(product: Product) -> list[ProductImage]:
    Product.objects.select_for_update().filter(pk=product.pk).first()
    return list(ProductImage.objects.filter(product=product).order_by("position", "id"))


def _renumber(gallery: list[ProductImage]) -> None:
    changed = []
    for position, image in enumerate(gallery):
        if image.position != position:
            image.position = position
            changed.append(image)
    ProductImage.objects.bulk_update(changed, ["position"])
    if changed:
        catalog_cache.changed()  # a new cover: bulk_update sends no signal


def add_images(seller, product: Product, uploads) -> list[ProductImage]:
    """Add uploaded images after the existing ones: every file is checked first (real JPEG / PNG / WebP
    content, size, dimensions), then all are stored, or none."""
    _require_seller(seller)
    _own(seller, product)
    uploads = list(uploads)
    extensions = [images.check(upload) for upload in uploads]
    saved: list[str] = []
    try:
        with transaction.atomic():
            gallery = _lock_gallery(product)
            if len(gallery) + len(uploads) > images.max_count():
                raise DomainError(
                    _("A product can have at most %(limit)d images; it has %(count)d.")
                    % {"limit": images.max_count(), "count": len(gallery)},
                    code="too_many_images", status_code=status.HTTP_400_BAD_REQUEST,
                )
            added = []
            for position, (upload, extension) in enumerate(zip(uploads, extensions), start=len(gallery)):
                image = ProductImage(product=product, position=position)
                image.image.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)
                saved.append(image.image.name)
                image.save()
                added.append(image)
            return added
    except BaseException:
        for name in saved:  # the rows rolled back: don't leave their files behind
            ProductImage._meta.get_field("image").storage.delete(name)
        raise


def move_image(seller, image: ProductImage, *, to: int) -> None:
    """Move an image to position `to` (0 makes it the cover); the others close up around it."""
    _require_seller(seller)
    _own(seller, image.product)
    with transaction.atomic():
        gallery = _lock_gallery(image.product)
        moving = next((i for i in gallery if i.pk == image.pk), None)
        if moving is None:  # deleted meanwhile (another tab)
            return
        gallery.remove(moving)
        gallery.insert(max(0, min(to, len(gallery))), moving)
        _renumber(gallery)


def delete_image(seller, image: ProductImage) -> None:
    _require_seller(seller)
    _own(seller, image.product)
    with transaction.atomic():
        gallery = _lock_gallery(image.product)
        gone = next((i for i in gallery if i.pk == image.pk), None)
        if gone is None:  # already deleted (a double click, another tab)
            return
        storage, name = gone.image.storage, gone.image.name
        gone.delete()
        _renumber([i for i in gallery if i is not gone])
        transaction.on_commit(lambda: storage.delete(name))


# --- wishlist ------------------------------------------------------------------------------------

def add_to_wishlist(user, product: Product) -> WishlistItem:
    try:
        with transaction.atomic():
            item, _created = WishlistItem.objects.get_or_create(user=user, product=product)
    except IntegrityError:  # a double click raced us: the heart is there either way
        item = WishlistItem.objects.get(user=user, product=product)
    return item


def remove_from_wishlist(user, product: Product) -> None:
    with transaction.atomic():
        WishlistItem.objects.filter(user=user, product=product).delete()


def toggle_wishlist(user, product: Product) -> bool:
    """Heart or un-heart; returns whether the product is now on the wishlist."""
    if WishlistItem.objects.filter(user=user, product=product).exists():
        remove_from_wishlist(user, product)
        return False
    add_to_wishlist(user, product)
    return True
