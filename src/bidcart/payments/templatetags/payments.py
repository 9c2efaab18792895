"""`{% order_payments order %}`: the payments and refunds of an order, and the pay button while it
awaits payment (used by the order page, which needn't import the payments app)."""

from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("payments/_order_block.html", takes_context=True)
def order_payments(context, order):
    buyer = context["request"].user.pk == order.user_id
    return {"order": order, "payments": selectors.order_payments(order), "can_pay": buyer and order.is_payable,
            "is_buyer": buyer, "csrf_token": context.get("csrf_token")}
