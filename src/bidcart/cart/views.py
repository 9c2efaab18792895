"""Cart pages: see the cart, add (from a product page), change a quantity, remove."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bidcart.core import numbers
from bidcart.core.domain import DomainError
from bidcart.orders.shipping import quote

from . import selectors, services


def cart_page(request):
    summary = selectors.summary(selectors.current_cart(request))
    shipping = quote(summary.total, summary.currency)  # shown before checkout, by the rule the order charges
    return render(
        request,
        "cart/cart.html",
        {"summary": summary, "shipping": shipping, "grand_total": summary.total + shipping.fee},
    )


def _int(value, default=None):
    """A whole number from the form (core.numbers' rule: ASCII digits only); `default` if absent, None if bad."""
    if value is None or value == "":
        return default
    try:
        return numbers.parse_int(value)
    except numbers.InvalidNumber:
        return None


@require_POST
def add(request):
    variant_id, quantity = _int(request.POST.get("variant")), _int(request.POST.get("quantity"), 1)
    back = request.META.get("HTTP_REFERER") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "cart:cart"
    if variant_id is None:
        messages.error(request, _("Choose an option first."))
        return redirect(back)
    try:
        cart = services.cart_for(request)
        item = services.add_item(cart, variant_id, quantity)
        if request.POST.get("buy_now") and item.quantity != quantity:
            services.set_quantity(cart, item.pk, quantity)  # 바로구매 buys what was asked, not what the cart held
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect(back)
    if request.POST.get("buy_now"):
        # 바로구매: straight to checkout with this option alone; the rest of the cart stays for later
        return redirect(f"{reverse('orders:checkout')}?variant={item.variant_id}")
    messages.success(request, _("Added to your cart."))
    return redirect("cart:cart")


@require_POST
def update(request, pk):
    cart = services.cart_for(request, create=False)
    if cart is None:
        return redirect("cart:cart")
    try:
        quantity = _int(request.POST.get("quantity"))
        if request.POST.get("action") == "remove" or quantity == 0:
            services.remove_item(cart, pk)
            messages.info(request, _("Removed from your cart."))
        else:
            services.set_quantity(cart, pk, quantity)
            messages.success(request, _("Quantity updated."))
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("cart:cart")
