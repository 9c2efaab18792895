from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("subscriptions/_subscribe_link.html")
def subscribe_link(product) -> dict:
    """On a product page: "subscribe" with the intervals offered, if the seller offers it."""
    return {"product": product, "plan": selectors.plan_for(product)}
