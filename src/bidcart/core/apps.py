from axes.apps import AppConfig as _AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "bidcart.core"
    label = "core"

    def ready(self) -> None:
        from . import deploy_checks, jobs, ratelimit  # noqa: F401  (they register system checks)

        jobs.autodiscover()


class AxesConfig(_AxesAppConfig):
    """django-axes under a name staff can read: it has no verbose_name, so the admin showed "Axes" in Korean too."""

    verbose_name = _("Login protection")
