from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from bidcart.core.admin_money import money_column

from .models import Order, OrderEvent, OrderLine, SavedAddress, Shipment


class LineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = [
        "product",
        "variant",
        "seller",
        "product_name",
        "sku",
        "attributes",
        "unit_price",
        "quantity",
        "line_total",
    ]


class ShipmentInline(admin.TabularInline):
    """Read-only: sellers move their shipments on the order page (services.update_shipment)."""

    model = Shipment
    extra = 0
    can_delete = False
    readonly_fields = ["seller", "status", "courier", "tracking_number", "shipped_at", "delivered_at"]


class EventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["type", "from_status", "to_status", "actor", "note", "created_at"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only money and status: status changes go through the order page (the transition table)."""

    list_display = ["number", "user", "status", money_column("total", _("total")), "created_at", "payment_due_at"]
    list_filter = ["status"]
    search_fields = ["number", "user__email", "recipient"]
    readonly_fields = [
        "number",
        "user",
        "status",
        "currency",
        "subtotal",
        "shipping",
        "total",
        "created_at",
        "payment_due_at",
        "paid_at",
        "stock_released",
        "delivered_at",
        "confirmed_at",
    ]
    inlines = [LineInline, ShipmentInline, EventInline]
    list_select_related = ["user"]


@admin.register(SavedAddress)
class SavedAddressAdmin(admin.ModelAdmin):
    list_display = ["user", "recipient", "postcode", "address1", "is_default", "created_at"]
    search_fields = ["user__email", "recipient"]
    list_select_related = ["user"]
