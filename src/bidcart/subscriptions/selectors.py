"""Reads of subscriptions shared by the pages, the API and the emails."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from bidcart.catalog.models import Product
from bidcart.orders.shipping import shipping_fee

from .models import Cycle, Plan, Subscription


def plan_for(product: Product) -> Plan | None:
    """The product's offer, if it is subscribable (a plan with at least one interval)."""
    plan = Plan.objects.filter(product=product).first()
    return plan if plan and plan.intervals else None


def buyer_subscriptions(user) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(user=user)
        .select_related("product", "variant", "method")
        .order_by("state", "next_at", "id")
    )


def buyer_subscription(user, pk: int) -> Subscription | None:
    return (
        Subscription.objects.filter(user=user, pk=pk)
        .select_related("product", "variant", "method")
        .prefetch_related(Prefetch("cycles", queryset=Cycle.objects.select_related("order").order_by("-number")))
        .first()
    )


def seller_schedule(seller) -> QuerySet[Subscription]:
    """Subscriptions to the seller's products, soonest delivery first (staff: every subscription)."""
    qs = Subscription.objects.select_related("product", "variant", "user")
    if not seller.is_staff:
        qs = qs.filter(product__seller=seller)
    return qs.exclude(state=Subscription.State.CANCELLED).order_by("state", "next_at", "id")


def seller_products(seller) -> QuerySet[Product]:
    return Product.objects.filter(seller=seller).select_related("subscription_plan").order_by("-created_at", "-id")


def expected_total(sub: Subscription) -> tuple[int, str]:
    """What the next cycle will charge at today's price: the option's price × quantity + shipping."""
    subtotal = sub.variant.price * sub.quantity
    currency = sub.product.currency
    return subtotal + shipping_fee(subtotal, currency), currency
