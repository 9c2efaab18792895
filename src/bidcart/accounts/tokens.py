"""Signed, single-use links for email verification (Django's token machinery, our own salt)."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """A link for confirming the email address.

    The hash covers `is_active` and `email_verified_at`, so once the link has been used (the account
    is activated and the time recorded) every earlier link stops working. Links expire after
    PASSWORD_RESET_TIMEOUT, like Django's password reset links.
    """

    key_salt = "bidcart.accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        verified = "" if user.email_verified_at is None else user.email_verified_at.replace(microsecond=0, tzinfo=None)
        return f"{user.pk}{user.email}{user.is_active}{verified}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()
