from django.shortcuts import render

from bidcart.catalog import selectors as catalog_selectors


def home(request):
    return render(request, "web/home.html", {"featured": catalog_selectors.featured_products(8)})
