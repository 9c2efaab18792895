from django.urls import path

from . import views

app_name = "reviews"
urlpatterns = [
    path("write/<str:slug>/", views.write, name="write"),
    path("<int:pk>/edit/", views.edit, name="edit"),
]
