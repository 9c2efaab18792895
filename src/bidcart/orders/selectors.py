"""Order reads. A buyer sees only their own orders; staff see every order; a seller sees the orders that
hold at least one of their products, and in them only their own lines and their own shipment. Anything
else is "not found"."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from .models import Order, OrderEvent, OrderLine, SavedAddress, Shipment


def _with_lines(qs: QuerySet, seller=None, *, shipments: bool = True) -> QuerySet:
    """Lines (and shipments) prefetched; with `seller`, only that seller's (another seller's part of the
    order, its items and its prices, is none of their business)."""
    lines, parcels = OrderLine.objects.order_by("id"), Shipment.objects.select_related("seller").order_by("id")
    if seller is not None:
        lines, parcels = lines.filter(seller=seller), parcels.filter(seller=seller)
    qs = qs.prefetch_related(Prefetch("lines", queryset=lines))
    return qs.prefetch_related(Prefetch("shipments", queryset=parcels)) if shipments else qs


def user_orders(user) -> QuerySet:
    return _with_lines(Order.objects.filter(user=user)).order_by("-created_at", "-id")


def user_order(user, number: str, *, shipments: bool = False) -> Order | None:
    """One of the user's orders (its shipments prefetched on request: the payment pages don't need them)."""
    return _with_lines(Order.objects.filter(user=user, number=number), shipments=shipments).first()


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
    order = user_order(user, number, shipments=True)
    if order is None and user.can_sell:
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


def addresses(user) -> list[SavedAddress]:
    return list(SavedAddress.objects.filter(user=user).order_by("-is_default", "-created_at", "-id"))


def address_initial(user, pk=None) -> dict:
    """What an address form starts with: the chosen saved address, else the default one, else the user's
    name and phone number (an auction win's pay page asks with this too)."""
    book = SavedAddress.objects.filter(user=user)
    chosen = (book.filter(pk=pk).first() if pk else None) or book.filter(is_default=True).first()
    if chosen is not None:
        from .services import ADDRESS_FIELDS

        return {k: getattr(chosen, k) for k in ADDRESS_FIELDS}
    return {"recipient": user.display_name, "phone": user.phone.as_national if user.phone else ""}
