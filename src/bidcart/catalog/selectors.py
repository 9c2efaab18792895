"""Catalog reads shared by pages and the API. Every list is a fixed number of queries whatever its size:
prices and stock state are subqueries of the one product query, images come in one prefetch."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.functional import SimpleLazyObject

from . import cache as catalog_cache
from . import page_parts
from . import search as product_search
from .models import Category, Product, ProductImage, Variant, WishlistItem

ORDERINGS = {
    "-created": ("-created_at", "-id"),
    "price": ("price", "-id"),
    "-price": ("-price", "-id"),
    "-rating": ("-rating_avg", "-rating_count", "-id"),
    "-popularity": ("-sold_count", "-id"),
}
DEFAULT_ORDERING = "-created"


def _annotated(qs: QuerySet) -> QuerySet:
    variants = Variant.objects.filter(product=OuterRef("pk"))
    return qs.annotate(
        price=Coalesce(Subquery(variants.order_by("price").values("price")[:1]), F("base_price")),
        in_stock=Exists(variants.filter(stock__gt=0)),
        stock_total=Coalesce(
            Subquery(variants.order_by().values("product").annotate(total=Sum("stock")).values("total")[:1]), Value(0)
        ),
    )


def active_products() -> QuerySet:
    """Active products with `price` (lowest variant price), `in_stock` and `stock_total`, and what a
    product card shows: seller, category and images, in three queries at most."""
    return _annotated(
        Product.objects.filter(active=True)
        .select_related("seller", "category")
        .defer("seller__password")  # cached for every visitor: no password hash in the cache
        .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")))
    )


def search(qs: QuerySet, text: str) -> QuerySet:
    """Every word of `text` inside the product's name, brand, categories, description or options, with
    `search_rank` for ordering by relevance: catalog.search holds the rule."""
    return product_search.matching(qs, text)


def category_by_slug(slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def in_category(qs: QuerySet, slug: str) -> QuerySet:
    """Products in the category and all its descendants (one subquery on the materialized path)."""
    path = Category.objects.filter(slug=slug).values("path")[:1]
    subtree = Category.objects.filter(path__startswith=Subquery(path))
    return qs.filter(category__in=subtree)


def order(qs: QuerySet, ordering: str | None) -> QuerySet:
    return qs.order_by(*ORDERINGS.get(ordering or DEFAULT_ORDERING, ORDERINGS[DEFAULT_ORDERING]))


def _category_tree() -> list[Category]:
    categories = list(Category.objects.order_by("path"))
    for category in categories:
        category.label = "— " * category.depth + category.name  # a menu option, indented by depth
    return categories


def category_menu_key() -> str:
    """Names the category menu in this catalog version: its rendered options are cached under it."""
    return catalog_cache.fragment_key("category-menu")


def category_tree() -> list[Category]:
    """Every category in tree order (parents before children), each with its menu `label`: one query
    per catalog change, none per request."""
    return catalog_cache.remember("category-tree", (), _category_tree)


def categories_with_ancestors(category: Category) -> list[Category]:
    """The breadcrumbs, root first: from the cached tree, no query."""
    ids = [int(p) for p in category.path.strip("/").split("/") if p]
    found = {c.pk: c for c in category_tree() if c.pk in ids}
    return [found[i] for i in ids if i in found]


def product_page(filterset, page_number, page_size: int) -> tuple[list[Product], int, int, str]:
    """One page of the product list: (products, page number, total count, the entry's cache key, which
    names this page in this catalog version: the rendered cards are kept under it too), for these
    cleaned filters and this page, computed once per catalog change. `filterset` must be unbound or valid.

    `products` is lazy: the page's cards are usually served from the template's fragment cache under the
    key, and then the products themselves are never read from the cache (unpickling twenty products with
    their images was a third of the list page's cost)."""
    params = sorted(filterset.form.cleaned_data.items()) if filterset.is_bound else []
    parts = (params, str(page_number)[:20], page_size)

    def queryset():
        return filterset.filter_queryset(active_products()) if filterset.is_bound else order(active_products(), None)

    def compute_position():
        page = Paginator(queryset(), page_size).get_page(page_number)  # counts; fetches nothing
        return page.number, page.paginator.count

    number, count = catalog_cache.remember("product-page", parts, compute_position)

    def compute_products():
        start = (number - 1) * page_size
        return list(queryset()[start : start + page_size])

    products = SimpleLazyObject(lambda: catalog_cache.remember("product-page-items", parts, compute_products))
    return products, number, count, catalog_cache.fragment_key("product-page", *parts)


def product_page_data(slug: str) -> dict | None:
    """What the product page shows every visitor (product, variants, images, breadcrumbs, and the shared
    data of the parts other apps add: the latest reviews), computed once per catalog change; None when there
    is no such active product. `page_key` names the page's shared HTML fragments in this catalog version."""

    def compute():
        # Named before the rows are read: the page's rendered fragments are cached under this key, and a
        # change committed meanwhile moves the version again, so they are never kept for older data.
        page_key = catalog_cache.fragment_key("product-detail-html", slug)
        product = product_detail(slug)
        if product is None:
            return None
        return {
            "page_key": page_key,
            "product": product,
            "variants": list(product.variants.all()),
            "images": list(product.images.all()),
            "breadcrumbs": categories_with_ancestors(product.category),
            **page_parts.shared_context(product),
        }

    return catalog_cache.remember("product-detail", (slug,), compute)


def product_detail(slug: str) -> Product | None:
    """The product page: product, variants, images, seller, category and subscription offer in three queries."""
    return (
        _annotated(Product.objects.filter(active=True, slug=slug))
        .select_related("seller", "category", "subscription_plan")
        .defer("seller__password")
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.order_by("position", "id")),
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
        )
        .first()
    )


def featured_products(limit: int = 8) -> list[Product]:
    """지금 인기 상품: the most popular products a shopper can buy now (nothing sold out), once per catalog change."""
    return catalog_cache.remember(
        "featured", (limit,), lambda: list(order(active_products().filter(in_stock=True), "-popularity")[:limit])
    )


def seller_products(seller) -> QuerySet:
    return (
        _annotated(Product.objects.filter(seller=seller))
        .select_related("category")
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.order_by("position", "id")),
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
        )
        .order_by("-created_at", "-id")
    )


def seller_product(seller, pk: int) -> Product | None:
    return seller_products(seller).filter(pk=pk).first()


def wishlisted_ids(user, product_ids) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        WishlistItem.objects.filter(user=user, product_id__in=list(product_ids)).values_list("product_id", flat=True)
    )


def wishlist(user) -> QuerySet:
    return active_products().filter(wished_by__user=user).order_by("-wished_by__created_at")


def waiting_restock_ids(user, product) -> set[int]:
    """The product's options the user is waiting to hear about (재입고 알림)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    from .models import RestockAlert

    return set(
        RestockAlert.objects.filter(user=user, variant__product=product, notified_at__isnull=True).values_list(
            "variant_id", flat=True
        )
    )
