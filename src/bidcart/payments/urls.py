from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("pay/<str:number>/", views.pay, name="pay"),
    path("return/<str:merchant_uid>/", views.return_, name="return"),
    path("cancel/<str:merchant_uid>/", views.cancel, name="cancel"),
    path("fail/<str:merchant_uid>/", views.fail, name="fail"),
    path("webhooks/<str:provider>/", views.webhook, name="webhook"),
    path("refund-account/<str:merchant_uid>/", views.refund_account, name="refund-account"),
    path("methods/", views.methods, name="methods"),
    path("methods/<int:pk>/return/", views.method_return, name="method-return"),
]
