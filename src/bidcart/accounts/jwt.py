"""The API's JWTs, bound to the password they were issued under.

Every token carries a `pwd` claim: a keyed hash of the user's password hash at the time of login. A password
change or reset changes the password hash, so every access token issued before it is refused at once (not
5 minutes later, when it would have expired), over the API and on the live room's WebSocket alike; the
refresh tokens are blacklisted by the password services as before. No table and no migration: the user's
own row is the deny-list.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.crypto import constant_time_compare, salted_hmac
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

PASSWORD_CLAIM = "pwd"


def password_stamp(user) -> str:
    return salted_hmac("bidcart.accounts.jwt.password", user.password or "", algorithm="sha256").hexdigest()[:24]


def stamp_matches(user, token) -> bool:
    return constant_time_compare(str(token.get(PASSWORD_CLAIM, "")), password_stamp(user))


def token_pair(user) -> dict:
    """A refresh token and its access token; both carry the password stamp (simplejwt copies the refresh
    token's claims into each access token it mints)."""
    refresh = RefreshToken.for_user(user)
    refresh[PASSWORD_CLAIM] = password_stamp(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def access_token_for(user) -> AccessToken:
    """A stamped access token alone (tools and tests that act as a user without logging in)."""
    token = AccessToken.for_user(user)
    token[PASSWORD_CLAIM] = password_stamp(user)
    return token


def revoke(refresh: str) -> bool:
    """Blacklist one refresh token so it can't mint access tokens any more; False when it is not a valid one."""
    try:
        RefreshToken(refresh).blacklist()
    except TokenError:
        return False
    return True


def revoke_all(user) -> None:
    """Blacklist every refresh token the user holds."""
    for token in OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True):
        BlacklistedToken.objects.get_or_create(token=token)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's `Authorization: Bearer …`, refusing a token issued before the user's last password change."""

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if not stamp_matches(user, validated_token):
            raise AuthenticationFailed(
                "The token was issued before a password change; log in again.", code="token_revoked"
            )
        return user


def user_for_access_token(raw: str):
    """The active user an access token (as sent by a WebSocket client) belongs to, or None when it is
    invalid, expired, or older than the user's password."""
    try:
        token = AccessToken(raw)
    except (TokenError, InvalidToken):
        return None
    user = get_user_model().objects.filter(pk=token.get("user_id"), is_active=True).first()
    if user is None or not stamp_matches(user, token):
        return None
    user.jwt_stamp = token.get(PASSWORD_CLAIM)  # the live room re-checks it against the row later
    return user


class BidcartJWTScheme(SimpleJWTScheme):
    """The OpenAPI schema's bearer scheme for the subclass above."""

    target_class = "bidcart.accounts.jwt.JWTAuthentication"
