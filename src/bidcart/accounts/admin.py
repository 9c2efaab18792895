from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from . import honeypot
from .models import BlockedIP, Consent, HoneypotAttempt, PhoneCode, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["email", "display_name", "phone", "is_seller", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_active", "is_seller", "is_staff"]
    search_fields = ["email", "display_name", "phone"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["display_name", "phone", "language", "is_seller"]}),
        (_("Verification"), {"fields": ["email_verified_at", "phone_verified_at"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "display_name", "password1", "password2"]})]


@admin.register(PhoneCode)
class PhoneCodeAdmin(admin.ModelAdmin):
    list_display = ["user", "phone", "created_at", "expires_at", "attempts", "used_at"]
    readonly_fields = ["user", "phone", "code_hash", "created_at", "expires_at", "attempts", "used_at"]


@admin.register(HoneypotAttempt)
class HoneypotAttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "ip", "username", "user_agent", "path"]
    list_filter = ["created_at"]
    search_fields = ["ip", "username", "user_agent"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False


@admin.register(BlockedIP)
class BlockedIPAdmin(admin.ModelAdmin):
    list_display = ["ip", "blocked_at", "reason"]
    search_fields = ["ip"]
    actions = ["unblock"]

    @admin.action(description=_("Unblock and forget their attempts"))
    def unblock(self, request, queryset):
        ips = list(queryset.values_list("ip", flat=True))
        honeypot.unblock(ips)
        self.message_user(request, _("Unblocked %(n)d address(es).") % {"n": len(ips)}, messages.SUCCESS)

    def delete_queryset(self, request, queryset):
        honeypot.unblock(list(queryset.values_list("ip", flat=True)))

    def delete_model(self, request, obj):
        honeypot.unblock([obj.ip])


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """The sign-up consents as given: a record, never edited."""

    list_display = ["user", "item", "version", "agreed", "at"]
    list_filter = ["item", "agreed", "version"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "item", "version", "agreed", "at"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
