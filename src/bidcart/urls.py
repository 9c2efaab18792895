from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from bidcart.accounts import honeypot
from bidcart.accounts.views import set_language
from bidcart.core import media
from bidcart.core import views as core_views

api_v1 = [
    path("", include("bidcart.accounts.api_urls")),
    path("", include("bidcart.catalog.api_urls")),
    path("", include("bidcart.cart.api_urls")),
    path("", include("bidcart.orders.api_urls")),
    path("", include("bidcart.reviews.api_urls")),
    path("", include("bidcart.payments.api_urls")),
    path("", include("bidcart.subscriptions.api_urls")),
    path("", include("bidcart.auctions.api_urls")),
]

urlpatterns = [
    path("", include("bidcart.web.urls")),
    path("accounts/", include("bidcart.accounts.urls")),
    path("", include("bidcart.catalog.urls")),
    path("cart/", include("bidcart.cart.urls")),
    path("orders/", include("bidcart.orders.urls")),
    path("reviews/", include("bidcart.reviews.urls")),
    path("payments/", include("bidcart.payments.urls")),
    path("subscriptions/", include("bidcart.subscriptions.urls")),
    path("auctions/", include("bidcart.auctions.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("livez", core_views.livez, name="livez"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics_view, name="metrics"),
    path("i18n/setlang/", set_language, name="set_language"),
    path(settings.ADMIN_PATH, admin.site.urls),
    re_path(r"^admin(?:/(?P<path>.*))?$", honeypot.admin_login, name="admin-honeypot"),
    re_path(r"^api/.*$", core_views.api_not_found),
]

if settings.MEDIA_SERVE:  # local uploads, with safe types (core/media.py); object storage serves its own
    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", media.serve, name="media"))

handler404 = "bidcart.core.views.not_found"
handler500 = "bidcart.core.views.server_error"

admin.site.site_header = "bidcart"
admin.site.site_title = "bidcart admin"
