from . import selectors


def cart(request):
    """`cart_count`: units in the cart, for the header link. Register in TEMPLATES context_processors."""
    return {"cart_count": selectors.item_count(request)}
