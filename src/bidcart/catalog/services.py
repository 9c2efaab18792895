"""Every catalog write: one function per use case, transactional. Sellers manage only their own products."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from bidcart.core import images
from bidcart.core.domain import Conflict, Forbidden, Invalid, NotFound
from bidcart.core.site import absolute_url

from . import cache as catalog_cache
from .models import Category, Product, ProductImage, RestockAlert, Variant, WishlistItem

PRODUCT_FIELDS = ("name", "description", "brand", "base_price", "currency", "active", "category")


def _require_seller(user) -> None:
    if not (getattr(user, "is_authenticated", False) and user.can_sell):
        raise Forbidden(_("Only sellers can manage products."), code="not_a_seller")


def _own(user, product: Product) -> None:
    if product.seller_id != user.pk and not user.is_staff:
        raise NotFound(_("This is not your product."), code="not_your_product")


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


def _create(
    seller,
    *,
    name: str,
    category: Category,
    base_price: int,
    description: str = "",
    brand: str = "",
    currency: str = "KRW",
    active: bool = True,
    slug: str = "",
) -> Product:
    return Product.objects.create(
        seller=seller,
        name=name.strip(),
        slug=slug or unique_slug(name),
        category=category,
        base_price=base_price,
        description=description,
        brand=brand,
        currency=currency.upper(),
        active=active,
    )


def _change(product: Product, changes: dict) -> Product:
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValueError(f"not product fields: {sorted(unknown)}")
    product = Product.objects.select_for_update().get(pk=product.pk)
    for field, value in changes.items():
        setattr(product, field, value)
    product.save()
    return product


def create_product(seller, **fields) -> Product:
    """A new product of this seller (`name`, `category`, `base_price`, and optionally the other
    PRODUCT_FIELDS and a `slug`)."""
    _require_seller(seller)
    with transaction.atomic():
        return _create(seller, **fields)


def update_product(seller, product: Product, **changes) -> Product:
    _require_seller(seller)
    _own(seller, product)
    with transaction.atomic():
        return _change(product, changes)


def product_save(seller, product: Product | None = None, *, uploads=(), **fields) -> Product:
    """The seller's product form, whole: create the product (`product` None) or change its fields, and add
    the uploaded images after the existing ones. One transaction: when any step is refused (an image, the
    gallery's limit) nothing is saved, neither the fields nor an image row, and no stored file is left."""
    _require_seller(seller)
    if product is not None:
        _own(seller, product)
    stored = _store_all(uploads)
    try:
        with transaction.atomic():
            product = _create(seller, **fields) if product is None else _change(product, fields)
            _attach(product, stored)
    except BaseException:
        images.delete([picture.name for picture in stored])  # the rows rolled back: don't leave their files behind
        raise
    return product


def add_variant(
    seller, product: Product, *, sku: str, price: int, stock: int = 0, attributes: dict | None = None
) -> Variant:
    _require_seller(seller)
    _own(seller, product)
    if stock < 0:
        raise Invalid(_("Stock cannot be negative."), code="stock_negative")
    try:
        with transaction.atomic():
            return Variant.objects.create(
                product=product, sku=sku.strip(), price=price, stock=stock, attributes=attributes or {}
            )
    except IntegrityError:
        raise Invalid(_("A variant with this SKU already exists."), code="sku_taken") from None


def set_stock(seller, variant: Variant, *, stock: int, expected: int | None = None) -> Variant:
    """Set a variant's stock. With `expected` (the stock the seller was looking at), the write only
    happens if nobody (an order, another tab) changed it meanwhile: a conditional UPDATE, no lost write."""
    _require_seller(seller)
    _own(seller, variant.product)
    if stock < 0:
        raise Invalid(_("Stock cannot be negative."), code="stock_negative")
    with transaction.atomic():
        rows = Variant.objects.filter(pk=variant.pk)
        if expected is not None:
            rows = rows.filter(stock=expected)
        if not rows.update(stock=stock):
            raise Conflict(
                _(
                    "The stock changed while you were editing it (an order came in). Check the new figure and try "
                    "again."
                ),
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


def set_rating(product_id: int, *, average, count: int) -> None:
    """The product's review average and count, as the reviews app computed them (in its transaction, under
    the product's row lock). The catalog keeps the columns the list sorts by; reviews tells it the figures."""
    Product.objects.filter(pk=product_id).update(rating_avg=average, rating_count=count)
    catalog_cache.changed()  # a queryset update sends no signal


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


def _store_all(uploads) -> list[images.Stored]:
    """Every file checked first (real JPEG / PNG / WebP content, size, dimensions: one refused, none
    stored), then each re-encoded with its renditions and stored (slow: outside any lock)."""
    uploads = list(uploads)
    extensions = [images.check(upload) for upload in uploads]
    stored: list[images.Stored] = []
    try:
        for upload, extension in zip(uploads, extensions):
            stored.append(images.store(upload, "products", extension))
    except BaseException:
        images.delete([picture.name for picture in stored])
        raise
    return stored


def _attach(product: Product, stored: list[images.Stored]) -> list[ProductImage]:
    """Rows for stored pictures after the gallery's existing ones, within the shop's limit (in the caller's
    transaction)."""
    if not stored:
        return []
    gallery = _lock_gallery(product)
    if len(gallery) + len(stored) > images.max_count():
        raise Invalid(
            _("A product can have at most %(limit)d images; it has %(count)d.")
            % {"limit": images.max_count(), "count": len(gallery)},
            code="too_many_images",
        )
    return [
        ProductImage.objects.create(
            product=product,
            position=position,
            image=picture.name,
            width=picture.width,
            height=picture.height,
        )
        for position, picture in enumerate(stored, start=len(gallery))
    ]


def add_images(seller, product: Product, uploads) -> list[ProductImage]:
    """Add uploaded images after the existing ones: all are stored and attached, or none (core/images.py)."""
    _require_seller(seller)
    _own(seller, product)
    stored = _store_all(uploads)
    try:
        with transaction.atomic():
            return _attach(product, stored)
    except BaseException:
        images.delete([picture.name for picture in stored])  # the rows rolled back: don't leave their files behind
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
        name = gone.image.name
        gone.delete()
        _renumber([i for i in gallery if i is not gone])
        transaction.on_commit(lambda: images.delete([name]))  # the file and its renditions


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


# --- 재입고 알림 ------------------------------------------------------------------------------------


def ask_restock_alert(user, variant: Variant) -> RestockAlert:
    """Ask to be emailed when a sold-out option is back. Only for an option that is sold out now (one in
    stock can simply be bought); asking twice keeps the one waiting alert."""
    if variant.stock > 0 or not variant.product.active:
        raise Conflict(_("This option is in stock; you can order it now."), code="in_stock")
    try:
        with transaction.atomic():
            alert, _created = RestockAlert.objects.get_or_create(user=user, variant=variant, notified_at__isnull=True)
    except IntegrityError:  # a concurrent request made it first
        alert = RestockAlert.objects.get(user=user, variant=variant, notified_at__isnull=True)
    return alert


def send_restock_alerts(batch: int = 200) -> int:
    """Email everyone waiting for an option that has stock again, once each: an alert is claimed by the
    conditional UPDATE of its `notified_at`, so two sweeps at once never send it twice."""
    from bidcart.core.mail import send_user_email

    due = list(
        RestockAlert.objects.filter(notified_at__isnull=True, variant__stock__gt=0, variant__product__active=True)
        .select_related("user", "variant__product")
        .order_by("id")[:batch]
    )
    sent = 0
    for alert in due:
        if not RestockAlert.objects.filter(pk=alert.pk, notified_at__isnull=True).update(notified_at=timezone.now()):
            continue
        send_user_email(
            alert.user,
            "catalog/email/restock",
            {
                "variant": alert.variant,
                "product": alert.variant.product,
                "product_url": absolute_url(reverse("catalog:product", args=[alert.variant.product.slug])),
            },
        )
        sent += 1
    return sent
