from django import template

register = template.Library()


@register.inclusion_tag("subscriptions/_subscribe_link.html")
def subscribe_link(product) -> dict:
    """On a product page: "subscribe" with the intervals offered, if the seller offers it. The plan comes with
    the product (catalog.selectors.product_detail selects it, cached with the page's data): no query here."""
    plan = getattr(product, "subscription_plan", None)
    return {"product": product, "plan": plan if plan is not None and plan.intervals else None}
