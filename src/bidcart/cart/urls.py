from django.urls import path

from . import views

app_name = "cart"
urlpatterns = [
    path("", views.cart_page, name="cart"),
    path("add/", views.add, name="add"),
    path("items/<int:pk>/", views.update, name="update"),
]
