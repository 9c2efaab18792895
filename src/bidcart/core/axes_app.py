"""django-axes under a name staff can read. Its AppConfig has no verbose_name, so the admin showed "Axes"
in Korean too. Kept out of core/apps.py: a second AppConfig there would stop Django picking CoreConfig."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    verbose_name = _("Login protection")
