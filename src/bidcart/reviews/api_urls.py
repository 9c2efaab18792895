from django.urls import path

from . import api

urlpatterns = [
    path("products/<str:slug>/reviews/", api.ProductReviewsView.as_view(), name="api-product-reviews"),
    path("reviews/<int:pk>/", api.ReviewView.as_view(), name="api-review"),
]
