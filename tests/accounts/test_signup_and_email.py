"""Sign-up, email verification (single use, expiry, resend) on pages and API."""

from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail

from bidcart.accounts.models import User
from bidcart.accounts.tokens import (
    EmailVerificationTokenGenerator,
    email_verification_token,
)

from .conftest import AGREED, AGREED_FORM, PASSWORD, last_link, uid_token

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "New.Person@Example.com",
    "display_name": "새 사람",
    "phone": "010-1234-5678",
    "password1": PASSWORD,
    "password2": PASSWORD,
    **AGREED_FORM,
}


def test_signup_page_creates_inactive_account_and_emails_html_and_text_link(client):
    response = client.post("/accounts/signup/", SIGNUP, HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 302
    assert response.url == "/accounts/signup/done/"
    user = User.objects.get()
    assert user.email == "new.person@example.com"
    assert not user.is_active and user.email_verified_at is None
    assert str(user.phone) == "+821012345678" and user.phone_verified_at is None
    assert user.language == "ko"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.com"]
    assert "이메일" in message.subject  # Korean, the language the person signed up in
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    link = last_link()
    assert link in html
    done = client.get(response.url)
    assert "new.person@example.com" in done.content.decode()


def test_signup_in_english_sends_english_email(client):
    client.post("/accounts/signup/", SIGNUP, HTTP_ACCEPT_LANGUAGE="en")
    assert User.objects.get().language == "en"
    assert mail.outbox[0].subject == "[bidcart] Confirm your email address"
    assert "Open this link to confirm" in mail.outbox[0].body


def test_signup_page_validation_errors(client, make_user):
    make_user("taken@example.com")
    bad = {**SIGNUP, "email": "TAKEN@example.com", "password2": "something-else-77", "phone": "12"}
    response = client.post("/accounts/signup/", bad, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-email"' in html and "already exists" in html
    assert 'data-testid="error-password2"' in html
    assert 'data-testid="error-phone"' in html
    weak = client.post(
        "/accounts/signup/", {**SIGNUP, "password1": "12345678", "password2": "12345678"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert weak.status_code == 400 and 'data-testid="error-password1"' in weak.content.decode()
    assert User.objects.count() == 1 and not mail.outbox


def test_verification_link_activates_once_then_shows_resend_page(client):
    client.post("/accounts/signup/", SIGNUP)
    link = last_link()
    # inactive: login is refused with a message that offers the resend link
    refused = client.post(
        "/accounts/login/", {"email": SIGNUP["email"], "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 400
    assert 'data-testid="login-inactive"' in refused.content.decode()
    assert "/accounts/verify-email/resend/?email=new.person%40example.com" in refused.content.decode()

    opened = client.get(link)
    assert opened.status_code == 200
    assert 'data-testid="verify-email-done"' in opened.content.decode()
    user = User.objects.get()
    assert user.is_active and user.email_verified_at is not None

    again = client.get(link)
    assert again.status_code == 400
    assert 'data-testid="verify-email-invalid"' in again.content.decode()
    assert 'data-testid="resend-form"' in again.content.decode()

    logged_in = client.post("/accounts/login/", {"email": SIGNUP["email"], "password": PASSWORD})
    assert logged_in.status_code == 302
    home = client.get("/")
    assert 'data-testid="home-greeting"' in home.content.decode()


def test_expired_verification_link_is_refused(client, make_user):
    user = make_user("late@example.com", active=False)
    long_ago = datetime.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with mock.patch.object(EmailVerificationTokenGenerator, "_now", return_value=long_ago):
        token = email_verification_token.make_token(user)
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(str(user.pk).encode())
    response = client.get(f"/accounts/verify-email/{uid}/{token}/")
    assert response.status_code == 400
    assert 'data-testid="verify-email-invalid"' in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active
    # a fresh link made now works
    fresh = email_verification_token.make_token(user)
    assert client.get(f"/accounts/verify-email/{uid}/{fresh}/").status_code == 200


def test_garbage_link_is_a_clear_400_not_a_500(client):
    assert client.get("/accounts/verify-email/zzz/abc-def/").status_code == 400
    assert client.get("/accounts/verify-email/MTIzNDU2Nzg5/abc-def/").status_code == 400


def test_resend_page_sends_a_new_link_and_is_throttled(client):
    client.post("/accounts/signup/", SIGNUP)
    mail.outbox.clear()
    form = client.get("/accounts/verify-email/resend/?email=new.person%40example.com")
    assert 'value="new.person@example.com"' in form.content.decode()
    response = client.post("/accounts/verify-email/resend/", {"email": "new.person@example.com"}, follow=True)
    assert response.status_code == 200 and len(mail.outbox) == 1
    too_soon = client.post(
        "/accounts/verify-email/resend/", {"email": "new.person@example.com"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert too_soon.status_code == 429
    assert "Please wait" in too_soon.content.decode() and 'data-testid="form-errors"' in too_soon.content.decode()
    assert len(mail.outbox) == 1
    # the new link works
    client.get(last_link())
    assert User.objects.get().is_active


def test_resend_for_active_or_unknown_address_sends_nothing(client, make_user):
    make_user("active@example.com")
    for email in ("active@example.com", "nobody@example.com"):
        response = client.post("/accounts/verify-email/resend/", {"email": email})
        assert response.status_code == 302
    assert not mail.outbox


# --- API -------------------------------------------------------------------------------------------


def test_api_signup_verify_and_login(api):
    response = api.post(
        "/api/v1/auth/signup/",
        {"email": "app@example.com", "display_name": "App", "password": PASSWORD, "language": "en", "consents": AGREED},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "app@example.com" and body["email_verified"] is False and body["is_seller"] is False
    assert mail.outbox[0].subject == "[bidcart] Confirm your email address"

    inactive = api.post("/api/v1/auth/token/", {"email": "app@example.com", "password": PASSWORD}, format="json")
    assert inactive.status_code == 403 and inactive.json()["code"] == "account_inactive"

    uid, token = uid_token(last_link())
    verified = api.post("/api/v1/auth/verify-email/", {"uid": uid, "token": token}, format="json")
    assert verified.status_code == 200
    reused = api.post("/api/v1/auth/verify-email/", {"uid": uid, "token": token}, format="json")
    assert reused.status_code == 400 and reused.json()["code"] == "token_invalid"

    tokens = api.post("/api/v1/auth/token/", {"email": "APP@example.com", "password": PASSWORD}, format="json")
    assert tokens.status_code == 200 and set(tokens.json()) == {"access", "refresh"}


def test_api_signup_errors(api, make_user):
    make_user("taken@example.com")
    taken = api.post(
        "/api/v1/auth/signup/",
        {"email": "Taken@example.com", "display_name": "x", "password": PASSWORD, "consents": AGREED},
        format="json",
    )
    assert taken.status_code == 409 and taken.json()["code"] == "email_taken"
    weak = api.post(
        "/api/v1/auth/signup/",
        {"email": "w@example.com", "display_name": "w", "password": "123", "consents": AGREED},
        format="json",
    )
    assert weak.status_code == 400 and "password" in weak.json()["errors"]
    unknown = api.post(
        "/api/v1/auth/signup/",
        {"email": "u@example.com", "display_name": "u", "password": PASSWORD, "is_staff": True},
        format="json",
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"]["is_staff"][0]["code"] == "unknown_field"
    assert not User.objects.filter(email__in=["w@example.com", "u@example.com"]).exists()


def test_api_resend_answers_the_same_whether_or_not_the_address_exists(api, make_user):
    make_user("waiting@example.com", active=False)
    exists = api.post("/api/v1/auth/resend-verification/", {"email": "waiting@example.com"}, format="json")
    missing = api.post("/api/v1/auth/resend-verification/", {"email": "ghost@example.com"}, format="json")
    assert exists.status_code == missing.status_code == 202
    assert exists.json() == missing.json()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["waiting@example.com"]
    again = api.post("/api/v1/auth/resend-verification/", {"email": "waiting@example.com"}, format="json")
    assert again.status_code == 429 and again.json()["code"] == "throttled"
    assert len(mail.outbox) == 1


def test_api_verify_email_strict_fields(api):
    response = api.post("/api/v1/auth/verify-email/", {"uid": "x", "token": "y", "extra": 1}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert response.json()["errors"]["extra"][0]["code"] == "unknown_field"


def test_link_just_inside_the_validity_window_still_works(api, make_user):
    user = make_user("edge@example.com", active=False)
    recent = datetime.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 120)
    with mock.patch.object(EmailVerificationTokenGenerator, "_now", return_value=recent):
        token = email_verification_token.make_token(user)
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(str(user.pk).encode())
    response = api.post("/api/v1/auth/verify-email/", {"uid": uid, "token": token}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.is_active


def test_expired_link_via_api(api, make_user):
    user = make_user("late@example.com", active=False)
    long_ago = datetime.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    with mock.patch.object(EmailVerificationTokenGenerator, "_now", return_value=long_ago):
        token = email_verification_token.make_token(user)
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(str(user.pk).encode())
    response = api.post("/api/v1/auth/verify-email/", {"uid": uid, "token": token}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "token_invalid"


def test_a_deactivated_account_cannot_reactivate_itself(client, make_user):
    """An account staff switched off keeps its verified time: old links are dead and no new one is sent."""
    user = make_user("banned@example.com", active=False)
    old_token = email_verification_token.make_token(user)
    client.get(f"/accounts/verify-email/{_uid(user)}/{old_token}/")
    user.refresh_from_db()
    assert user.is_active
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get(f"/accounts/verify-email/{_uid(user)}/{old_token}/").status_code == 400
    client.post("/accounts/verify-email/resend/", {"email": "banned@example.com"})
    assert not mail.outbox
    user.refresh_from_db()
    assert not user.is_active


def _uid(user):
    from django.utils.http import urlsafe_base64_encode

    return urlsafe_base64_encode(str(user.pk).encode())


# --- 약관 동의 ---------------------------------------------------------------------------------------


def test_signup_needs_the_required_consents_and_stores_each_with_its_version_and_time(client, api):
    from bidcart.accounts import consents
    from bidcart.accounts.models import Consent

    missing = {k: v for k, v in SIGNUP.items() if k != "consent_privacy"}
    response = client.post("/accounts/signup/", missing, HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 400 and 'data-testid="error-consent_privacy"' in response.content.decode()
    assert "동의" in response.content.decode()
    refused = api.post(
        "/api/v1/auth/signup/",
        {
            "email": "app@example.com",
            "display_name": "App",
            "password": PASSWORD,
            "consents": {"terms": True, "age": True},
        },
        format="json",
    )
    assert refused.status_code == 400 and refused.json()["code"] == "consent_required"
    unknown = api.post(
        "/api/v1/auth/signup/",
        {
            "email": "app@example.com",
            "display_name": "App",
            "password": PASSWORD,
            "consents": {**AGREED, "everything": True},
        },
        format="json",
    )
    assert unknown.status_code == 400 and "consents" in unknown.json()["errors"]
    assert not User.objects.exists() and not mail.outbox

    client.post("/accounts/signup/", {**SIGNUP, "consent_marketing": "on"})
    api.post(
        "/api/v1/auth/signup/",
        {"email": "app@example.com", "display_name": "App", "password": PASSWORD, "consents": AGREED},
        format="json",
    )
    page_user, api_user = User.objects.get(email="new.person@example.com"), User.objects.get(email="app@example.com")
    assert dict(Consent.objects.filter(user=page_user).values_list("item", "agreed")) == {
        "terms": True,
        "privacy": True,
        "age": True,
        "marketing": True,
    }
    assert dict(Consent.objects.filter(user=api_user).values_list("item", "agreed"))["marketing"] is False
    for consent in Consent.objects.all():
        assert consent.version == consents.BY_KEY[consent.item].version and consent.at is not None
