"""Catalog pages: product list (search, filters, sort, pagination), product detail, wishlist, and the
seller dashboard. Thin: parse, call a selector or a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bidcart.core import images as image_rules
from bidcart.core import numbers
from bidcart.core.domain import DomainError
from bidcart.core.errors import http_status

from . import forms, page_parts, selectors, services
from .filters import ORDERING_CHOICES, ProductFilter
from .models import Product, ProductImage, Variant

PAGE_SIZE = 20


def product_list(request):
    # Only validated here; selectors.product_page applies it to the active products on a cache miss.
    filterset = ProductFilter(request.GET or None, queryset=Product.objects.none(), request=request)
    status = 200
    if filterset.is_bound and not filterset.is_valid():
        products, number, count, grid_key, status = [], 1, 0, "", 400
    else:
        products, number, count, grid_key = selectors.product_page(filterset, request.GET.get("page"), PAGE_SIZE)
    paginator = Paginator(Product.objects.none(), PAGE_SIZE)
    paginator.count = count  # a cached_property: the count comes with the cached page
    page = Page(products, number, paginator)
    current = request.GET.get("category", "")
    # The menu's options are rendered once per catalog version, language and choice (menu_key): the tree
    # itself is read only on a miss of that fragment, or to name the chosen category.
    categories = SimpleLazyObject(selectors.category_tree)
    context = {
        "filter": filterset,
        "page": page,
        "products": products,
        # the cards are the same for everyone: rendered once per page, language and catalog version
        "grid_key": grid_key,
        "categories": categories,
        "menu_key": selectors.category_menu_key(),
        "current_category": next((c for c in categories if c.slug == current), None) if current else None,
        "orderings": ORDERING_CHOICES,
        "ordering": request.GET.get("ordering")
        or ("relevance" if request.GET.get("search", "").strip() else "-created"),
    }
    return render(request, "catalog/product_list.html", context, status=status)


def product_detail(request, slug):
    shared = selectors.product_page_data(slug)  # the same for every visitor, cached
    if shared is None:
        raise Http404
    product = shared["product"]
    context = {
        **shared,
        "default_variant": next((v for v in shared["variants"] if v.in_stock), None),
        "wishlisted": bool(selectors.wishlisted_ids(request.user, [product.pk])),  # personal: per request
        "restock_waiting": selectors.waiting_restock_ids(request.user, product),  # personal: per request
        **page_parts.personal_context(request.user, product),  # the other apps' parts (reviews' "write one")
        "parts": page_parts.templates(),
    }
    return render(request, "catalog/product_detail.html", context)


@login_required
def wishlist(request):
    return render(request, "catalog/wishlist.html", {"products": list(selectors.wishlist(request.user))})


@login_required
@require_POST
def wishlist_toggle(request, slug):
    if request.POST.get("action") == "remove":
        # the wishlist page's 삭제: removes (never re-adds on a double click), also a product no longer on sale
        services.remove_from_wishlist(request.user, get_object_or_404(Product, slug=slug))
        messages.info(request, _("Removed from your wishlist."))
    elif services.toggle_wishlist(request.user, get_object_or_404(Product, slug=slug, active=True)):
        messages.success(request, _("Added to your wishlist."))
    else:
        messages.info(request, _("Removed from your wishlist."))
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("catalog:product", slug)


@login_required
@require_POST
def restock_alert(request, slug):
    """재입고 알림 on a sold-out option of the product."""
    product = get_object_or_404(Product, slug=slug, active=True)
    raw = request.POST.get("option", "")
    ok = raw.isascii() and raw.isdigit() and len(raw) < 12  # a bad id is "choose an option", never a 500
    variant = Variant.objects.filter(product=product, pk=int(raw)).first() if ok else None
    if variant is None:
        messages.error(request, _("Choose a sold-out option."))
    else:
        try:
            services.ask_restock_alert(request.user, variant)
            messages.success(
                request,
                _("We will email you when %(option)s is back in stock.") % {"option": variant.label or product.name},
            )
        except DomainError as error:
            messages.info(request, error.detail)
    return redirect("catalog:product", slug)


# --- seller dashboard ----------------------------------------------------------------------------

IMAGE_ACTIONS = ("image_cover", "image_up", "image_down", "image_delete")


def _refused_field(error: DomainError) -> str | None:
    """Where the product form shows a refusal of `product_save`: beside the images when it is about them."""
    return "images" if error.code.startswith("image_") or error.code == "too_many_images" else None


def _seller(request):
    if not request.user.can_sell:
        raise Http404
    return request.user


@login_required
def seller_dashboard(request):
    seller = _seller(request)
    return render(request, "catalog/seller_dashboard.html", {"products": list(selectors.seller_products(seller))})


@login_required
@require_http_methods(["GET", "POST"])
def seller_product_new(request):
    seller = _seller(request)
    form = forms.ProductForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            product = services.product_save(seller, uploads=data.pop("images"), **data)
        except DomainError as error:
            form.add_error(_refused_field(error), error.detail)
        else:
            messages.success(request, _("Product created. Add its variants and stock."))
            return redirect("catalog:seller_product", product.pk)
    return render(request, "catalog/seller_product_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def seller_product(request, pk):
    seller = _seller(request)
    product = selectors.seller_product(seller, pk)
    if product is None:
        raise Http404
    form = forms.ProductForm(instance=product)
    variant_form = forms.VariantForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "product":
                form = forms.ProductForm(request.POST, request.FILES, instance=Product.objects.get(pk=product.pk))
                if form.is_valid():
                    data = dict(form.cleaned_data)
                    try:
                        services.product_save(seller, product, uploads=data.pop("images"), **data)
                    except DomainError as error:
                        form.add_error(_refused_field(error), error.detail)
                    else:
                        messages.success(request, _("Product saved."))
                        return redirect("catalog:seller_product", product.pk)
            elif action in IMAGE_ACTIONS:
                image = get_object_or_404(
                    ProductImage, pk=numbers.optional_id(request.POST.get("image")) or 0, product=product
                )
                images = list(product.images.all())
                index = next(i for i, other in enumerate(images) if other.pk == image.pk)
                if action == "image_delete":
                    services.delete_image(seller, image)
                    messages.success(request, _("Image deleted."))
                else:
                    services.move_image(
                        seller, image, to={"image_cover": 0, "image_up": index - 1, "image_down": index + 1}[action]
                    )
                    messages.success(request, _("Images reordered."))
                return redirect("catalog:seller_product", product.pk)
            elif action == "variant":
                variant_form = forms.VariantForm(request.POST)
                if variant_form.is_valid():
                    services.add_variant(seller, product, **variant_form.cleaned_data)
                    messages.success(request, _("Variant added."))
                    return redirect("catalog:seller_product", product.pk)
            elif action == "stock":
                stock_form = forms.StockForm(request.POST)
                if stock_form.is_valid():
                    variant = get_object_or_404(Variant, pk=stock_form.cleaned_data["variant"], product=product)
                    services.set_stock(
                        seller,
                        variant,
                        stock=stock_form.cleaned_data["stock"],
                        expected=stock_form.cleaned_data["expected"],
                    )
                    messages.success(request, _("Stock updated."))
                    return redirect("catalog:seller_product", product.pk)
                messages.error(request, _("Stock must be a whole number, 0 or more."))
            status = 400
        except DomainError as error:
            messages.error(request, error.detail)
            status = http_status(error)
    context = {
        "product": product,
        "form": form,
        "variant_form": variant_form,
        "variants": list(product.variants.all()),
        "images": list(product.images.all()),
        "max_images": image_rules.max_count(),
    }
    return render(request, "catalog/seller_product.html", context, status=status)
