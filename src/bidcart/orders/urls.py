from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("", views.my_orders, name="mine"),
    path("checkout/", views.checkout, name="checkout"),
    path("manage/", views.manage, name="seller_orders"),
    path("addresses/", views.address_book, name="addresses"),
    path("addresses/<int:pk>/", views.address_action, name="address"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/cancel/", views.cancel, name="cancel"),
    path("<str:number>/status/", views.advance, name="advance"),
    path("<str:number>/confirm/", views.confirm, name="confirm"),
]
