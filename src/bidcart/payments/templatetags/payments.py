"""`{% order_payments order %}`: the payments and refunds of an order, and the pay button while it
awaits payment (used by the order page, which needn't import the payments app)."""

from django import template

from .. import selectors
from ..models import Status

register = template.Library()


@register.inclusion_tag("payments/_order_block.html", takes_context=True)
def order_payments(context, order):
    buyer = context["request"].user.pk == order.user_id
    payments = selectors.order_payments(order)
    if not order.is_payable:
        # Once the order is settled, a payment the buyer started and walked away from is no longer
        # "awaiting the buyer": it isn't listed (staff still see every attempt in the admin).
        payments = [p for p in payments if p.status not in (Status.CREATED, Status.PENDING)]
    return {
        "order": order,
        "payments": payments,
        "can_pay": buyer and order.is_payable,
        "is_buyer": buyer,
        "csrf_token": context.get("csrf_token"),
    }
