from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bidcart.core"
    label = "core"

    def ready(self) -> None:
        from . import deploy_checks, jobs  # noqa: F401  (deploy_checks registers `check --deploy`)

        jobs.autodiscover()
