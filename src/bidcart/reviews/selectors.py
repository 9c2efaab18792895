from .models import Review


def for_product(product, limit: int = 20) -> list[Review]:
    return list(
        Review.objects.filter(product=product)
        .select_related("user")
        .defer("user__password")
        .order_by("-created_at", "-id")[:limit]
    )


def has_bought(user, product) -> bool:
    """A line of this product in one of the user's orders whose purchase is confirmed (구매확정: the goods
    arrived), unless all of it was refunded."""
    if not getattr(user, "is_authenticated", False):
        return False
    from bidcart.orders.models import PAID_STATUSES, OrderLine, Status

    kept = PAID_STATUSES - {Status.REFUNDED}  # a buyer who got everything back reviews nothing
    return OrderLine.objects.filter(
        order__user=user, product=product, order__status__in=kept, order__confirmed_at__isnull=False
    ).exists()


def review_state(user, product) -> dict:
    """What the product page offers: a form to write, the user's own review to edit, or nothing."""
    if not getattr(user, "is_authenticated", False):
        return {"can_review": False, "mine": None}
    mine = Review.objects.filter(product=product, user=user).first()
    return {"can_review": mine is None and has_bought(user, product), "mine": mine}


def user_review(user, pk: int) -> Review | None:
    return Review.objects.filter(user=user, pk=pk).select_related("product").first()


def user_reviews(user):
    return Review.objects.filter(user=user).select_related("product").order_by("-created_at", "-id")
