"""Every write of the accounts app: one function per use case, transactional.

Views and API views parse input, call one of these, and render. Refusals are the kinds in `core.domain`
(Invalid, Conflict, Throttled, ...) with a stable `code`; `core.errors` answers them as JSON, pages show `detail`.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bidcart.core import ratelimit
from bidcart.core.domain import Conflict, DomainError, Invalid, Throttled, Unavailable
from bidcart.core.mail import send_user_email

from . import consents as consent_items
from . import emails, jwt, selectors
from .models import Consent, PhoneCode, User
from .sms import SMSError, send_sms
from .tokens import email_verification_token

logger = logging.getLogger(__name__)

# How often one address may ask for another verification email.


# --- helpers ---------------------------------------------------------------------------------------


def normalize_language(code: str | None) -> str:
    """One of settings.LANGUAGES ("ko-kr" → "ko"); the default language otherwise."""
    supported = [c for c, _name in settings.LANGUAGES]
    code = (code or "").lower()
    if code in supported:
        return code
    base = code.split("-")[0]
    return base if base in supported else settings.LANGUAGE_CODE


def _wait_error(seconds: int, code: str) -> DomainError:
    seconds = max(1, math.ceil(seconds))
    detail = ngettext(
        "Please wait %(seconds)d second before asking again.",
        "Please wait %(seconds)d seconds before asking again.",
        seconds,
    ) % {"seconds": seconds}
    error = Throttled(detail, code=code)
    error.retry_after = seconds  # Retry-After on the API
    return error


def _throttle(key: str, seconds: int, code: str = "throttled") -> None:
    """Allow one call per `seconds` for `key` (cache based); raise a "wait N seconds" error otherwise."""
    until = time.time() + seconds
    if cache.add(f"bidcart:throttle:{key}", until, timeout=seconds):
        return
    stored = cache.get(f"bidcart:throttle:{key}") or until
    raise _wait_error(stored - time.time(), code)


def _uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def _send_mail(user: User, template: str, context: dict) -> None:
    # A mail failure must not lose the account: the user can ask for a resend.
    send_user_email(user, f"accounts/email/{template}", context)


def revoke_refresh_tokens(user: User) -> None:
    """Blacklist every refresh token the user holds (after a password change or reset)."""
    jwt.revoke_all(user)


# --- sign-up and email verification ----------------------------------------------------------------


def check_consents(consents: dict) -> dict[str, bool]:
    """The sign-up's answers to every consent item; refused unless every required item is agreed."""
    answers = {item.key: consents.get(item.key) is True for item in consent_items.ITEMS}
    if not all(answers[key] for key in consent_items.REQUIRED):
        raise Invalid(_("Agree to the required terms to create an account."), code="consent_required")
    return answers


def signup(
    *,
    email: str,
    display_name: str,
    password: str,
    phone="",
    language: str = "",
    base_url: str,
    ip: str,
    consents: dict,
) -> User:
    """Create an inactive account and email it a verification link, recording each consent item with its
    version and time in the same transaction. `ip`: the caller's address, for RATE_LIMIT_SIGNUP."""
    answers = check_consents(consents)
    ratelimit.hit("signup", ip)
    try:
        email = emails.normalize_email(email)
    except emails.InvalidEmail as error:
        raise Invalid(error.message, code=error.code) from None
    taken = Conflict(_("An account with this email already exists."), code="email_taken")
    if User.objects.filter(email__iexact=email).exists():
        raise taken
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email,
                password,
                display_name=display_name.strip(),
                phone=phone or "",
                language=normalize_language(language),
                is_active=False,
            )
            now = timezone.now()
            Consent.objects.bulk_create(
                [
                    Consent(user=user, item=key, version=consent_items.BY_KEY[key].version, agreed=agreed, at=now)
                    for key, agreed in answers.items()
                ]
            )
    except IntegrityError:  # the same address signed up a moment ago
        raise taken from None
    send_verification_email(user, base_url)
    return user


def verification_link(user: User, base_url: str) -> str:
    token = email_verification_token.make_token(user)
    return base_url.rstrip("/") + reverse("accounts:verify_email", args=[_uid(user), token])


def send_verification_email(user: User, base_url: str) -> None:
    _send_mail(
        user,
        "verify_email",
        {
            "link": verification_link(user, base_url),
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            "resend_link": base_url.rstrip("/") + reverse("accounts:resend_verification"),
        },
    )


def resend_verification(email: str, base_url: str, *, ip: str | None) -> None:
    """Send a new link if the address belongs to an account still waiting; answer the same either way.

    Throttled per address whether or not it exists, so the throttle reveals nothing either; and per
    client address (RATE_LIMIT_EMAIL), so nobody mails a list of strangers from one place.
    """
    ratelimit.hit("email", ip)
    email = emails.lookup_form(email)
    _throttle(f"verify-email:{email}", settings.VERIFICATION_RESEND_SECONDS)
    user = selectors.user_by_email(email)
    if user is not None and not user.is_active and user.email_verified_at is None:
        send_verification_email(user, base_url)


def verify_email(uidb64: str, token: str) -> User:
    """Activate the account the link was made for. A link works once, until it expires."""
    with transaction.atomic():
        user = selectors.user_from_uidb64(uidb64)
        if user is not None:
            user = User.objects.select_for_update().get(pk=user.pk)
        if user is None or not email_verification_token.check_token(user, token):
            raise Invalid(
                _("This verification link is invalid, expired or already used."),
                code="token_invalid",
            )
        user.is_active = True
        user.email_verified_at = timezone.now()
        user.save(update_fields=["is_active", "email_verified_at"])
    return user


# --- profile and passwords -------------------------------------------------------------------------

PROFILE_FIELDS = ("display_name", "phone", "language")


def update_profile(user: User, **changes) -> User:
    """Change display name, phone or language. A new phone number has to be verified again."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        fields = []
        if "display_name" in changes:
            user.display_name = changes["display_name"].strip()
            fields.append("display_name")
        if "language" in changes:
            user.language = normalize_language(changes["language"])
            fields.append("language")
        if "phone" in changes:
            new_phone = changes["phone"] or ""
            if str(new_phone) != str(user.phone or ""):
                user.phone = new_phone
                user.phone_verified_at = None
                fields += ["phone", "phone_verified_at"]
        if fields:
            user.save(update_fields=fields)
    return user


def change_password(user: User, *, old_password: str, new_password: str) -> User:
    """Set a new password after checking the old one; other sessions' API tokens are revoked."""
    if not user.check_password(old_password):
        raise Invalid(
            _("Your old password was entered incorrectly."),
            code="password_incorrect",
        )
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoke_refresh_tokens(user)
    return user


def request_password_reset(email: str, base_url: str, *, ip: str | None) -> None:
    """Email a reset link to an active account with that address; silent otherwise. Limited like
    `resend_verification`."""
    ratelimit.hit("email", ip)
    email = emails.lookup_form(email)
    _throttle(f"password-reset:{email}", settings.VERIFICATION_RESEND_SECONDS)
    user = selectors.user_by_email(email)
    if user is None or not user.is_active or not user.has_usable_password():
        return
    token = default_token_generator.make_token(user)
    link = base_url.rstrip("/") + reverse("accounts:password_reset_confirm", args=[_uid(user), token])
    _send_mail(user, "password_reset", {"link": link, "uid": _uid(user), "token": token})


def reset_password(uidb64: str, token: str, new_password: str) -> User:
    """Set the password from a reset link; the link then stops working (the password hash changed)."""
    with transaction.atomic():
        user = selectors.user_from_uidb64(uidb64)
        if user is None or not default_token_generator.check_token(user, token):
            raise Invalid(
                _("This password reset link is invalid, expired or already used."),
                code="token_invalid",
            )
        set_password(user, new_password)
    return user


def set_password(user: User, new_password: str) -> User:
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoke_refresh_tokens(user)
    return user


def logout_refresh_token(refresh: str) -> None:
    """Blacklist an API refresh token so it can't mint access tokens any more."""
    if not jwt.revoke(refresh):
        raise Invalid(_("The token is invalid or expired."), code="token_invalid")


# --- phone verification ----------------------------------------------------------------------------


def _code_hash(user_id: int, phone: str, code: str) -> str:
    return salted_hmac("bidcart.accounts.phone-code", f"{user_id}:{phone}:{code}", algorithm="sha256").hexdigest()


def _phone_taken() -> DomainError:
    return Conflict(
        _("This phone number is already verified on another account. One number can verify only one account."),
        code="phone_taken",
    )


def request_phone_code(user: User) -> PhoneCode:
    """Text a fresh 6-digit code to the user's phone; one request per OTP_RESEND_SECONDS."""
    if not user.phone:
        raise Invalid(_("Add a phone number to your profile first."), code="phone_missing")
    if user.phone_verified:
        raise Conflict(_("Your phone number is already verified."), code="phone_already_verified")
    if selectors.phone_verified_elsewhere(user, user.phone):  # no text (it costs money) for a number that can't verify
        raise _phone_taken()
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    wait = None
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one request at a time per user
        last = selectors.last_phone_code(user)
        if last is not None:
            elapsed = (now - last.created_at).total_seconds()
            if elapsed < settings.OTP_RESEND_SECONDS:
                wait = settings.OTP_RESEND_SECONDS - elapsed
        if wait is None:
            ratelimit.hit("otp", user.pk)  # texts cost money: a cap per user besides the wait between two
            phone_code = PhoneCode.objects.create(
                user=user,
                phone=user.phone,
                code_hash=_code_hash(user.pk, str(user.phone), code),
                created_at=now,
                expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
            )
    if wait is not None:
        raise _wait_error(wait, "otp_throttled")
    with translation.override(user.language or settings.LANGUAGE_CODE):
        text = _("[bidcart] Your verification code is %(code)s. It expires in %(minutes)d minutes.") % {
            "code": code,
            "minutes": settings.OTP_TTL_SECONDS // 60,
        }
    try:
        send_sms(user.phone.as_e164, text)
    except SMSError:
        logger.exception("SMS to user %s failed", user.pk)
        phone_code.delete()  # the person never got it: don't let it count against the resend throttle
        raise Unavailable(
            _("We could not send the text message. Please try again in a moment."),
            code="sms_unavailable",
        ) from None
    return phone_code


def verify_phone_code(user: User, code: str) -> User:
    """Check the code; right → the phone is verified. Each wrong try counts; after the last, the code is dead."""
    code = (code or "").strip()
    now = timezone.now()
    error = None
    with transaction.atomic():
        phone_code = selectors.current_phone_code(user)
        if phone_code is not None:
            phone_code = PhoneCode.objects.select_for_update().get(pk=phone_code.pk)
        if phone_code is None:
            error = Invalid(_("Ask for a code first."), code="otp_missing")
        elif phone_code.attempts >= settings.OTP_MAX_ATTEMPTS:
            error = _too_many()
        elif phone_code.expires_at <= now:
            error = Invalid(_("This code has expired. Ask for a new one."), code="otp_expired")
        elif constant_time_compare(phone_code.code_hash, _code_hash(user.pk, str(phone_code.phone), code)):
            if selectors.phone_verified_elsewhere(user, phone_code.phone):
                error = _phone_taken()  # the code stays unused: nothing is written
            else:
                try:  # the database's accounts_verified_phone_once decides a race between two accounts
                    with transaction.atomic():
                        User.objects.filter(pk=user.pk).update(phone_verified_at=now)
                except IntegrityError:
                    error = _phone_taken()
                else:
                    phone_code.used_at = now
                    phone_code.save(update_fields=["used_at"])
                    user.phone_verified_at = now
        else:
            phone_code.attempts += 1
            phone_code.save(update_fields=["attempts"])
            left = settings.OTP_MAX_ATTEMPTS - phone_code.attempts
            if left <= 0:
                error = _too_many()
            else:
                error = Invalid(
                    ngettext(
                        "The code is not correct. %(left)d try left.",
                        "The code is not correct. %(left)d tries left.",
                        left,
                    )
                    % {"left": left},
                    code="otp_invalid",
                )
    if error is not None:  # raised after the block so the counted try is kept
        raise error
    return user


def _too_many() -> DomainError:
    return Throttled(
        _("Too many wrong tries: this code no longer works. Ask for a new one."),
        code="otp_too_many_attempts",
    )
