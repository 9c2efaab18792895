from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bidcart.core"
    label = "core"

    def ready(self) -> None:
        from . import deploy_checks, jobs, ratelimit  # noqa: F401  (they register system checks)

        jobs.autodiscover()
