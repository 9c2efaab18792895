from django.urls import path

from . import api

urlpatterns = [
    path("orders/<str:number>/payments/", api.OrderPaymentsView.as_view(), name="api-order-payments"),
    path("payments/<str:merchant_uid>/", api.PaymentDetailView.as_view(), name="api-payment"),
    path("payments/<str:merchant_uid>/confirm/", api.ConfirmPaymentView.as_view(), name="api-payment-confirm"),
    path("payments/<str:merchant_uid>/refunds/", api.RefundView.as_view(), name="api-payment-refunds"),
    path("payments/<str:merchant_uid>/refund-account/", api.RefundAccountView.as_view(), name="api-payment-refund-account"),
]
