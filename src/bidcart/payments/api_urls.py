from django.urls import path

from . import api, methods_api

urlpatterns = [
    path("orders/<str:number>/payments/", api.OrderPaymentsView.as_view(), name="api-order-payments"),
    path("payments/<str:merchant_uid>/", api.PaymentDetailView.as_view(), name="api-payment"),
    path("payments/<str:merchant_uid>/confirm/", api.ConfirmPaymentView.as_view(), name="api-payment-confirm"),
    path("payments/<str:merchant_uid>/refunds/", api.RefundView.as_view(), name="api-payment-refunds"),
    path(
        "payments/<str:merchant_uid>/refund-account/",
        api.RefundAccountView.as_view(),
        name="api-payment-refund-account",
    ),
    path("orders/<str:number>/payments/saved/", methods_api.ChargeSavedView.as_view(), name="api-order-charge-saved"),
    path("payment-methods/", methods_api.MethodsView.as_view(), name="api-payment-methods"),
    path("payment-methods/<int:pk>/", methods_api.MethodDetailView.as_view(), name="api-payment-method"),
    path(
        "payment-methods/<int:pk>/confirm/", methods_api.ConfirmMethodView.as_view(), name="api-payment-method-confirm"
    ),
    path(
        "payment-methods/<int:pk>/default/", methods_api.DefaultMethodView.as_view(), name="api-payment-method-default"
    ),
]
