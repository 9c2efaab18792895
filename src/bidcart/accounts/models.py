from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from . import emails


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=emails.normalize_email(email), **extra)  # InvalidEmail is a ValueError
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, is_active=True)
        extra.setdefault("email_verified_at", timezone.now())
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": emails.lookup_form(username)})


class User(AbstractBaseUser, PermissionsMixin):
    """Email is the login. Inactive until the emailed verification link is opened."""

    email = models.EmailField(_("email"), unique=True)
    display_name = models.CharField(_("display name"), max_length=50)
    phone = PhoneNumberField(_("phone number"), blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    is_seller = models.BooleanField(_("seller"), default=False)
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=False)
    language = models.CharField(_("language"), max_length=8, default="ko")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # One verified phone number belongs to one account (an unverified number may be typed by several).
            models.UniqueConstraint(
                fields=["phone"],
                condition=models.Q(phone_verified_at__isnull=False) & ~models.Q(phone=""),
                name="accounts_verified_phone_once",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        """The admin's form too stores only the canonical address (accounts.emails)."""
        super().clean()
        try:
            self.email = emails.normalize_email(self.email)
        except emails.InvalidEmail as error:
            raise ValidationError({"email": error.message}, code=error.code) from None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def phone_verified(self) -> bool:
        return self.phone_verified_at is not None and bool(self.phone)

    @property
    def can_sell(self) -> bool:
        """Who may sell: the one rule the catalog and the auctions (services, pages, menus) ask.
        Sellers and staff; whether they must also be verified is each use case's own rule."""
        return self.is_seller or self.is_staff

    @property
    def is_verified(self) -> bool:
        """Email and phone both verified: what bidding and selling require."""
        return self.email_verified and self.phone_verified


class PhoneCode(models.Model):
    """A one-time code sent by SMS. Only a hash of the code is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phone_codes")
    phone = PhoneNumberField()
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("phone code")
        verbose_name_plural = _("phone codes")


class HoneypotAttempt(models.Model):
    """A login attempt on the fake /admin/: nobody legitimate goes there."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(unpack_ipv4=True, db_index=True)
    username = models.CharField(max_length=255, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("honeypot attempt")
        verbose_name_plural = _("honeypot attempts")

    def __str__(self) -> str:
        return f"{self.ip} {self.username!r} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class BlockedIP(models.Model):
    """An address blocked on every path after too many honeypot attempts; delete the row to unblock."""

    ip = models.GenericIPAddressField(unpack_ipv4=True, unique=True)
    blocked_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-blocked_at"]
        verbose_name = _("blocked IP")
        verbose_name_plural = _("blocked IPs")

    def __str__(self) -> str:
        return self.ip


class Consent(models.Model):
    """One item a user agreed to (or, for an optional one, declined) at sign-up: the item's key, the
    version of its text and when. Append-only: a later change of mind is a new row."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    item = models.CharField(_("item"), max_length=20)
    version = models.CharField(_("version"), max_length=20)
    agreed = models.BooleanField(_("agreed"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
