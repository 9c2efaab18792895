from django.urls import path

from . import views

app_name = "subscriptions"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/<int:product_id>/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("selling/", views.selling, name="selling"),
    path("selling/<int:product_id>/plan/", views.selling_plan, name="selling-plan"),
]
