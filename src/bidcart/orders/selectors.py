"""Order reads. A buyer sees only their own orders; staff see every order; a seller sees the orders that
hold at least one of their products. Anything else is "not found"."""

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from .models import Order, OrderEvent, OrderLine


def _with_lines(qs: QuerySet) -> QuerySet:
    return qs.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))


def user_orders(user) -> QuerySet:
    return _with_lines(Order.objects.filter(user=user)).order_by("-created_at", "-id")


def user_order(user, number: str) -> Order | None:
    return _with_lines(Order.objects.filter(user=user, number=number)).first()


def managed_orders(user) -> QuerySet:
    """Orders staff or a seller may see and advance."""
    if user.is_staff:
        qs = Order.objects.all()
    elif user.is_seller:
        qs = Order.objects.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), seller=user)))
    else:
        qs = Order.objects.none()
    return _with_lines(qs.select_related("user")).order_by("-created_at", "-id")


def visible_order(user, number: str) -> Order | None:
    """The order if the user bought it, sells in it, or is staff."""
    order = user_order(user, number)
    if order is None and (user.is_staff or user.is_seller):
        order = managed_orders(user).filter(number=number).first()
    return order


def events(order: Order) -> list[OrderEvent]:
    return list(OrderEvent.objects.filter(order=order).select_related("actor").order_by("created_at", "id"))
