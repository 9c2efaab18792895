"""Staff see each payment with its whole event log and refunds, and refund from here (in full, or a
partial amount on an intermediate page)."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from bidcart.core.errors import DomainError
from bidcart.core.forms import WholeNumberFormField
from bidcart.core.numbers import MAX_AMOUNT

from . import services
from .models import Payment, PaymentEvent, Refund, WebhookDelivery


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = PaymentEvent
    fields = ["created_at", "type", "source", "from_status", "to_status", "amount", "psp_reference", "message", "payload"]
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["created_at", "amount", "provider_amount", "reason", "status", "restock", "lines", "psp_reference", "failure", "requested_by"]
    readonly_fields = fields


class RefundForm(forms.Form):
    amount = WholeNumberFormField(min_value=1, max_value=MAX_AMOUNT, label=_("Amount (minor units; empty = everything refundable)"), required=False)
    reason = forms.CharField(max_length=200, label=_("Reason"))
    restock = forms.BooleanField(required=False, label=_("Put the items back in stock"))


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["merchant_uid", "order", "buyer", "provider", "method", "amount", "currency", "status", "created_at"]
    list_filter = ["provider", "status", "method", "cancel_owed"]
    search_fields = ["merchant_uid", "order__number", "buyer__email"]
    readonly_fields = [f.name for f in Payment._meta.fields] + ["totals_display"]
    inlines = [RefundInline, EventInline]
    actions = ["refund", "reconcile_now"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("captured / refunded / refundable"))
    def totals_display(self, obj):
        t = obj.totals()
        return f"{t['captured']} / {t['refunded']} / {t['refundable']} {obj.currency}"

    @admin.action(description=_("Refund…"))
    def refund(self, request, queryset):
        if "apply" in request.POST:
            form = RefundForm(request.POST)
            if form.is_valid():
                for payment in queryset:
                    amount = form.cleaned_data["amount"] or payment.totals()["refundable"]
                    try:
                        r = services.refund_payment(payment.merchant_uid, amount=amount, reason=form.cleaned_data["reason"],
                                                    actor=request.user, restock=form.cleaned_data["restock"])
                    except DomainError as error:
                        self.message_user(request, f"{payment}: {error.detail}", messages.ERROR)
                        continue
                    level = messages.SUCCESS if r.status == Refund.Status.SUCCEEDED else messages.WARNING
                    self.message_user(request, f"{payment}: {r.get_status_display()} {r.amount} {payment.currency} {r.failure}", level)
                return None
        else:
            form = RefundForm()
        return render(request, "admin/payments/refund.html", {
            **self.admin_site.each_context(request), "title": _("Refund payments"), "form": form, "payments": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME, "opts": self.model._meta,
        })

    @admin.action(description=_("Ask the provider now (reconcile)"))
    def reconcile_now(self, request, queryset):
        for payment in queryset:
            services.reconcile_payment(payment.merchant_uid)
        self.message_user(request, _("Reconciled."))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["received_at", "provider", "event_id", "state", "payment", "attempts", "remote_ip"]
    list_filter = ["provider", "state"]
    search_fields = ["event_id", "payment__merchant_uid", "body"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Process again"))
    def replay(self, request, queryset):
        for delivery in queryset:
            try:
                services.process_webhook(delivery)
            except Exception as error:  # noqa: BLE001 - shown to staff, recorded on the delivery
                self.message_user(request, f"{delivery}: {error}", messages.ERROR)
        self.message_user(request, _("Processed."))
