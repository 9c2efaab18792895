from django.urls import path

from . import api

urlpatterns = [
    path("subscriptions/", api.SubscriptionsView.as_view(), name="api-subscriptions"),
    path("subscriptions/schedule/", api.ScheduleView.as_view(), name="api-subscription-schedule"),
    path("subscriptions/plans/<int:product_id>/", api.PlanView.as_view(), name="api-subscription-plan"),
    path("subscriptions/<int:pk>/", api.SubscriptionDetailView.as_view(), name="api-subscription"),
    path("subscriptions/<int:pk>/skip/", api.SkipView.as_view(), name="api-subscription-skip"),
    path("subscriptions/<int:pk>/pause/", api.PauseView.as_view(), name="api-subscription-pause"),
    path("subscriptions/<int:pk>/resume/", api.ResumeView.as_view(), name="api-subscription-resume"),
    path("subscriptions/<int:pk>/cancel/", api.CancelView.as_view(), name="api-subscription-cancel"),
    path("subscriptions/<int:pk>/next-date/", api.NextDateView.as_view(), name="api-subscription-next-date"),
    path("subscriptions/<int:pk>/method/", api.ChangeMethodView.as_view(), name="api-subscription-method"),
]
