from django.urls import path

from . import api

urlpatterns = [
    path("lots/", api.LotListView.as_view(), name="api-lots"),
    path("lots/my-bids/", api.MyBidsView.as_view(), name="api-my-bids"),
    path("lots/<int:pk>/", api.LotDetailView.as_view(), name="api-lot"),
    path("lots/<int:pk>/bids/", api.BidsView.as_view(), name="api-lot-bids"),
    path("lots/<int:pk>/my-bid/", api.MyBidView.as_view(), name="api-lot-my-bid"),
    path("lots/<int:pk>/buy-now/", api.BuyNowView.as_view(), name="api-lot-buy-now"),
    path("lots/<int:pk>/cancel/", api.CancelView.as_view(), name="api-lot-cancel"),
    path("lots/<int:pk>/relist/", api.RelistView.as_view(), name="api-lot-relist"),
    path("lots/<int:pk>/watch/", api.WatchView.as_view(), name="api-lot-watch"),
    path("lots/<int:pk>/chat/", api.ChatView.as_view(), name="api-lot-chat"),
    path("lots/<int:pk>/chat/<int:message_id>/report/", api.ReportView.as_view(), name="api-lot-chat-report"),
    path("second-chance-offers/", api.OffersView.as_view(), name="api-offers"),
    path("second-chance-offers/<int:pk>/accept/", api.OfferAcceptView.as_view(), name="api-offer-accept"),
    path("second-chance-offers/<int:pk>/decline/", api.OfferDeclineView.as_view(), name="api-offer-decline"),
]
