"""PostgreSQL only: the pg_trgm extension and a GIN trigram index on the product name, so that a search
finds words inside words ("셔츠" finds "티셔츠"), which full text (whole words, prefixes) cannot.
`selectors.search` matches `name ILIKE '%term%'` beside the full-text match; this index serves it.
SQLite searches with a contains match and needs neither."""

from django.db import migrations

INDEX = "catalog_product_name_trgm"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON catalog_product USING GIN (name gin_trgm_ops)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")  # the extension stays: others may use it


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_image_field")]
    operations = [migrations.RunPython(forwards, backwards)]
