"""Keep `Product.search_text` current whichever way a product, a variant or a category is written (services,
the admin, the demo seed, tests' factories): see catalog.search. Bulk `update()`s skip these; none of the
catalog's bulk updates touch a searched field (stock, prices, counters, ratings)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import search
from .models import Category, Product, Variant


@receiver(post_save, sender=Product, dispatch_uid="catalog-search-product")
def _product_saved(sender, instance, update_fields=None, raw=False, **kwargs):
    if raw or (update_fields is not None and not set(update_fields) & {"name", "brand", "description", "category"}):
        return
    search.refresh([instance.pk])


@receiver(post_save, sender=Variant, dispatch_uid="catalog-search-variant")
def _variant_saved(sender, instance, update_fields=None, raw=False, **kwargs):
    if raw or (update_fields is not None and "attributes" not in update_fields):
        return
    search.refresh([instance.product_id])


@receiver(post_delete, sender=Variant, dispatch_uid="catalog-search-variant-gone")
def _variant_deleted(sender, instance, **kwargs):
    search.refresh([instance.product_id])


@receiver(post_save, sender=Category, dispatch_uid="catalog-search-category")
def _category_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw or created:  # a new category has no products yet
        return
    search.refresh_category(instance)
