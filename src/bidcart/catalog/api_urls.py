from django.urls import path

from . import api

urlpatterns = [
    path("products/", api.ProductListView.as_view(), name="api-products"),
    path("products/<str:slug>/", api.ProductDetailView.as_view(), name="api-product"),
    path("categories/", api.CategoryListView.as_view(), name="api-categories"),
    path("wishlist/", api.WishlistView.as_view(), name="api-wishlist"),
    path("wishlist/<str:slug>/", api.WishlistItemView.as_view(), name="api-wishlist-item"),
    path("restock-alerts/", api.RestockAlertsView.as_view(), name="api-restock-alerts"),
]
