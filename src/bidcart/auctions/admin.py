"""Auction admin: lots (cancel with a reason), bids (read-only), wins, offers, strikes (lift), and the chat
moderation queue — reports, with hide-message and mute-for-the-lot actions."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from bidcart.core.admin_money import money_column
from bidcart.core.domain import DomainError

from . import services
from .models import Bid, ChatMessage, ChatMute, ChatReport, Lot, LotImage, SecondChanceOffer, Strike, Win


class ImageInline(admin.TabularInline):
    model = LotImage
    extra = 0


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "seller",
        "status",
        money_column("current_price", _("current price")),
        "bid_count",
        "starts_at",
        "ends_at",
    ]
    list_filter = ["status", "requires_saved_method", "category"]
    search_fields = ["title", "seller__email"]
    list_select_related = ["seller"]
    inlines = [ImageInline]
    readonly_fields = [
        "status",
        "current_price",
        "leader",
        "leader_max",
        "second_max",
        "leader_alias",
        "bid_count",
        "alias_count",
        "seq",
        "closed_at",
        "final_price",
        "sold_via",
        "ending_soon_sent",
        "cancel_reason",
        "cancelled_by",
        "relisted_from",
        "scheduled_end",
        "increment_table",
    ]
    actions = ["cancel_lots"]
    TERMS = [
        "seller",
        "category",
        "currency",
        "start_price",
        "reserve_price",
        "buy_now_price",
        "starts_at",
        "ends_at",
        "soft_close_seconds",
        "requires_saved_method",
    ]

    def get_readonly_fields(self, request, obj=None):
        """The terms bidders relied on are fixed once someone has bid or the lot has closed."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and (obj.bid_count or obj.status not in (Lot.Status.SCHEDULED, Lot.Status.LIVE)):
            fields += self.TERMS
        return fields

    @admin.action(description=_("Cancel selected lots (with a reason)"))
    def cancel_lots(self, request, queryset):
        if "apply" in request.POST:
            form = CancelForm(request.POST)
            if form.is_valid():
                done = 0
                for lot in queryset:
                    try:
                        services.cancel_lot(request.user, lot.pk, form.cleaned_data["reason"])
                        done += 1
                    except DomainError as error:
                        self.message_user(request, f"{lot}: {error.detail}", messages.WARNING)
                self.message_user(request, _("%(n)d lot(s) cancelled.") % {"n": done})
                return None
        else:
            form = CancelForm()
        return render(
            request,
            "admin/auctions/cancel_lots.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "lots": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "title": _("Cancel lots"),
            },
        )


@admin.register(Bid)
class BidAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "lot",
        "bidder",
        "alias",
        money_column("max_amount", _("maximum"), "lot.currency"),
        money_column("price_after", _("price after"), "lot.currency"),
        "leading_after",
        "created_at",
    ]
    search_fields = ["lot__title", "bidder__email"]
    list_select_related = ["lot", "bidder"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Win)
class WinAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "lot",
        "user",
        "kind",
        money_column("price", _("price"), "lot.currency"),
        "status",
        "charge",
        "order",
        "created_at",
    ]
    list_filter = ["kind", "status", "charge"]
    readonly_fields = [
        "lot",
        "user",
        "order",
        "kind",
        "price",
        "status",
        "charge",
        "charge_method",
        "created_at",
        "settled_at",
    ]
    list_select_related = ["lot", "user", "order"]
    actions = ["retry_charges"]

    @admin.action(description=_("Charge now the wins whose automatic charge is still due"))
    def retry_charges(self, request, queryset):
        outcomes = [
            services.autocharge.charge_win(pk)
            for pk in queryset.filter(charge=Win.Charge.DUE).values_list("pk", flat=True)
        ]
        self.message_user(
            request,
            _("%(paid)d charged, %(declined)d declined, %(due)d still due.")
            % {
                "paid": outcomes.count(Win.Charge.PAID),
                "declined": outcomes.count(Win.Charge.DECLINED),
                "due": outcomes.count(Win.Charge.DUE),
            },
        )


@admin.register(SecondChanceOffer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["id", "lot", "user", money_column("price", _("price"), "lot.currency"), "status", "expires_at"]
    list_filter = ["status"]
    readonly_fields = ["lot", "user", "price", "created_at", "responded_at", "win"]


@admin.register(Strike)
class StrikeAdmin(admin.ModelAdmin):
    """3 strikes (not lifted) block bidding for 30 days; lifting one unblocks at once."""

    list_display = ["id", "user", "reason", "created_at", "lifted_at", "lifted_by"]
    list_filter = ["lifted_at"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "win", "reason", "created_at", "lifted_at", "lifted_by"]
    actions = ["lift"]

    @admin.action(description=_("Lift selected strikes"))
    def lift(self, request, queryset):
        for strike in queryset:
            services.lift_strike(request.user, strike)
        self.message_user(request, _("Strikes lifted."))


def _hide(modeladmin, request, messages_):
    for message in messages_:
        services.hide_message(request.user, message.pk)
    modeladmin.message_user(request, _("Messages hidden."))


def _mute(modeladmin, request, messages_):
    for message in messages_:
        services.mute_user(request.user, message.lot_id, message.user_id, reason=_("Muted by staff"))
    modeladmin.message_user(request, _("Authors muted for those lots."))


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "lot", "user", "role", "text", "created_at", "hidden_at"]
    list_filter = ["hidden_at", "role"]
    search_fields = ["text", "user__email", "lot__title"]
    list_select_related = ["lot", "user"]
    readonly_fields = ["lot", "user", "alias", "role", "text", "seq", "created_at", "hidden_at", "hidden_by"]
    actions = ["hide", "mute"]

    @admin.action(description=_("Hide selected messages"))
    def hide(self, request, queryset):
        _hide(self, request, queryset)

    @admin.action(description=_("Mute the authors in those lots"))
    def mute(self, request, queryset):
        _mute(self, request, queryset)


@admin.register(ChatReport)
class ChatReportAdmin(admin.ModelAdmin):
    """The moderation queue: unhandled reports first."""

    list_display = ["id", "reason", "message_text", "message_author", "lot", "reporter", "created_at", "handled_at"]
    list_filter = ["reason", "handled_at"]
    list_select_related = ["message__lot", "message__user", "reporter"]
    readonly_fields = ["message", "reporter", "reason", "created_at", "handled_at"]
    actions = ["hide", "mute", "dismiss"]

    @admin.display(description=_("message"))
    def message_text(self, report):
        return report.message.text[:80]

    @admin.display(description=_("author"))
    def message_author(self, report):
        return report.message.user

    @admin.display(description=_("lot"))
    def lot(self, report):
        return report.message.lot

    @admin.action(description=_("Hide the reported messages"))
    def hide(self, request, queryset):
        _hide(self, request, {r.message for r in queryset})

    @admin.action(description=_("Mute the reported authors in those lots"))
    def mute(self, request, queryset):
        _mute(self, request, {r.message for r in queryset})
        from django.utils import timezone

        queryset.filter(handled_at__isnull=True).update(handled_at=timezone.now())

    @admin.action(description=_("Dismiss (no action needed)"))
    def dismiss(self, request, queryset):
        from django.utils import timezone

        queryset.filter(handled_at__isnull=True).update(handled_at=timezone.now())


@admin.register(ChatMute)
class ChatMuteAdmin(admin.ModelAdmin):
    """Delete a mute to let the user chat in that lot again."""

    list_display = ["lot", "user", "reason", "created_by", "created_at"]
    list_select_related = ["lot", "user", "created_by"]
