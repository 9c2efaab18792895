from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control

from bidcart.catalog import selectors as catalog_selectors


def home(request):
    return render(request, "web/home.html", {"featured": catalog_selectors.featured_products(8)})


@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links; send them to the one icon (an SVG)."""
    return redirect(static("web/favicon.svg"), permanent=True)
