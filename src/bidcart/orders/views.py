"""Order pages: checkout, my orders, order detail, and the orders staff and sellers fulfil."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bidcart.cart import selectors as cart_selectors
from bidcart.core.domain import DomainError
from bidcart.core.errors import http_status

from . import couriers, forms, selectors, services
from .models import TRANSITIONS, Status


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    chosen_lines = cart_selectors.chosen_variants(request.GET.getlist("variant") or request.POST.getlist("variant"))
    summary = cart_selectors.summary(cart_selectors.current_cart(request), chosen_lines)
    if not summary.lines:
        messages.info(request, _("Your cart is empty."))
        return redirect("cart:cart")
    book = selectors.addresses(request.user)
    chosen = request.GET.get("address", "")
    chosen = int(chosen) if chosen.isascii() and chosen.isdigit() and len(chosen) < 12 else None
    initial = selectors.address_initial(request.user, chosen)
    # a known address is not offered for saving again; a new buyer's first address is saved by default
    initial["save_address"] = not book
    form = forms.CheckoutForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                order = services.place_order(request.user, shipping_address=form.cleaned_data, variant_ids=chosen_lines)
            except DomainError as error:
                messages.error(request, error.detail)
                return redirect("cart:cart")
            if form.cleaned_data["save_address"] or form.cleaned_data["make_default"]:
                try:
                    services.save_address(request.user, form.cleaned_data, default=form.cleaned_data["make_default"])
                except DomainError as error:  # a full address book never stops the order
                    messages.info(request, error.detail)
            messages.success(request, _("Thank you! Your order %(number)s is placed.") % {"number": order.number})
            return redirect("payments:pay", order.number)
        status = 400
    shipping = services.shipping_fee(summary.total, summary.currency)
    context = {
        "form": form,
        "summary": summary,
        "shipping": shipping,
        "grand_total": summary.total + shipping,
        "chosen_lines": chosen_lines or [],
        "book": book,
        "chosen": chosen or next((a.pk for a in book if a.is_default), None),
        "notes": forms.DELIVERY_NOTES,
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
    seller = request.user if manages and selectors.seller_part(order, request.user) else None
    shipments = list(order.shipments.all())
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "shipments": shipments,
        "events": selectors.events(order, seller=seller),
        "manages": manages,
        "seller_part": seller is not None,
        "couriers": couriers.CHOICES,
        "can_confirm": not manages and order.status in services.CONFIRMABLE and not order.confirmed_at,
    }
    if seller is not None:
        # the seller's own shipment: the next steps it may take, named in words (발송 needs the courier)
        mine = shipments[0] if shipments else None
        steps = services.SHIPMENT_STEPS[mine.status] if mine and order.status in services.FULFILLING else ()
        context["next_steps"] = [(s, services.STEP_ACTIONS[s]) for s in steps]
    elif manages:
        # staff: any legal move of the whole order, the fulfilment steps first; nothing preselected
        allowed = TRANSITIONS[order.status]
        ordered = [s for s in Status.values if s in allowed]
        context["next_steps"] = [(s, Status(s).label) for s in ordered]
    return render(request, "orders/detail.html", context)


def _buyer_acts(request, number, act, done: str):
    """A buyer's button on their own order: the service decides, the page says how it went."""
    order = selectors.user_order(request.user, number)
    if order is None:
        raise Http404
    try:
        act(request.user, order)
        messages.success(request, done)
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("orders:detail", number)


@login_required
@require_POST
def cancel(request, number):
    return _buyer_acts(request, number, services.cancel_by_buyer, _("Your order was cancelled."))


@login_required
def address_book(request):
    return render(request, "orders/addresses.html", {"book": selectors.addresses(request.user)})


@login_required
@require_POST
def address_action(request, pk):
    """배송지 목록: make an address the default, or delete it."""
    action = request.POST.get("action")
    try:
        if action == "default":
            services.set_default_address(request.user, pk)
            messages.success(request, _("Default address changed."))
        elif action == "delete":
            services.delete_address(request.user, pk)
            messages.success(request, _("Address deleted."))
        else:
            messages.error(request, _("Choose what to do with the address."))
    except DomainError as error:
        if http_status(error) == 404:
            raise Http404 from None
        messages.error(request, error.detail)
    return redirect("orders:addresses")


@login_required
def manage(request):
    if not request.user.can_sell:  # staff or a seller (accounts.User.can_sell)
        raise Http404
    orders = list(selectors.managed_orders(request.user)[:200])
    for order in orders:  # a seller's part: their lines' sum and their shipment, not the whole order's
        order.part_total = sum(line.line_total for line in order.lines.all())
        order.part_shipments = list(order.shipments.all())
    return render(request, "orders/manage.html", {"orders": orders, "seller_view": not request.user.is_staff})


@login_required
@require_POST
def advance(request, number):
    order = selectors.managed_orders(request.user).filter(number=number).first()
    if order is None:
        raise Http404
    form = forms.AdvanceForm(request.POST)
    if form.is_valid():
        try:
            services.advance(
                request.user,
                order,
                form.cleaned_data["status"],
                courier=form.cleaned_data["courier"],
                tracking_number=form.cleaned_data["tracking_number"],
            )
            messages.success(request, _("Order status updated."))
        except DomainError as error:
            messages.error(request, error.detail)
    else:
        messages.error(request, _("Choose what to do with the order."))
    return redirect("orders:detail", number)


@login_required
@require_POST
def confirm(request, number):
    """구매확정: the buyer says the goods arrived."""
    return _buyer_acts(
        request,
        number,
        services.confirm_purchase,
        _("Thank you! Your purchase is confirmed; you can now review the products."),
    )
