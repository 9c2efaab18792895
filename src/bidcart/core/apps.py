from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bidcart.core"
    label = "core"

    def ready(self) -> None:
        from . import jobs

        jobs.autodiscover()
