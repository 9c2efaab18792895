from django.urls import path

from . import api

urlpatterns = [
    path("cart/", api.CartView.as_view(), name="api-cart"),
    path("cart/items/", api.CartItemsView.as_view(), name="api-cart-items"),
    path("cart/items/<int:pk>/", api.CartItemView.as_view(), name="api-cart-item"),
]
