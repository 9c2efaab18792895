"""Celery at scale: beat sends `bidcart.tick` every second and a worker runs the due sweeps.

The embedded default runs the very same `jobs.tick` from a loop inside `bidcart run` instead.
"""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bidcart.settings")

app = Celery("bidcart")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = {"tick": {"task": "bidcart.tick", "schedule": 1.0, "options": {"expires": 5}}}


@setup_logging.connect
def _django_logging(**kwargs):
    """Workers and beat log like the web servers (settings.LOGGING: JSON lines with LOG_FORMAT=json)."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@app.task(name="bidcart.tick", ignore_result=True)
def tick() -> list[str]:
    from bidcart.core import jobs

    return jobs.tick()
