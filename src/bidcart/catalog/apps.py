from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "bidcart.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from . import (
            cache,
            signals,  # noqa: F401  (keeps Product.search_text current)
        )

        cache.connect()
