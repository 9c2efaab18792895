from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuctionsConfig(AppConfig):
    name = "bidcart.auctions"
    label = "auctions"
    verbose_name = _("Auctions")

    def ready(self):
        from . import signals  # noqa: F401  (live-room sockets re-check their sign-in on logout / password change)
