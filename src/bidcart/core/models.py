from django.db import models
from django.utils import timezone


class DemoSeed(models.Model):
    """Marks an app's demo data as seeded, so a restart never seeds it again (or over user edits)."""

    app = models.CharField(max_length=100, unique=True)
    seeded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.app
