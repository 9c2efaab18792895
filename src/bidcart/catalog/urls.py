from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("products/", views.product_list, name="products"),
    path("products/<str:slug>/", views.product_detail, name="product"),
    path("products/<str:slug>/wishlist/", views.wishlist_toggle, name="wishlist_toggle"),
    path("products/<str:slug>/restock-alert/", views.restock_alert, name="restock_alert"),
    path("wishlist/", views.wishlist, name="wishlist"),
    path("seller/", views.seller_dashboard, name="seller"),
    path("seller/products/new/", views.seller_product_new, name="seller_product_new"),
    path("seller/products/<int:pk>/", views.seller_product, name="seller_product"),
]
