from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bidcart.catalog.models import Product
from bidcart.core.domain import DomainError
from bidcart.core.errors import http_status

from . import forms, selectors, services


@login_required
@require_http_methods(["GET", "POST"])
def write(request, slug):
    product = get_object_or_404(Product, slug=slug, active=True)
    form = forms.ReviewForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.create_review(request.user, product, **form.cleaned_data)
                messages.success(request, _("Thank you for your review."))
                return redirect("catalog:product", product.slug)
            except DomainError as error:
                form.add_error(None, error.detail)
                status = http_status(error)
        else:
            status = 400
    elif not selectors.has_bought(request.user, product):
        messages.info(request, _("You can review a product once you have confirmed its purchase (구매확정)."))
        return redirect("catalog:product", product.slug)
    return render(request, "reviews/form.html", {"form": form, "product": product}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, pk):
    review = selectors.user_review(request.user, pk)
    if review is None:
        raise Http404
    if request.method == "POST" and request.POST.get("action") == "delete":
        services.delete_review(request.user, review)
        messages.info(request, _("Your review was deleted."))
        return redirect("catalog:product", review.product.slug)
    form = forms.ReviewForm(request.POST or None, initial={"rating": review.rating, "text": review.text})
    if request.method == "POST" and form.is_valid():
        services.update_review(request.user, review, **form.cleaned_data)
        messages.success(request, _("Your review was updated."))
        return redirect("catalog:product", review.product.slug)
    return render(
        request,
        "reviews/form.html",
        {"form": form, "product": review.product, "review": review},
        status=400 if form.errors else 200,
    )
