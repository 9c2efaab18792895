"""Staff screens: subscriptions with their cycles, and the products offered on a subscription. The card is
shown as its brand and last digits only; nothing here charges or changes a schedule (the sweep does)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Cycle, Plan, Subscription


class CycleInline(admin.TabularInline):
    model = Cycle
    extra = 0
    can_delete = False
    fields = ["number", "due_at", "state", "attempts", "next_attempt_at", "order", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "product", "quantity", "interval", "state", "pause_reason", "next_at", "card"]
    list_filter = ["state", "interval", "pause_reason"]
    search_fields = ["user__email", "product__name", "recipient"]
    date_hierarchy = "next_at"
    list_select_related = ["user", "product", "method"]
    raw_id_fields = ["user", "product", "variant", "method"]
    readonly_fields = [
        "user",
        "product",
        "variant",
        "method",
        "card",
        "next_cycle",
        "reminded_cycle",
        "anchor_day",
        "created_at",
        "updated_at",
        "cancelled_at",
    ]
    exclude = ["method"]
    inlines = [CycleInline]

    @admin.display(description=_("card"))
    def card(self, obj):
        return f"{obj.method.brand} ···· {obj.method.last4}"


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    list_display = ["subscription", "number", "due_at", "state", "attempts", "next_attempt_at", "order"]
    list_filter = ["state"]
    search_fields = ["subscription__user__email", "order__number"]
    list_select_related = ["subscription", "order"]
    readonly_fields = [
        "subscription",
        "number",
        "due_at",
        "state",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "order",
        "note",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["product", "intervals", "updated_at"]
    raw_id_fields = ["product"]
    search_fields = ["product__name"]
