"""Reads that pages and the API share."""

from __future__ import annotations

from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from bidcart.core import numbers

from . import emails
from .models import PhoneCode, User


def user_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=emails.lookup_form(email)).first()


def user_from_uidb64(uidb64: str) -> User | None:
    try:
        pk = numbers.optional_id(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, UnicodeDecodeError):
        return None
    return User.objects.filter(pk=pk).first() if pk else None


def inactive_user_with_password(email: str, password: str) -> User | None:
    """The not-yet-verified account these credentials belong to (to say "verify your email first")."""
    user = User.objects.filter(email__iexact=emails.lookup_form(email), is_active=False).first()
    if user and password and user.check_password(password):
        return user
    return None


def current_phone_code(user: User) -> PhoneCode | None:
    """The newest unused code sent to the user's current number."""
    if not user.phone:
        return None
    return (
        PhoneCode.objects.filter(user=user, phone=user.phone, used_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )


def last_phone_code(user: User) -> PhoneCode | None:
    return PhoneCode.objects.filter(user=user).order_by("-created_at", "-pk").first()


def phone_verified_elsewhere(user: User, phone) -> bool:
    """Another account has verified this number (one verified number belongs to one account)."""
    return (
        bool(phone) and User.objects.filter(phone=phone, phone_verified_at__isnull=False).exclude(pk=user.pk).exists()
    )
