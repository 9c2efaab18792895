"""Product search that finds what a Korean shopper types: one rule, the same results on SQLite and PostgreSQL.

What is searched: the product's name, brand and description, its category's name and every ancestor's
("커피" finds everything in 커피·차), and its options (the names and values of the variants' attributes:
"검정", "256GB"). These are kept, NFKC-normalised and lowercased, in one column, `Product.search_text`,
rewritten whenever one of its sources changes (signals below: product, variant, category saves), so a
search is one indexed condition in the product list's one query, never a join or an extra query.

How a word matches: as a substring anywhere in that text, every word of the query must match. Korean
words are not separated the way English ones are (티셔츠 holds 셔츠, 키보드 may be glued to a number), so
whole-word full text misses what shoppers expect; a substring match does not. On PostgreSQL the column has a
GIN trigram index (pg_trgm, migration 0005) that serves `LIKE '%word%'`; SQLite scans (a shop's worth
of products). Both sides are lowercase, so LIKE's case rules (ASCII-only on SQLite, none on PostgreSQL)
never differ.

Ranking: an exact name first, then names that start with the query, then names that hold every word,
then the rest (category, description and option matches), newest first within each.
"""

from __future__ import annotations

import re
import unicodedata

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

MAX_TERMS = 10
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC (full-width → plain, compatibility jamo → Hangul) and lowercase: both the stored text and the query."""
    return unicodedata.normalize("NFKC", text or "").lower()


def terms(text: str) -> list[str]:
    return [t for t in _SPACE.split(normalize(text).strip()) if t][:MAX_TERMS]


def document(*, name: str, brand: str, description: str, categories: list[str], options: list[dict]) -> str:
    """The text a product is found by."""
    parts = [name, brand, *categories, description]
    for attributes in options:
        for key, value in (attributes or {}).items():
            parts += [str(key), str(value)]
    return normalize("\n".join(p for p in parts if p))


def refresh(product_ids) -> None:
    """Rewrite `search_text` of these products from their sources (a few queries for any number)."""
    from .models import Category, Product, Variant

    ids = [pk for pk in set(product_ids) if pk]
    if not ids:
        return
    products = list(Product.objects.filter(pk__in=ids).select_related("category"))
    category_ids = {int(p) for product in products for p in product.category.path.strip("/").split("/") if p}
    names = dict(Category.objects.filter(pk__in=category_ids).values_list("pk", "name"))
    options: dict[int, list[dict]] = {}
    for product_id, attributes in (
        Variant.objects.filter(product_id__in=ids).order_by("position", "id").values_list("product_id", "attributes")
    ):
        options.setdefault(product_id, []).append(attributes)
    for product in products:
        path = [int(p) for p in product.category.path.strip("/").split("/") if p] or [product.category_id]
        text = document(
            name=product.name,
            brand=product.brand,
            description=product.description,
            categories=[names.get(pk) or (product.category.name if pk == product.category_id else "") for pk in path],
            options=options.get(product.pk, []),
        )
        if text != product.search_text:
            Product.objects.filter(pk=product.pk).update(search_text=text)


def refresh_category(category) -> None:
    """A category's name or place changed: its products and its subtree's products."""
    from .models import Product

    refresh(Product.objects.filter(category__path__startswith=category.path).values_list("pk", flat=True))


def matching(qs: QuerySet, text: str) -> QuerySet:
    """Products whose search text holds every word of `text`, with `search_rank` (0 is best)."""
    words = terms(text)
    if not words:
        return qs
    for word in words:
        qs = qs.filter(search_text__contains=word)  # Django escapes % and _ in `contains`
    whole = " ".join(words)
    return qs.annotate(
        search_rank=Case(
            When(name__iexact=whole, then=Value(0)),
            When(name__istartswith=whole, then=Value(1)),
            When(Q(*[Q(name__icontains=w) for w in words]), then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
    )


def by_relevance(qs: QuerySet) -> QuerySet:
    return qs.order_by("search_rank", "-created_at", "-id")
