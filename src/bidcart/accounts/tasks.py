from datetime import timedelta

from django.utils import timezone

from bidcart.core.jobs import sweep

from .models import PhoneCode


@sweep(every=600)
def purge_stale_phone_codes() -> None:
    """One-time codes are worthless a day after they expire; keep the table small."""
    PhoneCode.objects.filter(expires_at__lt=timezone.now() - timedelta(days=1)).delete()
