from django.contrib import admin

from .models import Cart, CartItem


class ItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    raw_id_fields = ["variant"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["pk", "user", "created_at", "updated_at"]
    raw_id_fields = ["user"]
    exclude = ["token"]
    inlines = [ItemInline]
