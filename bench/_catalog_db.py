"""The Django side of bench/catalog.py, run as a subprocess with the bench's environment
(DJANGO_SETTINGS_MODULE=bidcart.settings, BIDCART_DATA_DIR=<temp folder>):

    python bench/_catalog_db.py load 10000          bulk-load N products (2-3 variants each)
    python bench/_catalog_db.py queries PATH...     SQL queries per page (count and text), as JSON on stdout

Everything the bench creates is named bench-p* (products), bench-c* (categories) or bench-seller@, and a
new load first removes those rows, so pointing DATABASE_URL at a scratch PostgreSQL database works more
than once (the other benches' rows have names of their own).
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import timedelta

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bidcart.accounts.models import User  # noqa: E402
from bidcart.catalog.models import Category, Product, Variant  # noqa: E402

SELLER_EMAIL = "bench-seller@example.com"
BATCH = 1000
# A three-level tree: 6 roots x 4 children x 3 leaves = 6 + 24 + 72 categories; products go on leaves.
ROOTS = ["패션 Fashion", "전자기기 Electronics", "식품 Food", "홈·리빙 Home", "스포츠 Sports", "뷰티 Beauty"]
ADJECTIVES = ["오버핏", "Classic", "무선", "Heavyweight", "유기농", "Slim", "프리미엄", "Daily", "미니", "Waterproof"]
NOUNS = [
    "티셔츠",
    "Shirt",
    "이어폰",
    "Keyboard",
    "원두",
    "Mug",
    "가디건",
    "Sneakers",
    "텀블러",
    "Backpack",
    "스피커",
    "Pan",
]
MATERIALS = ["면 cotton", "linen 린넨", "wool 울", "steel 스틸", "ceramic 세라믹", "leather 가죽"]
COLOURS = ["검정", "흰색", "Navy", "Sand", "차콜", "Red"]
SIZES = ["S", "M", "L"]


def load(count: int) -> None:
    rng = random.Random(42)
    started = time.monotonic()
    with transaction.atomic():
        Variant.objects.filter(product__slug__startswith="bench-p").delete()
        Product.objects.filter(slug__startswith="bench-p").delete()
        for category in Category.objects.filter(slug__startswith="bench-c").order_by("-path"):
            category.delete()  # children before parents: the parent link is PROTECT
        User.objects.filter(email=SELLER_EMAIL).delete()

        seller = User.objects.create_user(
            SELLER_EMAIL,
            None,
            display_name="벤치 판매자",
            is_seller=True,
            is_active=True,
            email_verified_at=timezone.now(),
        )
        leaves = []
        for r, root_name in enumerate(ROOTS):
            root = Category(name=root_name, slug=f"bench-c{r}", position=r)
            root.save()  # save() computes the materialized path, so categories are not bulk-created
            for c in range(4):
                child = Category(name=f"{root_name} {c + 1}", slug=f"bench-c{r}-{c}", parent=root, position=c)
                child.save()
                for leaf_no in range(3):
                    leaf = Category(
                        name=f"{root_name} {c + 1}-{leaf_no + 1}",
                        slug=f"bench-c{r}-{c}-{leaf_no}",
                        parent=child,
                        position=leaf_no,
                    )
                    leaf.save()
                    leaves.append(leaf)

        now = timezone.now()
        for start in range(0, count, BATCH):
            products = []
            for i in range(start, min(start + BATCH, count)):
                name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {i}"
                products.append(
                    Product(
                        seller=seller,
                        category=rng.choice(leaves),
                        name=name,
                        slug=f"bench-p{i}",
                        description=(
                            f"{name}: {rng.choice(MATERIALS)} 소재, {rng.choice(MATERIALS)} trim. 벤치마크 상품 "
                            f"bench product."
                        ),
                        brand=f"Brand {i % 50}",
                        base_price=rng.randrange(5_000, 300_000, 100),
                        rating_avg=round(rng.uniform(0, 5), 2),
                        rating_count=rng.randrange(0, 200),
                        sold_count=rng.randrange(0, 1000),
                        created_at=now - timedelta(minutes=i),
                    )
                )
            Product.objects.bulk_create(products)
            ids = dict(Product.objects.filter(slug__in=[p.slug for p in products]).values_list("slug", "id"))
            variants = []
            for p in products:
                for position in range(rng.choice((2, 3))):
                    variants.append(
                        Variant(
                            product_id=ids[p.slug],
                            sku=f"BENCH-{p.slug[7:]}-{position}",
                            attributes={"size": SIZES[position], "colour": rng.choice(COLOURS)},
                            price=p.base_price + 1000 * position,
                            stock=0 if rng.random() < 0.15 else rng.randrange(1, 50),
                            position=position,
                        )
                    )
            Variant.objects.bulk_create(variants)
    if connection.vendor == "postgresql":  # fresh planner statistics, as a live database would have
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_category, catalog_product, catalog_variant")
    print(
        f"loaded {count} products, {Variant.objects.filter(product__slug__startswith='bench-p').count()} variants, "
        f"{len(ROOTS) * 17} categories in {time.monotonic() - started:.1f} s",
        flush=True,
    )


def queries(paths: list[str]) -> None:
    """Queries per page, as an anonymous visitor: `cold` on the first visit after a catalog change (the
    catalog cache empty: what the raw SQL ceiling replays) and `queries` on a repeat visit (what the load
    generator meets). One warm-up request first (the honeypot middleware asks the database once per address
    while its cache is cold)."""
    from bidcart.catalog import cache as catalog_cache

    client = Client(SERVER_NAME="127.0.0.1")
    client.get(paths[0])
    counts = {}
    for path in paths:
        catalog_cache.changed()  # a new catalog version: nothing of the catalog is cached
        with CaptureQueriesContext(connection) as cold:
            client.get(path)
        with CaptureQueriesContext(connection) as warm:
            response = client.get(path)
        counts[path] = {
            "queries": len(warm.captured_queries),
            "cold": len(cold.captured_queries),
            "status": response.status_code,
            "sql": [q["sql"] for q in cold.captured_queries],
        }  # for the raw SQL ceiling
    version = (
        ".".join(str(n) for n in connection.Database.sqlite_version_info)
        if connection.vendor == "sqlite"
        else (
            f"{connection.pg_version // 10000}.{connection.pg_version % 10000}"
            if connection.vendor == "postgresql"
            else ""
        )
    )
    print(json.dumps({"vendor": f"{connection.vendor} {version}".strip(), "pages": counts}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["load"]:
        load(int(sys.argv[2]))
    elif sys.argv[1:2] == ["queries"]:
        queries(sys.argv[2:])
    else:
        sys.exit(__doc__)
