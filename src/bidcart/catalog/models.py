"""Catalog: a category tree, products, their variants (each with its own SKU, price and stock), images,
and the wishlist (a user's hearted products; it lives here because it is a product relation).

Money is an integer amount in minor units plus an ISO currency (KRW has no minor unit: 12000 = ₩12,000).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A node of the category tree, any depth.

    `path` is a materialized path of primary keys, "/3/17/42/" for node 42 under 17 under 3, so the
    descendants of a node are one indexed `path LIKE '/3/17/%'` query.
    """

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, allow_unicode=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["path"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return max(0, self.path.count("/") - 2)

    def save(self, *args, **kwargs):
        if self.pk and self.parent_id and f"/{self.pk}/" in self.parent.path:
            raise ValueError("A category cannot be moved under itself.")
        old_path = self.path
        super().save(*args, **kwargs)
        new_path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        if new_path != old_path:
            Category.objects.filter(pk=self.pk).update(path=new_path)
            if old_path:  # moved: rewrite the subtree's prefix in one statement
                Category.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                    path=Concat(Value(new_path), Substr("path", len(old_path) + 1))
                )
            self.path = new_path

    def descendants(self, include_self: bool = True):
        qs = Category.objects.filter(path__startswith=self.path)
        return qs if include_self else qs.exclude(pk=self.pk)


class Product(models.Model):
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="products", verbose_name=_("seller")
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=220, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    base_price = models.PositiveBigIntegerField(_("base price"), help_text=_("In minor units (KRW: won)."))
    currency = models.CharField(_("currency"), max_length=3, default="KRW")
    active = models.BooleanField(_("active"), default=True)
    rating_avg = models.DecimalField(_("average rating"), max_digits=3, decimal_places=2, default=0)
    rating_count = models.PositiveIntegerField(_("number of ratings"), default=0)
    sold_count = models.PositiveIntegerField(_("units sold"), default=0, help_text=_("Drives the popularity sort."))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What a search looks in: name, brand, categories, description and options, normalised (catalog.search).
    search_text = models.TextField(default="", blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            models.Index(fields=["active", "-created_at"]),
            models.Index(fields=["active", "base_price"]),
        ]
        # PostgreSQL: a GIN trigram index on search_text (migration 0005, PostgreSQL only).

    def __str__(self) -> str:
        return self.name


class ProductImage(models.Model):
    """A product picture; the first by `position` is the cover. Sellers upload them through
    `services.add_images`, which checks and re-encodes them with their renditions (core/images.py)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to="products/%Y/%m/")
    # The stored picture's size: pages set width/height of every rendition from it (0: stored before
    # renditions existed, shown as it is).
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    alt = models.CharField(_("alternative text"), max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("product image")
        verbose_name_plural = _("product images")


class Variant(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    attributes = models.JSONField(
        _("attributes"), default=dict, blank=True, help_text=_('e.g. {"size": "M", "colour": "검정"}')
    )
    price = models.PositiveBigIntegerField(_("price"))
    stock = models.IntegerField(_("stock"), default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_variant_stock_not_negative")]

    def __str__(self) -> str:
        return f"{self.product.name} ({self.label})" if self.attributes else self.product.name

    @property
    def label(self) -> str:
        return option_label(self.attributes)

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class WishlistItem(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishlist")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="wished_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="catalog_wishlist_once")]
        verbose_name = _("wishlist item")
        verbose_name_plural = _("wishlist items")


class RestockAlert(models.Model):
    """재입고 알림: a shopper asked to hear when a sold-out option is back. The sweep emails them once
    (`notified_at` is set by a conditional UPDATE) when the option has stock again; asking again after
    that makes a new alert."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="restock_alerts")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="restock_alerts")
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("restock alert")
        verbose_name_plural = _("restock alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "variant"],
                condition=Q(notified_at__isnull=True),
                name="catalog_one_waiting_restock_alert",
            ),
        ]


def option_label(attributes: dict | None) -> str:
    """An option as a shopper names it ("5kg / 선물 포장"), from its attributes, never its SKU: a variant's
    label, and an order line's (which keeps the attributes it was sold with)."""
    return " / ".join(str(v) for v in (attributes or {}).values())
