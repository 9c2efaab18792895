"""`Product.search_text`: what a search looks in (catalog.search), filled for existing products, and on
PostgreSQL a GIN trigram index on it (pg_trgm) that serves `search_text LIKE '%word%'`. The full-text
index (0002) and the name trigram index (0004) served the old search and are dropped."""

from importlib import import_module

from django.db import migrations, models

INDEX = "catalog_product_search_text_trgm"


def fill(apps, schema_editor):
    from bidcart.catalog.search import document

    Product, Category, Variant = (apps.get_model("catalog", m) for m in ("Product", "Category", "Variant"))
    names = dict(Category.objects.values_list("pk", "name"))
    paths = dict(Category.objects.values_list("pk", "path"))
    options = {}
    for product_id, attributes in Variant.objects.order_by("position", "id").values_list("product_id", "attributes"):
        options.setdefault(product_id, []).append(attributes)
    for pk, name, brand, description, category_id in Product.objects.values_list("pk", "name", "brand", "description", "category_id"):
        path = [int(p) for p in (paths.get(category_id) or "").strip("/").split("/") if p] or [category_id]
        text = document(name=name, brand=brand, description=description, categories=[names.get(c, "") for c in path],
                        options=options.get(pk, []))
        Product.objects.filter(pk=pk).update(search_text=text)


def index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON catalog_product USING GIN (search_text gin_trgm_ops)")
        schema_editor.execute("DROP INDEX IF EXISTS catalog_product_name_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS catalog_product_search_gin")


def unindex(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # back to 0004: its indexes again
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        schema_editor.execute(import_module("bidcart.catalog.migrations.0002_search_index").CREATE)
        schema_editor.execute("CREATE INDEX IF NOT EXISTS catalog_product_name_trgm ON catalog_product USING GIN (name gin_trgm_ops)")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_name_trigram_index")]
    operations = [
        migrations.AddField(model_name="product", name="search_text", field=models.TextField(blank=True, default="", editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(index, unindex),
    ]
