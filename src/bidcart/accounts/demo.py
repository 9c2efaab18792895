"""Demo accounts, created by the demo seed only (never by migrations)."""

from django.utils import timezone

from .models import User

DEMO_PASSWORD = "bidcart-demo"
DEMO_USERS = [
    # email, display name, phone, staff, seller
    ("admin@example.com", "관리자", "+821000000001", True, False),
    ("seller@example.com", "한빛상회", "+821000000002", False, True),  # a shop's name, as sellers have
    ("buyer@example.com", "구매자", "+821000000003", False, False),
    ("buyer2@example.com", "구매자2", "+821000000004", False, False),
]


def seed() -> None:
    now = timezone.now()
    for email, name, phone, staff, seller in DEMO_USERS:
        if User.objects.filter(email=email).exists():
            continue
        User.objects.create_user(
            email,
            DEMO_PASSWORD,
            display_name=name,
            phone=phone,
            is_staff=staff,
            is_superuser=staff,
            is_seller=seller,
            is_active=True,
            email_verified_at=now,
            phone_verified_at=now,
        )
