"""The demo seed: each app may have a `demo.py` with `seed()`; each runs once per database."""

import importlib

from django.apps import apps
from django.db import IntegrityError, transaction

from .models import DemoSeed


def seed_all() -> list[str]:
    seeded = []
    for config in apps.get_app_configs():
        if not config.name.startswith("bidcart."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.demo":
                continue
            raise
        if DemoSeed.objects.filter(app=config.label).exists():
            continue
        try:
            with transaction.atomic():
                DemoSeed.objects.create(app=config.label)  # claims the seed: a second process stops here
                module.seed()
        except IntegrityError:
            continue
        seeded.append(config.label)
    return seeded
