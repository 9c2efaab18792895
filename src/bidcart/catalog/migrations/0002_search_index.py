"""PostgreSQL only: a GIN full-text index on name + description, matching `selectors.PG_SEARCH_DOCUMENT`
expression for expression (so the planner uses it). SQLite searches with a contains match instead."""

from django.db import migrations

INDEX = "catalog_product_search_gin"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON catalog_product USING GIN "
    "((to_tsvector('simple', coalesce(catalog_product.name, '') || ' ' || coalesce(catalog_product.description, ''))))"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
