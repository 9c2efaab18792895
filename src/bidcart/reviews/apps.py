from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "bidcart.reviews"
    label = "reviews"
    verbose_name = _("Reviews")

    def ready(self):
        # Reviews build on the catalog, never the other way round (catalog/page_parts.py says why): the
        # product page shows this app's part because it is registered here, and a review's save or delete
        # moves the catalog version because this app asks for it.
        from bidcart.catalog import cache as catalog_cache
        from bidcart.catalog import page_parts

        from . import selectors

        catalog_cache.watch("reviews.Review")
        page_parts.add_part(
            page_parts.Part(
                template="reviews/_product_part.html",
                shared=_latest_reviews,
                personal=lambda user, product: {"can_review": selectors.review_state(user, product)},
            )
        )


def _latest_reviews(product) -> dict:
    from . import selectors

    return {"reviews": selectors.for_product(product, limit=20)}
