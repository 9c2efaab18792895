"""Reviews: only buyers of a product who confirmed the purchase (구매확정), once each. The product's
average and count are recomputed with an aggregate inside the same transaction, under the product's
row lock, so concurrent reviews never leave them wrong."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils.translation import gettext as _

from bidcart.catalog import services as catalog
from bidcart.catalog.models import Product
from bidcart.core.domain import Conflict, Forbidden, Invalid, NotFound

from . import selectors
from .models import Review


def _check_rating(rating) -> int:
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise Invalid(_("A rating is 1 to 5 stars."), code="rating_invalid")
    return rating


def _recompute(product_id: int) -> None:
    agg = Review.objects.filter(product_id=product_id).aggregate(avg=Avg("rating"), count=Count("id"))
    avg = Decimal(str(agg["avg"] or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    catalog.set_rating(product_id, average=avg, count=agg["count"])  # the catalog keeps its columns


def _lock_product(product_id: int) -> None:
    list(Product.objects.select_for_update().filter(pk=product_id).values_list("pk", flat=True))


def create_review(user, product: Product, *, rating: int, text: str = "") -> Review:
    _check_rating(rating)
    if not selectors.has_bought(user, product):
        raise Forbidden(
            _("You can review a product once you have confirmed its purchase (구매확정)."), code="not_a_buyer"
        )
    try:
        with transaction.atomic():
            _lock_product(product.pk)
            review = Review.objects.create(product=product, user=user, rating=rating, text=text.strip())
            _recompute(product.pk)
    except IntegrityError:
        raise Conflict(
            _("You have already reviewed this product; edit your review instead."), code="already_reviewed"
        ) from None
    return review


def update_review(user, review: Review, *, rating: int | None = None, text: str | None = None) -> Review:
    if review.user_id != user.pk:
        raise NotFound(_("No such review."), code="not_found")
    if rating is not None:
        _check_rating(rating)
    with transaction.atomic():
        _lock_product(review.product_id)
        review = Review.objects.select_for_update().get(pk=review.pk)
        if rating is not None:
            review.rating = rating
        if text is not None:
            review.text = text.strip()
        review.save()
        _recompute(review.product_id)
    return review


def delete_review(user, review: Review) -> None:
    if review.user_id != user.pk and not user.is_staff:
        raise NotFound(_("No such review."), code="not_found")
    with transaction.atomic():
        _lock_product(review.product_id)
        Review.objects.filter(pk=review.pk).delete()
        _recompute(review.product_id)
