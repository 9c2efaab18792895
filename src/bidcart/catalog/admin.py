from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from bidcart.core.admin_money import money_column

from .models import Category, Product, ProductImage, RestockAlert, Variant, WishlistItem


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "path", "position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["path"]


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0


class ImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "seller",
        "category",
        money_column("base_price", _("price")),
        "active",
        "rating_avg",
        "rating_count",
        "sold_count",
        "created_at",
    ]
    list_filter = ["active", "category", "currency"]
    search_fields = ["name", "slug", "brand", "variants__sku"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["seller"]
    readonly_fields = ["rating_avg", "rating_count", "sold_count"]
    inlines = [VariantInline, ImageInline]
    list_select_related = ["seller", "category"]


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ["sku", "product", money_column("price", _("price"), "product.currency"), "stock"]
    search_fields = ["sku", "product__name"]
    raw_id_fields = ["product"]
    list_select_related = ["product"]


@admin.register(RestockAlert)
class RestockAlertAdmin(admin.ModelAdmin):
    list_display = ["user", "variant", "created_at", "notified_at"]
    list_filter = [("notified_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "variant__sku"]
    list_select_related = ["user", "variant"]


@admin.register(WishlistItem)
class WishlistAdmin(admin.ModelAdmin):
    list_display = ["user", "product", "created_at"]
    raw_id_fields = ["user", "product"]
