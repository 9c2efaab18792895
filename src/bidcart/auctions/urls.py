from django.urls import path

from . import views

app_name = "auctions"
urlpatterns = [
    path("", views.lot_list, name="list"),
    path("new/", views.lot_new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("mine/notices/read/", views.notices_read, name="notices_read"),
    path("offers/<int:pk>/", views.offer_respond, name="offer"),
    path("<int:pk>/", views.lot_detail, name="lot"),
    path("<int:pk>/bid/", views.bid, name="bid"),
    path("<int:pk>/buy-now/", views.buy_now, name="buy_now"),
    path("<int:pk>/watch/", views.watch, name="watch"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/relist/", views.relist, name="relist"),
]
