"""Order pages: checkout, my orders, order detail, and the orders staff and sellers fulfil."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bidcart.cart import selectors as cart_selectors
from bidcart.core.errors import DomainError

from . import forms, selectors, services
from .models import TRANSITIONS


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    summary = cart_selectors.summary(cart_selectors.current_cart(request))
    if not summary.lines:
        messages.info(request, _("Your cart is empty."))
        return redirect("cart:cart")
    initial = {"recipient": request.user.display_name, "phone": request.user.phone.as_national if request.user.phone else ""}
    form = forms.AddressForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                order = services.place_order(request.user, shipping_address=form.cleaned_data)
            except DomainError as error:
                messages.error(request, error.detail)
                return redirect("cart:cart")
            messages.success(request, _("Thank you! Your order %(number)s is placed.") % {"number": order.number})
            return redirect("payments:pay", order.number)
        status = 400
    shipping = services.shipping_fee(summary.total, summary.currency)
    context = {
        "form": form, "summary": summary, "shipping": shipping, "grand_total": summary.total + shipping,
        "window": int(services.payment_window().total_seconds() // 60),
    }
    return render(request, "orders/checkout.html", context, status=status)


@login_required
def my_orders(request):
    return render(request, "orders/my_orders.html", {"orders": list(selectors.user_orders(request.user)[:100])})


@login_required
def detail(request, number):
    order = selectors.visible_order(request.user, number)
    if order is None:
        raise Http404
    manages = order.user_id != request.user.pk
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "events": selectors.events(order),
        "manages": manages,
        "next_statuses": sorted(TRANSITIONS[order.status]) if manages else [],
    }
    return render(request, "orders/detail.html", context)


@login_required
@require_POST
def cancel(request, number):
    order = selectors.user_order(request.user, number)
    if order is None:
        raise Http404
    try:
        services.cancel_by_buyer(request.user, order)
        messages.success(request, _("Your order was cancelled."))
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("orders:detail", number)


@login_required
def manage(request):
    if not (request.user.is_staff or request.user.is_seller):
        raise Http404
    return render(request, "orders/manage.html", {"orders": list(selectors.managed_orders(request.user)[:200])})


@login_required
@require_POST
def advance(request, number):
    order = selectors.managed_orders(request.user).filter(number=number).first()
    if order is None:
        raise Http404
    form = forms.AdvanceForm(request.POST)
    if form.is_valid():
        try:
            services.advance(request.user, order, form.cleaned_data["status"])
            messages.success(request, _("Order status updated."))
        except DomainError as error:
            messages.error(request, error.detail)
    else:
        messages.error(request, _("Unknown status."))
    return redirect("orders:detail", number)
