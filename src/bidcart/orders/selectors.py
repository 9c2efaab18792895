"""Order reads. A buyer sees only their own orders; staff see every order; a seller sees the orders that
hold at least one of their products, and in them only their own lines and their own shipment. Anything
else is "not found"."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from .models import Order, OrderEvent, OrderLine, Shipment


def _with_lines(qs: QuerySet, seller=None) -> QuerySet:
    """Lines and shipments prefetched; with `seller`, only that seller's (another seller's part of the
    order, its items and its prices, is none of their business)."""
    lines, shipments = OrderLine.objects.order_by("id"), Shipment.objects.select_related("seller").order_by("id")
    if seller is not None:
        lines, shipments = lines.filter(seller=seller), shipments.filter(seller=seller)
    return qs.prefetch_related(Prefetch("lines", queryset=lines), Prefetch("shipments", queryset=shipments))


def user_orders(user) -> QuerySet:
    return _with_lines(Order.objects.filter(user=user)).order_by("-created_at", "-id")


def user_order(user, number: str) -> Order | None:
    return _with_lines(Order.objects.filter(user=user, number=number)).first()


def managed_orders(user) -> QuerySet:
    """Orders staff or a seller may see and fulfil (a seller: only their part of each)."""
    if user.is_staff:
        return _with_lines(Order.objects.all().select_related("user")).order_by("-created_at", "-id")
    if user.is_seller:
        qs = Order.objects.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), seller=user)))
        return _with_lines(qs.select_related("user"), seller=user).order_by("-created_at", "-id")
    return Order.objects.none()


def visible_order(user, number: str) -> Order | None:
    """The order if the user bought it, sells in it, or is staff."""
    order = user_order(user, number)
    if order is None and (user.is_staff or user.is_seller):
        order = managed_orders(user).filter(number=number).first()
    return order


def seller_part(order: Order, user) -> bool:
    """Whether `user` sees `order` as one seller among others (only their lines and shipment)."""
    return order.user_id != user.pk and not user.is_staff


def events(order: Order, *, seller=None) -> list[OrderEvent]:
    """The order's history; a seller sees the order's own steps and their shipment's, not another seller's."""
    qs = OrderEvent.objects.filter(order=order)
    if seller is not None:
        qs = qs.filter(~Q(type=OrderEvent.Type.SHIPMENT) | Q(actor=seller))
    return list(qs.select_related("actor").order_by("created_at", "id"))
