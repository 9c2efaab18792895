"""Staff see each payment with its whole event log and refunds, and refund from here (in full, a partial
amount, or chosen units of the order's lines, on an intermediate page)."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from bidcart.core.domain import DomainError
from bidcart.core.forms import WholeNumberFormField
from bidcart.core.numbers import MAX_AMOUNT

from . import banks, services
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
    fields = [
        "created_at",
        "type",
        "source",
        "from_status",
        "to_status",
        "amount",
        "psp_reference",
        "message",
        "payload",
    ]
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = [
        "created_at",
        "amount",
        "provider_amount",
        "reason",
        "status",
        "restock",
        "lines",
        "psp_reference",
        "failure",
        "requested_by",
    ]
    readonly_fields = fields


class RefundForm(forms.Form):
    """Amount, reason, restock; for a single payment also how many units of each order line go back
    (the amount then defaults to their share, and restocking puts back exactly those units)."""

    amount = WholeNumberFormField(
        min_value=1,
        max_value=MAX_AMOUNT,
        required=False,
        label=_("Amount (minor units; empty = the lines' share, or everything refundable)"),
    )
    reason = forms.CharField(max_length=200, label=_("Reason"))
    restock = forms.BooleanField(required=False, label=_("Put the refunded units back in stock"))
    # a deposited virtual account goes back by bank transfer to the buyer's account (kept nowhere)
    refund_bank = forms.ChoiceField(
        required=False, label=_("Refund bank (bank deposits only)"), choices=lambda: [("", "—"), *banks.choices()]
    )
    refund_number = forms.CharField(required=False, max_length=30, label=_("Refund account number"))
    refund_holder = forms.CharField(required=False, max_length=30, label=_("Refund account holder"))

    def __init__(self, *args, payment: Payment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.line_fields: dict[int, str] = {}
        for line in payment.order.lines.all() if payment is not None else []:
            name = f"line_{line.pk}"
            self.fields[name] = forms.IntegerField(
                min_value=0,
                max_value=line.quantity,
                required=False,
                initial=0,
                label=f"{line.product_name} {line.sku} × {line.quantity}",
            )
            self.line_fields[line.pk] = name

    def lines(self) -> dict[int, int]:
        return {pk: self.cleaned_data[name] for pk, name in self.line_fields.items() if self.cleaned_data.get(name)}

    def refund_account(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("refund_bank"):
            return None
        return {"bank": data["refund_bank"], "number": data["refund_number"], "holder": data["refund_holder"]}


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "merchant_uid",
        "order",
        "buyer",
        "provider",
        "method",
        "amount",
        "currency",
        "status",
        "created_at",
    ]
    list_filter = ["provider", "status", "method", "cancel_owed"]
    search_fields = ["merchant_uid", "order__number", "buyer__email"]
    # the buyer's refund account is passed to the provider by a refund, never shown
    exclude = ["refund_account"]
    readonly_fields = [f.name for f in Payment._meta.fields if f.name != "refund_account"] + ["totals_display"]
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
        single = queryset.select_related("order").first() if queryset.count() == 1 else None
        if "apply" in request.POST:
            form = RefundForm(request.POST, payment=single)
            if form.is_valid():
                for payment in queryset:
                    try:
                        r = services.refund_payment(
                            payment.merchant_uid,
                            amount=form.cleaned_data["amount"],
                            reason=form.cleaned_data["reason"],
                            actor=request.user,
                            restock=form.cleaned_data["restock"],
                            lines=form.lines(),
                            refund_account=form.refund_account(),
                        )
                    except DomainError as error:
                        self.message_user(request, f"{payment}: {error.detail}", messages.ERROR)
                        continue
                    level = messages.SUCCESS if r.status == Refund.Status.SUCCEEDED else messages.WARNING
                    self.message_user(
                        request, f"{payment}: {r.get_status_display()} {r.amount} {payment.currency} {r.failure}", level
                    )
                return None
        else:
            form = RefundForm(payment=single)
        return render(
            request,
            "admin/payments/refund.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Refund payments"),
                "form": form,
                "payments": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

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
