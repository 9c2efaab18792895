"""The product list filters, shared by the list page and `GET /api/v1/products/`."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from bidcart.core.filters import IdFilter, WholeNumberFilter
from bidcart.core.numbers import MAX_AMOUNT

from . import search as product_search
from . import selectors

ORDERING_CHOICES = [
    ("relevance", _("Best match")),  # with a search: the exact name first (catalog.search); without: newest
    ("-created", _("Newest")),
    ("price", _("Price: low to high")),
    ("-price", _("Price: high to low")),
    ("-rating", _("Best rated")),
    ("-popularity", _("Most popular")),
]


class ProductFilter(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", max_length=100, label=_("Search"))
    category = filters.CharFilter(method="filter_category", max_length=120, label=_("Category"))
    min_price = WholeNumberFilter(
        field_name="price", lookup_expr="gte", min_value=0, max_value=MAX_AMOUNT, label=_("Min price")
    )
    max_price = WholeNumberFilter(
        field_name="price", lookup_expr="lte", min_value=0, max_value=MAX_AMOUNT, label=_("Max price")
    )
    in_stock = filters.ChoiceFilter(
        choices=[("true", _("Yes")), ("false", _("No"))], method="filter_in_stock", label=_("In stock only")
    )
    seller = IdFilter(field_name="seller_id", label=_("Seller"))
    ordering = filters.ChoiceFilter(choices=ORDERING_CHOICES, method="filter_noop", empty_label=None, label=_("Sort"))

    def filter_search(self, qs, name, value):
        return selectors.search(qs, value)

    def filter_category(self, qs, name, value):
        return selectors.in_category(qs, value)

    def filter_in_stock(self, qs, name, value):
        return qs.filter(in_stock=True) if value == "true" else qs

    def filter_noop(self, qs, name, value):
        return qs  # applied in `filter_queryset`, after every filter

    def filter_queryset(self, queryset):
        qs = super().filter_queryset(queryset)
        ordering = self.form.cleaned_data.get("ordering")
        if ordering in ("", None, "relevance") and product_search.terms(self.form.cleaned_data.get("search") or ""):
            return product_search.by_relevance(qs)  # a search with no sort chosen: the best match first
        return selectors.order(qs, ordering)
