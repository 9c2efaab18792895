from django.urls import path

from . import api

urlpatterns = [
    path("orders/", api.OrdersView.as_view(), name="api-orders"),
    path("addresses/", api.AddressesView.as_view(), name="api-addresses"),
    path("addresses/<int:pk>/", api.AddressView.as_view(), name="api-address"),
    path("orders/manage/", api.ManagedOrdersView.as_view(), name="api-orders-manage"),
    path("orders/<str:number>/", api.OrderDetailView.as_view(), name="api-order"),
    path("orders/<str:number>/cancel/", api.CancelView.as_view(), name="api-order-cancel"),
    path("orders/<str:number>/status/", api.StatusView.as_view(), name="api-order-status"),
    path("orders/<str:number>/confirm/", api.ConfirmView.as_view(), name="api-order-confirm"),
]
