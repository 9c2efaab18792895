"""Subscription pages: the buyer's list, subscribing, one subscription with its actions, and the seller's
schedule with the products they offer on one."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bidcart.catalog.models import Product
from bidcart.core.domain import DomainError
from bidcart.core.numbers import InvalidNumber, parse_id
from bidcart.orders.models import SavedAddress
from bidcart.payments import selectors as payment_selectors

from . import selectors, services
from .forms import DateForm, SubscribeForm
from .models import INTERVAL_CODES, Interval


@login_required
def index(request):
    return render(request, "subscriptions/index.html", {"subscriptions": selectors.buyer_subscriptions(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def new(request, product_id: int):
    product = get_object_or_404(Product, pk=product_id, active=True)
    plan = selectors.plan_for(product)
    if plan is None:
        raise Http404
    variants = list(product.variants.all())
    methods = list(payment_selectors.saved_methods(request.user).filter(state="active"))
    form_args = {"variants": variants, "intervals": plan.intervals, "methods": methods}
    if request.method == "POST":
        form = SubscribeForm(request.POST, **form_args)
        if form.is_valid():
            d = form.cleaned_data
            try:
                sub = services.subscribe(
                    request.user,
                    variant_id=d["variant"],
                    quantity=d["quantity"],
                    interval=d["interval"],
                    method_id=d["method"],
                    first_date=d["first_date"],
                    shipping_address={
                        k: d[k] for k in ("recipient", "phone", "postcode", "address1", "address2", "delivery_note")
                    },
                )
            except DomainError as error:
                form.add_error(None, error.detail)
            else:
                messages.success(request, _("Subscribed. We will charge your card on each delivery date."))
                return redirect("subscriptions:detail", sub.pk)
    else:
        address = SavedAddress.objects.filter(user=request.user).first()
        initial = {
            "quantity": 1,
            "interval": plan.intervals[0],
            "first_date": services.seoul_today() + timedelta(days=1),
            "variant": next((v.pk for v in variants if v.in_stock), variants[0].pk if variants else None),
            "method": next((m.pk for m in methods if m.is_default), None),
        }
        if address:
            initial.update(
                {
                    k: getattr(address, k)
                    for k in ("recipient", "phone", "postcode", "address1", "address2", "delivery_note")
                }
            )
        form = SubscribeForm(initial=initial, **form_args)
    return render(
        request, "subscriptions/new.html", {"product": product, "plan": plan, "form": form, "methods": methods}
    )


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, pk: int):
    sub = selectors.buyer_subscription(request.user, pk)
    if sub is None:
        raise Http404
    methods = list(payment_selectors.saved_methods(request.user).filter(state="active"))
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "skip":
                services.skip_next(request.user, pk)
                messages.success(request, _("The next delivery is skipped."))
            elif action == "pause":
                services.pause(request.user, pk)
                messages.success(request, _("Subscription paused."))
            elif action == "resume":
                services.resume(request.user, pk, method_id=_optional_id(request.POST.get("method")))
                messages.success(request, _("Subscription resumed."))
            elif action == "cancel":
                services.cancel(request.user, pk)
                messages.success(request, _("Subscription cancelled."))
            elif action == "date":
                form = DateForm(request.POST)
                if not form.is_valid():
                    raise DomainError(_("Choose a valid date."), code="invalid_date")
                services.change_next_date(request.user, pk, form.cleaned_data["date"])
                messages.success(request, _("Next delivery date changed."))
            elif action == "method":
                services.change_method(request.user, pk, _optional_id(request.POST.get("method")) or 0)
                messages.success(request, _("Card changed."))
        except DomainError as error:
            messages.error(request, error.detail)
        return redirect("subscriptions:detail", pk)
    amount, currency = selectors.expected_total(sub)
    return render(
        request,
        "subscriptions/detail.html",
        {
            "sub": sub,
            "cycles": list(sub.cycles.all()),
            "methods": methods,
            "amount": amount,
            "currency": currency,
            "next_date": sub.next_at.astimezone(services.SEOUL).date(),
            "min_date": services.seoul_today() + timedelta(days=1),
        },
    )


def _optional_id(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return parse_id(value)
    except InvalidNumber:
        raise DomainError(_("No such card. Register a card first."), code="method_not_found") from None


@login_required
def selling(request):
    """The seller's schedule (staff: everyone's) and the products they may offer on a subscription."""
    if not request.user.can_sell:
        raise PermissionDenied
    return render(
        request,
        "subscriptions/selling.html",
        {
            "schedule": selectors.seller_schedule(request.user)[:500],
            "products": selectors.seller_products(request.user),
            "intervals": [(code, Interval(code).label) for code in INTERVAL_CODES],
        },
    )


@login_required
@require_POST
def selling_plan(request, product_id: int):
    if not request.user.can_sell:
        raise PermissionDenied
    try:
        services.set_plan(request.user, product_id, request.POST.getlist("intervals"))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Subscription intervals saved."))
    return redirect("subscriptions:selling")
